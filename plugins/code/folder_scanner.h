// Walks a code folder and decides, for every file and folder, whether it is
// read: .gitignore rules at every level (plus .git/info/exclude), a default
// exclude list (version control, build output, dependencies, virtual
// environments, vendored trees), binaries detected by content, and files
// above a size limit. Excluded folders are not entered. The result is the
// tree the user previews before the model reads it.
#pragma once

#include <QList>
#include <QString>
#include <atomic>
#include <functional>

namespace sambalens {

struct ScanOptions {
  bool useGitignore = true;
  bool defaultExcludes = true;
  qint64 maxFileBytes = 1024 * 1024;
};

enum class ExcludeCategory { Gitignore, Default, Binary, TooLarge, Symlink, Unreadable };

struct ScannedFile {
  QString relativePath;  // '/'-separated, relative to the root
  qint64 bytes = 0;
};

struct ScannedExclusion {
  QString relativePath;
  bool isDirectory = false;
  ExcludeCategory category = ExcludeCategory::Default;
  QString reason;  // ".gitignore:3: build/", "build output (CMakeCache.txt)", "binary"...
};

struct ScanResult {
  QList<ScannedFile> files;            // to be read, in path order
  QList<ScannedExclusion> exclusions;  // the top-most excluded entries, in path order
  bool cancelled = false;
};

// Why a folder is excluded by default, or an empty string. Looks at the name
// and, for build trees and virtual environments, at marker files inside.
QString defaultFolderExclusion(const QString& absolutePath, const QString& name);

// `progress` is called with the number of entries seen so far.
ScanResult scanFolder(const QString& root, const ScanOptions& options,
                      const std::atomic<bool>* cancel = nullptr,
                      const std::function<void(int)>& progress = {});

}  // namespace sambalens
