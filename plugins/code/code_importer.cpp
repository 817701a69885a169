#include "code_importer.h"

#include <QCryptographicHash>
#include <QDir>
#include <QFile>
#include <QSet>

#include "folder_scanner.h"
#include "text_decoding.h"

namespace sambalens {

bool isSourceFileName(const QString& fileName) {
  static const QSet<QString> suffixes = {
      "c",    "cc",    "cpp",  "cxx",   "c++",  "h",     "hh",   "hpp",  "hxx",  "inl",
      "cu",   "cuh",   "py",   "pyi",   "js",   "mjs",   "cjs",  "ts",   "tsx",  "jsx",
      "java", "kt",    "kts",  "scala", "go",   "rs",    "rb",   "php",  "cs",   "fs",
      "swift", "m",    "mm",   "sh",    "bash", "zsh",   "fish", "ps1",  "lua",  "pl",
      "pm",   "r",     "jl",   "hs",    "ml",   "mli",   "ex",   "exs",  "erl",  "clj",
      "dart", "sql",   "cmake", "toml", "yaml", "yml",   "json", "xml",  "html", "css",
      "scss", "vue",   "svelte", "zig", "nim",  "proto", "gradle", "f90", "f",   "ada",
      "adb",  "ads",   "el",   "vim",   "tcl",  "qml",   "ui",   "qrc",  "pro",  "in"};
  static const QSet<QString> names = {"Makefile", "CMakeLists.txt", "Dockerfile", "Rakefile",
                                      "Gemfile", "meson.build", "BUILD", "WORKSPACE"};
  if (names.contains(fileName)) return true;
  const int dot = fileName.lastIndexOf(QLatin1Char('.'));
  return dot > 0 && suffixes.contains(fileName.mid(dot + 1).toLower());
}

int CodeImporter::score(const QFileInfo& info, const QByteArray& head) const {
  if (info.isDir()) return 100;
  if (isSourceFileName(info.fileName()) && !looksBinary(head)) return 60;
  return 0;
}

ImportedDocument CodeImporter::import(const QString& path, const ImportOptions& options,
                                      const ImportContext& context) const {
  ImportedDocument doc;
  doc.path = QFileInfo(path).absoluteFilePath();
  doc.kind = QStringLiteral("code");
  doc.importerId = id();
  const QFileInfo rootInfo(path);
  if (!rootInfo.exists()) {
    doc.error = QStringLiteral("%1: no such file or folder").arg(path);
    return doc;
  }
  if (!rootInfo.isDir()) {
    const QString special = specialFileKind(rootInfo.absoluteFilePath());
    if (!special.isEmpty()) {
      doc.error = QStringLiteral("%1: a %2, not a file or folder that can be read").arg(path, special);
      return doc;
    }
  }
  // Entries left out because something went wrong (as opposed to a rule),
  // told to the user in one warning: "path (why)".
  QStringList failures;

  QString root;
  QList<ScannedFile> files;
  if (rootInfo.isDir()) {
    root = rootInfo.absoluteFilePath();
    ScanOptions scan;
    scan.useGitignore = options.useGitignore;
    scan.defaultExcludes = options.defaultExcludes;
    scan.maxFileBytes = options.maxFileBytes;
    context.progress(0, 0, QStringLiteral("scanning the folder"));
    ScanResult result = scanFolder(root, scan, context.cancelFlag(), [&](int seen) {
      context.progress(0, 0, QStringLiteral("scanning: %1 entries").arg(seen));
    });
    if (context.cancelled()) {
      doc.error = QStringLiteral("cancelled");
      return doc;
    }
    if (!result.rootError.isEmpty()) {
      doc.error = QStringLiteral("%1: the folder cannot be read: %2").arg(path, result.rootError);
      return doc;
    }
    files = result.files;
    for (const ScannedExclusion& e : result.exclusions) {
      doc.excluded.append(ExcludedEntry{e.relativePath, e.isDirectory, e.reason});
      if (e.category == ExcludeCategory::Unreadable || e.category == ExcludeCategory::Special) {
        failures.append(QStringLiteral("%1 (%2)").arg(e.relativePath, e.reason));
      }
    }
    if (files.isEmpty()) {
      doc.error = QStringLiteral("%1: no readable text files in this folder (%2 entries excluded)")
                      .arg(path)
                      .arg(result.exclusions.size());
      return doc;
    }
  } else {
    root = rootInfo.absolutePath();
    files.append(ScannedFile{rootInfo.fileName(), rootInfo.size()});
  }

  // The folder's hash covers every file's path and bytes, so any change to
  // what is read changes it.
  QCryptographicHash folderHash(QCryptographicHash::Sha256);
  for (int i = 0; i < files.size(); ++i) {
    if (context.cancelled()) {
      doc.error = QStringLiteral("cancelled");
      return doc;
    }
    const ScannedFile& f = files[i];
    context.progress(i, files.size(), f.relativePath);
    const QString absolute = QDir(root).filePath(f.relativePath);
    // The folder may have changed since it was scanned: a file gone, or
    // replaced by a pipe (opening that would block this import forever).
    QString skip;
    if (!QFileInfo::exists(absolute)) {
      skip = QStringLiteral("vanished during the import");
    } else if (const QString special = specialFileKind(absolute); !special.isEmpty()) {
      skip = QStringLiteral("became a %1 during the import (not opened)").arg(special);
    }
    QFile file(absolute);
    if (skip.isEmpty() && !file.open(QIODevice::ReadOnly)) {
      skip = QStringLiteral("cannot be read: %1").arg(file.errorString());
    }
    if (!skip.isEmpty()) {
      doc.excluded.append(ExcludedEntry{f.relativePath, false, skip});
      failures.append(QStringLiteral("%1 (%2)").arg(f.relativePath, skip));
      continue;
    }
    const QByteArray bytes = file.readAll();
    if (rootInfo.isFile() && looksBinary(bytes)) {
      doc.error = QStringLiteral("%1: binary file, not source code").arg(path);
      return doc;
    }
    folderHash.addData(f.relativePath.toUtf8());
    folderHash.addData(QByteArrayView("\0", 1));
    folderHash.addData(QCryptographicHash::hash(bytes, QCryptographicHash::Sha256));
    const DecodedText decoded = decodeText(bytes);
    if (decoded.fallback) {
      doc.warnings.append(
          QStringLiteral("%1: not valid UTF-8, read as Latin-1").arg(f.relativePath));
    }
    doc.sections.append(DocumentSection{0, f.relativePath, decoded.text, bytes.size()});
    doc.bytes += bytes.size();
  }
  context.progress(files.size(), files.size(), QString());
  if (doc.sections.isEmpty()) {
    doc.error = QStringLiteral("%1: none of the %2 files found could be read: %3")
                    .arg(path)
                    .arg(files.size())
                    .arg(failures.join(QStringLiteral("; ")));
    return doc;
  }
  if (!failures.isEmpty()) {
    doc.warnings.append(QStringLiteral("%1 %2 could not be read and %3 left out: %4")
                            .arg(failures.size())
                            .arg(failures.size() == 1 ? QStringLiteral("entry") : QStringLiteral("entries"))
                            .arg(failures.size() == 1 ? QStringLiteral("was") : QStringLiteral("were"))
                            .arg(failures.join(QStringLiteral("; "))));
  }
  doc.contentHash = QString::fromLatin1(folderHash.result().toHex());
  return doc;
}

}  // namespace sambalens
