// Content-addressed cache of imported documents: a file whose bytes have
// not changed is not parsed again ("re-importing an unchanged file is
// free"). Keyed by the content hash, the importer and its version, and the
// import options, so a new importer version or other options re-import.
// One small JSON file per entry in the platform's cache folder; written
// atomically, so a crash never leaves a half entry behind.
#pragma once

#include <QString>
#include <optional>

#include "importer_plugin.h"

namespace sambalens {

class ImportCache {
 public:
  explicit ImportCache(const QString& directory = defaultDirectory());
  // QStandardPaths::CacheLocation/imports.
  static QString defaultDirectory();
  const QString& directory() const { return directory_; }

  // The cached import of content `contentHash`, with `path` set to `path`.
  std::optional<ImportedDocument> lookup(const QString& path, const QString& contentHash,
                                         const QString& importerId, int importerVersion,
                                         const ImportOptions& options) const;
  // Stores a successful import; failures are not cached (the user may fix
  // the file or the reason).
  bool store(const ImportedDocument& document, int importerVersion, const ImportOptions& options);
  // Removes the least recently used entries until the cache is below `maxBytes`.
  void prune(qint64 maxBytes);

 private:
  QString entryPath(const QString& contentHash, const QString& importerId, int importerVersion,
                    const ImportOptions& options) const;
  QString directory_;
};

}  // namespace sambalens
