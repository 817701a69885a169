#include "model_fingerprint.h"

#include <QCryptographicHash>
#include <QDir>
#include <QFile>

namespace sambalens {

QString modelFingerprint(const QString& folder, quint64 configFingerprint) {
  QCryptographicHash hash(QCryptographicHash::Sha256);
  hash.addData(QByteArray::number(configFingerprint));
  const QDir dir(folder);
  constexpr qint64 kEdge = 1 << 20;
  for (const QString& name : dir.entryList({QStringLiteral("*.safetensors")}, QDir::Files, QDir::Name)) {
    QFile file(dir.filePath(name));
    hash.addData(name.toUtf8());
    hash.addData(QByteArray::number(file.size()));
    if (!file.open(QIODevice::ReadOnly)) continue;
    hash.addData(file.read(kEdge));
    if (file.size() > 2 * kEdge) {
      file.seek(file.size() - kEdge);
      hash.addData(file.read(kEdge));
    }
  }
  for (const QString& name : {QStringLiteral("tokenizer.model"), QStringLiteral("tokenizer.json")}) {
    QFile file(dir.filePath(name));
    if (file.open(QIODevice::ReadOnly)) {
      hash.addData(name.toUtf8());
      hash.addData(file.readAll());
    }
  }
  return QString::fromLatin1(hash.result().toHex());
}

}  // namespace sambalens
