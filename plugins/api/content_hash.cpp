#include "content_hash.h"

#include <QCryptographicHash>
#include <QFile>

namespace sambalens {

QString fileSha256(const QString& path, QString* error, const std::atomic<bool>* cancel) {
  QFile file(path);
  if (!file.open(QIODevice::ReadOnly)) {
    if (error) *error = QStringLiteral("%1: cannot open: %2").arg(path, file.errorString());
    return {};
  }
  QCryptographicHash hash(QCryptographicHash::Sha256);
  constexpr qint64 kBlock = 1 << 20;
  while (!file.atEnd()) {
    if (cancel && cancel->load(std::memory_order_relaxed)) {
      if (error) *error = QStringLiteral("cancelled");
      return {};
    }
    const QByteArray block = file.read(kBlock);
    if (block.isEmpty() && file.error() != QFileDevice::NoError) {
      if (error) *error = QStringLiteral("%1: read error: %2").arg(path, file.errorString());
      return {};
    }
    hash.addData(block);
  }
  return QString::fromLatin1(hash.result().toHex());
}

QString bytesSha256(const QByteArray& bytes) {
  return QString::fromLatin1(QCryptographicHash::hash(bytes, QCryptographicHash::Sha256).toHex());
}

}  // namespace sambalens
