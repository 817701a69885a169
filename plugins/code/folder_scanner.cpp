#include "folder_scanner.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QSet>
#include <algorithm>

#ifdef Q_OS_UNIX
#include <dirent.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#endif

#include "gitignore.h"
#include "text_decoding.h"

namespace sambalens {

namespace {

QString humanBytes(qint64 bytes) {
  if (bytes >= 1024 * 1024) return QStringLiteral("%1 MiB").arg(double(bytes) / (1024 * 1024), 0, 'f', 1);
  if (bytes >= 1024) return QStringLiteral("%1 KiB").arg(double(bytes) / 1024, 0, 'f', 1);
  return QStringLiteral("%1 bytes").arg(bytes);
}

// Folder names skipped by default, with the reason shown in the preview.
const QList<QPair<QStringList, QString>>& defaultFolderNames() {
  static const QList<QPair<QStringList, QString>> names = {
      {{".hg", ".svn", ".bzr", "_darcs", "CVS"}, QStringLiteral("version control metadata")},
      {{"node_modules", "bower_components", "jspm_packages"},
       QStringLiteral("installed dependencies")},
      {{"__pycache__", ".mypy_cache", ".pytest_cache", ".ruff_cache", ".tox", ".nox", ".eggs"},
       QStringLiteral("tool cache")},
      {{".venv", "venv"}, QStringLiteral("Python virtual environment")},
      {{"build", "builds", "dist", "out", "target", "_build", ".build", ".gradle", ".next",
        ".nuxt", ".parcel-cache", ".cache", ".terraform", "DerivedData"},
       QStringLiteral("build output")},
      {{"vendor", "third_party", "third-party", "thirdparty", "3rdparty"},
       QStringLiteral("vendored code")},
      {{".idea", ".vs"}, QStringLiteral("editor settings")},
  };
  return names;
}

// File names and suffixes skipped by default: generated, not written.
QString defaultFileExclusion(const QString& name) {
  static const QSet<QString> lockFiles = {"package-lock.json", "yarn.lock", "pnpm-lock.yaml",
                                          "Cargo.lock", "poetry.lock", "composer.lock",
                                          "Gemfile.lock", "go.sum"};
  if (lockFiles.contains(name)) return QStringLiteral("lock file (generated)");
  if (name.endsWith(QLatin1String(".min.js")) || name.endsWith(QLatin1String(".min.css")) ||
      name.endsWith(QLatin1String(".js.map")) || name.endsWith(QLatin1String(".css.map"))) {
    return QStringLiteral("minified or generated");
  }
  if (name == QLatin1String(".DS_Store") || name == QLatin1String("Thumbs.db")) {
    return QStringLiteral("system file");
  }
  return {};
}

// The working tree that contains `root` (a folder with .git) when `root`
// lies below it, so the .gitignore files above `root` apply as git would
// apply them.
QString enclosingRepositoryTop(const QString& root) {
  QDir dir(root);
  while (true) {
    if (QFileInfo::exists(dir.filePath(QStringLiteral(".git")))) return dir.absolutePath();
    if (!dir.cdUp()) return {};
  }
}

QByteArray readSmallFile(const QString& path) {
  QFile file(path);
  if (!file.open(QIODevice::ReadOnly)) return {};
  return file.read(4 * 1024 * 1024);
}

class Scanner {
 public:
  Scanner(const QString& root, const ScanOptions& options, const std::atomic<bool>* cancel,
          const std::function<void(int)>& progress)
      : root_(QDir(root).absolutePath()), options_(options), cancel_(cancel), progress_(progress) {}

  ScanResult run() {
    if (options_.useGitignore) loadRulesAboveRoot();
    walk(root_, QString());
    result_.cancelled = cancelled();
    return std::move(result_);
  }

 private:
  bool cancelled() const { return cancel_ && cancel_->load(std::memory_order_relaxed); }

  // Paths as git sees them: relative to the repository top when the root is
  // inside a working tree, else relative to the root.
  QString gitPath(const QString& relative) const {
    if (prefix_.isEmpty()) return relative;
    return relative.isEmpty() ? prefix_ : prefix_ + QLatin1Char('/') + relative;
  }

  void loadRulesAboveRoot() {
    const QString top = enclosingRepositoryTop(root_);
    if (top.isEmpty()) return;
    const QString exclude = top + QStringLiteral("/.git/info/exclude");
    if (QFileInfo(exclude).isFile()) {
      ignore_.addExcludeFile(readSmallFile(exclude), QStringLiteral(".git/info/exclude"));
    }
    if (top == root_) return;
    prefix_ = QDir(top).relativeFilePath(root_);
    // Every folder from the top down to the root's parent.
    QStringList parts = prefix_.split(QLatin1Char('/'), Qt::SkipEmptyParts);
    parts.removeLast();
    QString rel;
    const auto load = [&](const QString& relDir) {
      const QString file = top + (relDir.isEmpty() ? QString() : QLatin1Char('/') + relDir) +
                           QStringLiteral("/.gitignore");
      // Named relative to the scanned folder ("../.gitignore") in reasons.
      if (QFileInfo(file).isFile()) ignore_.addFile(relDir, readSmallFile(file), QDir(root_).relativeFilePath(file));
    };
    load(QString());
    for (const QString& part : parts) {
      rel = rel.isEmpty() ? part : rel + QLatin1Char('/') + part;
      load(rel);
    }
  }

  void exclude(const QString& rel, bool isDir, ExcludeCategory category, const QString& reason) {
    result_.exclusions.append(ScannedExclusion{rel, isDir, category, reason});
  }

  void walk(const QString& absDir, const QString& relDir) {
    if (cancelled()) return;
    const QString listingError = folderListingError(absDir);
    if (!listingError.isEmpty()) {
      if (relDir.isEmpty()) {
        result_.rootError = listingError;
      } else {
        exclude(relDir, true, ExcludeCategory::Unreadable, QStringLiteral("folder cannot be read: %1").arg(listingError));
      }
      return;
    }
    if (options_.useGitignore) {
      const QString file = absDir + QStringLiteral("/.gitignore");
      if (QFileInfo(file).isFile()) {
        ignore_.addFile(gitPath(relDir), readSmallFile(file),
                        relDir.isEmpty() ? QStringLiteral(".gitignore") : relDir + QStringLiteral("/.gitignore"));
      }
    }
    QDir dir(absDir);
    QFileInfoList entries =
        dir.entryInfoList(QDir::AllEntries | QDir::Hidden | QDir::System | QDir::NoDotAndDotDot);
    // Byte order of names, like git, independent of locale.
    std::sort(entries.begin(), entries.end(), [](const QFileInfo& a, const QFileInfo& b) {
      return a.fileName().toUtf8() < b.fileName().toUtf8();
    });
    for (const QFileInfo& info : entries) {
      if (cancelled()) return;
      ++seen_;
      if (progress_ && seen_ % 64 == 0) progress_(seen_);
      const QString name = info.fileName();
      const QString rel = relDir.isEmpty() ? name : relDir + QLatin1Char('/') + name;
      if (name == QLatin1String(".git")) {
        exclude(rel, info.isDir(), ExcludeCategory::Default, QStringLiteral("git metadata"));
        continue;
      }
      if (info.isSymLink()) {
        // exists() follows the link: false for a dangling link or a loop.
        exclude(rel, false, ExcludeCategory::Symlink,
                info.exists() ? QStringLiteral("symbolic link (not followed)")
                              : QStringLiteral("symbolic link (not followed) to a missing target or a link loop"));
        continue;
      }
      if (!info.exists()) {  // listed, then gone before we looked at it
        exclude(rel, false, ExcludeCategory::Unreadable, QStringLiteral("vanished while the folder was read"));
        continue;
      }
      const bool isDir = info.isDir();
      if (options_.useGitignore) {
        const GitIgnore::Match m = ignore_.match(gitPath(rel), isDir);
        if (m.ignored()) {
          exclude(rel, isDir, ExcludeCategory::Gitignore,
                  QStringLiteral("%1: %2").arg(m.rule->source, m.rule->originalLine));
          continue;
        }
      }
      if (isDir) {
        if (options_.defaultExcludes) {
          const QString why = defaultFolderExclusion(info.absoluteFilePath(), name);
          if (!why.isEmpty()) {
            exclude(rel, true, ExcludeCategory::Default, why);
            continue;
          }
        }
        walk(info.absoluteFilePath(), rel);
        continue;
      }
      const QString special = specialFileKind(info.absoluteFilePath());
      if (!special.isEmpty()) {
        exclude(rel, false, ExcludeCategory::Special, QStringLiteral("%1, not a regular file (not opened)").arg(special));
        continue;
      }
      if (options_.defaultExcludes) {
        const QString why = defaultFileExclusion(name);
        if (!why.isEmpty()) {
          exclude(rel, false, ExcludeCategory::Default, why);
          continue;
        }
      }
      if (info.size() > options_.maxFileBytes) {
        exclude(rel, false, ExcludeCategory::TooLarge,
                QStringLiteral("%1, above the %2 limit")
                    .arg(humanBytes(info.size()), humanBytes(options_.maxFileBytes)));
        continue;
      }
      QFile file(info.absoluteFilePath());
      if (!file.open(QIODevice::ReadOnly)) {
        exclude(rel, false, ExcludeCategory::Unreadable,
                QStringLiteral("cannot be read: %1").arg(file.errorString()));
        continue;
      }
      if (looksBinary(file.read(8000))) {
        exclude(rel, false, ExcludeCategory::Binary, QStringLiteral("binary file"));
        continue;
      }
      result_.files.append(ScannedFile{rel, info.size()});
    }
  }

  QString root_;
  ScanOptions options_;
  const std::atomic<bool>* cancel_;
  std::function<void(int)> progress_;
  GitIgnore ignore_;
  QString prefix_;
  ScanResult result_;
  int seen_ = 0;
};

}  // namespace

QString specialFileKind(const QString& absolutePath) {
#ifdef Q_OS_UNIX
  struct stat st {};
  if (::lstat(QFile::encodeName(absolutePath).constData(), &st) != 0) return {};
  if (S_ISREG(st.st_mode) || S_ISDIR(st.st_mode) || S_ISLNK(st.st_mode)) return {};
  if (S_ISFIFO(st.st_mode)) return QStringLiteral("named pipe (FIFO)");
  if (S_ISSOCK(st.st_mode)) return QStringLiteral("socket");
  if (S_ISCHR(st.st_mode)) return QStringLiteral("character device");
  if (S_ISBLK(st.st_mode)) return QStringLiteral("block device");
  return QStringLiteral("special file");
#else
  const QFileInfo info(absolutePath);
  return info.exists() && !info.isFile() && !info.isDir() && !info.isSymLink() ? QStringLiteral("special file")
                                                                                : QString();
#endif
}

QString folderListingError(const QString& absolutePath) {
#ifdef Q_OS_UNIX
  DIR* dir = ::opendir(QFile::encodeName(absolutePath).constData());
  if (!dir) return QString::fromLocal8Bit(std::strerror(errno));
  ::closedir(dir);
  return {};
#else
  const QFileInfo info(absolutePath);
  if (!info.exists()) return QStringLiteral("no such folder");
  if (!info.isDir()) return QStringLiteral("not a folder");
  if (!info.isReadable()) return QStringLiteral("permission denied");
  return {};
#endif
}

QString defaultFolderExclusion(const QString& absolutePath, const QString& name) {
  for (const auto& [names, reason] : defaultFolderNames()) {
    if (names.contains(name)) return reason;
  }
  if (name.startsWith(QLatin1String("cmake-build-"))) return QStringLiteral("build output");
  if (name.endsWith(QLatin1String(".egg-info"))) return QStringLiteral("build output");
  // Build trees and environments recognised by what is inside, whatever
  // their name (our own build-app/, a conda env, "env/"...).
  const QDir dir(absolutePath);
  if (dir.exists(QStringLiteral("CMakeCache.txt"))) {
    return QStringLiteral("build output (contains CMakeCache.txt)");
  }
  if (dir.exists(QStringLiteral("pyvenv.cfg"))) {
    return QStringLiteral("Python virtual environment (contains pyvenv.cfg)");
  }
  if (dir.exists(QStringLiteral("conda-meta"))) return QStringLiteral("conda environment");
  return {};
}

ScanResult scanFolder(const QString& root, const ScanOptions& options,
                      const std::atomic<bool>* cancel, const std::function<void(int)>& progress) {
  return Scanner(root, options, cancel, progress).run();
}

}  // namespace sambalens
