#include "imported_document.h"

#include <QFileInfo>
#include <QJsonArray>

namespace sambalens {

QString DocumentSection::marker() const {
  if (page > 0) return QStringLiteral("[page %1]").arg(page);
  // The header the default model was trained with (tools/corpus/mine_tasks.py).
  if (!relativePath.isEmpty()) return QStringLiteral("File: %1").arg(relativePath);
  return {};
}

QString ImportedDocument::displayName() const {
  const QString name = QFileInfo(path).fileName();
  return name.isEmpty() ? path : name;
}

QString ImportedDocument::modelText() const {
  // Sections separated by a blank line, each after its marker line; the
  // same layout as the training data's code prompts ("File: <path>").
  QString out;
  for (const DocumentSection& section : sections) {
    if (!out.isEmpty()) out += QStringLiteral("\n\n");
    const QString marker = section.marker();
    if (!marker.isEmpty()) {
      out += marker;
      out += QLatin1Char('\n');
    }
    QString text = section.text;
    while (!text.isEmpty() && text.back().isSpace()) text.chop(1);
    out += text;
  }
  return out;
}

qint64 ImportedDocument::characterCount() const {
  qint64 n = 0;
  for (const DocumentSection& section : sections) n += section.text.size();
  return n;
}

QString composeModelText(const QList<ImportedDocument>& documents) {
  if (documents.size() == 1) return documents.front().modelText();
  QString out;
  for (int i = 0; i < documents.size(); ++i) {
    if (i > 0) out += QStringLiteral("\n\n");
    out += QStringLiteral("[document %1 of %2: %3]\n")
               .arg(i + 1)
               .arg(documents.size())
               .arg(documents[i].displayName());
    out += documents[i].modelText();
  }
  return out;
}

QJsonObject ImportedDocument::toJson() const {
  QJsonArray sectionArray;
  for (const DocumentSection& s : sections) {
    QJsonObject o{{"text", s.text}, {"bytes", s.bytes}};
    if (s.page > 0) o.insert("page", s.page);
    if (!s.relativePath.isEmpty()) o.insert("path", s.relativePath);
    sectionArray.append(o);
  }
  QJsonArray excludedArray;
  for (const ExcludedEntry& e : excluded) {
    excludedArray.append(
        QJsonObject{{"path", e.relativePath}, {"dir", e.isDirectory}, {"reason", e.reason}});
  }
  QJsonObject o{{"path", path},
                {"kind", kind},
                {"importer", importerId},
                {"hash", contentHash},
                {"bytes", bytes},
                {"pages", pageCount},
                {"sections", sectionArray},
                {"excluded", excludedArray},
                {"warnings", QJsonArray::fromStringList(warnings)}};
  if (!error.isEmpty()) o.insert("error", error);
  return o;
}

ImportedDocument ImportedDocument::fromJson(const QJsonObject& o) {
  ImportedDocument d;
  d.path = o.value("path").toString();
  d.kind = o.value("kind").toString();
  d.importerId = o.value("importer").toString();
  d.contentHash = o.value("hash").toString();
  d.bytes = o.value("bytes").toInteger();
  d.pageCount = o.value("pages").toInt();
  for (const QJsonValue& v : o.value("sections").toArray()) {
    const QJsonObject s = v.toObject();
    d.sections.append(DocumentSection{s.value("page").toInt(), s.value("path").toString(),
                                      s.value("text").toString(), s.value("bytes").toInteger()});
  }
  for (const QJsonValue& v : o.value("excluded").toArray()) {
    const QJsonObject e = v.toObject();
    d.excluded.append(ExcludedEntry{e.value("path").toString(), e.value("dir").toBool(),
                                    e.value("reason").toString()});
  }
  for (const QJsonValue& v : o.value("warnings").toArray()) d.warnings.append(v.toString());
  d.error = o.value("error").toString();
  return d;
}

}  // namespace sambalens
