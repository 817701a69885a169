#include "import_cache.h"

#include <QDateTime>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonDocument>
#include <QSaveFile>
#include <QStandardPaths>
#include <algorithm>

namespace sambalens {

ImportCache::ImportCache(const QString& directory) : directory_(directory) {}

QString ImportCache::defaultDirectory() {
  return QStandardPaths::writableLocation(QStandardPaths::CacheLocation) + QStringLiteral("/imports");
}

QString ImportCache::entryPath(const QString& contentHash, const QString& importerId,
                               int importerVersion, const ImportOptions& options) const {
  return QStringLiteral("%1/%2-%3-v%4-%5.json")
      .arg(directory_, contentHash, importerId)
      .arg(importerVersion)
      .arg(options.cacheKey());
}

std::optional<ImportedDocument> ImportCache::lookup(const QString& path, const QString& contentHash,
                                                    const QString& importerId, int importerVersion,
                                                    const ImportOptions& options) const {
  if (contentHash.isEmpty()) return std::nullopt;
  QFile file(entryPath(contentHash, importerId, importerVersion, options));
  if (!file.open(QIODevice::ReadOnly)) return std::nullopt;
  const QJsonDocument json = QJsonDocument::fromJson(file.readAll());
  if (!json.isObject()) return std::nullopt;  // damaged entry: import again
  ImportedDocument doc = ImportedDocument::fromJson(json.object());
  if (doc.contentHash != contentHash || !doc.ok()) return std::nullopt;
  doc.path = QFileInfo(path).absoluteFilePath();
  // Mark it used, for prune() (the file must be open for this).
  file.setFileTime(QDateTime::currentDateTime(), QFileDevice::FileModificationTime);
  return doc;
}

bool ImportCache::store(const ImportedDocument& document, int importerVersion,
                        const ImportOptions& options) {
  if (!document.ok() || document.contentHash.isEmpty()) return false;
  if (!QDir().mkpath(directory_)) return false;
  QSaveFile file(entryPath(document.contentHash, document.importerId, importerVersion, options));
  if (!file.open(QIODevice::WriteOnly)) return false;
  file.write(QJsonDocument(document.toJson()).toJson(QJsonDocument::Compact));
  return file.commit();
}

void ImportCache::prune(qint64 maxBytes) {
  QFileInfoList entries = QDir(directory_).entryInfoList({QStringLiteral("*.json")}, QDir::Files);
  qint64 total = 0;
  for (const QFileInfo& e : entries) total += e.size();
  std::sort(entries.begin(), entries.end(), [](const QFileInfo& a, const QFileInfo& b) {
    return a.lastModified() < b.lastModified();
  });
  for (const QFileInfo& e : entries) {
    if (total <= maxBytes) break;
    if (QFile::remove(e.absoluteFilePath())) total -= e.size();
  }
}

}  // namespace sambalens
