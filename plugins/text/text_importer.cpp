#include "text_importer.h"

#include <QFile>
#include <QSet>

#include "content_hash.h"
#include "text_decoding.h"

namespace sambalens {

namespace {
bool isMarkdown(const QFileInfo& info) {
  static const QSet<QString> suffixes = {"md", "markdown", "mdown", "mkd"};
  return suffixes.contains(info.suffix().toLower());
}
bool isPlainText(const QFileInfo& info) {
  static const QSet<QString> suffixes = {"txt", "text", "rst", "adoc", "org", "log", "csv", "tsv"};
  static const QSet<QString> names = {"README", "LICENSE", "COPYING", "AUTHORS", "NEWS",
                                      "CHANGELOG", "INSTALL", "TODO"};
  return suffixes.contains(info.suffix().toLower()) || names.contains(info.fileName());
}
}  // namespace

int TextImporter::score(const QFileInfo& info, const QByteArray& head) const {
  if (info.isDir()) return 0;
  if (isMarkdown(info) || isPlainText(info)) return 80;
  return looksBinary(head) ? 0 : 10;
}

ImportedDocument TextImporter::import(const QString& path, const ImportOptions&,
                                      const ImportContext& context) const {
  ImportedDocument doc;
  const QFileInfo info(path);
  doc.path = info.absoluteFilePath();
  doc.kind = isMarkdown(info) ? QStringLiteral("markdown") : QStringLiteral("text");
  doc.importerId = id();
  const QString name = info.fileName();
  // No size limit here: a long single document is what this app is for.
  QFile file(path);
  if (!file.open(QIODevice::ReadOnly)) {
    doc.error = QStringLiteral("%1: cannot open: %2").arg(name, file.errorString());
    return doc;
  }
  context.progress(0, 1, name);
  const QByteArray bytes = file.readAll();
  if (file.error() != QFileDevice::NoError) {
    doc.error = QStringLiteral("%1: read error: %2").arg(name, file.errorString());
    return doc;
  }
  if (looksBinary(bytes)) {
    doc.error = QStringLiteral("%1: binary file (contains NUL bytes), not a text document").arg(name);
    return doc;
  }
  const DecodedText decoded = decodeText(bytes);
  if (decoded.text.trimmed().isEmpty()) {
    doc.error = QStringLiteral("%1: the file has no text").arg(name);
    return doc;
  }
  if (decoded.fallback) doc.warnings.append(QStringLiteral("%1: not valid UTF-8, read as Latin-1").arg(name));
  doc.contentHash = bytesSha256(bytes);
  doc.bytes = bytes.size();
  doc.sections.append(DocumentSection{0, QString(), decoded.text, bytes.size()});
  context.progress(1, 1, name);
  return doc;
}

}  // namespace sambalens
