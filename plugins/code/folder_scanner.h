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

// Unreadable and Special are failures the user is told about (a folder that
// cannot be listed or vanished, a file that cannot be opened, a named pipe,
// socket or device, which is never opened: reading a FIFO blocks forever);
// the others are the rules working as meant.
enum class ExcludeCategory { Gitignore, Default, Binary, TooLarge, Symlink, Unreadable, Special };

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
  QString rootError;  // non-empty: the folder itself cannot be listed (why)
};

// Why `absolutePath` (not a symbolic link, not a folder) must not be opened
// for reading: "named pipe (FIFO)", "socket", "device"...; empty for a
// regular file (or one that no longer exists).
QString specialFileKind(const QString& absolutePath);

// Why a folder cannot be listed ("Permission denied", "No such file or
// directory", "Not a directory"), or an empty string when it can. QDir
// lists such a folder as empty without saying so.
QString folderListingError(const QString& absolutePath);

// Why a folder is excluded by default, or an empty string. Looks at the name
// and, for build trees and virtual environments, at marker files inside.
QString defaultFolderExclusion(const QString& absolutePath, const QString& name);

// `progress` is called with the number of entries seen so far.
ScanResult scanFolder(const QString& root, const ScanOptions& options,
                      const std::atomic<bool>* cancel = nullptr,
                      const std::function<void(int)>& progress = {});

}  // namespace sambalens
