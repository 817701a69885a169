#include "import_one.h"

#include <exception>

namespace sambalens {

ImportedDocument importOne(const PluginRegistry& registry, const QString& path,
                           const ImportOptions& options, const ImportContext& context) {
  QString why;
  ImporterPlugin* importer = registry.importerFor(path, &why);
  if (!importer) {
    ImportedDocument doc;
    doc.path = path;
    doc.error = why;
    return doc;
  }
  try {
    ImportedDocument doc = importer->import(path, options, context);
    if (doc.importerId.isEmpty()) doc.importerId = importer->id();
    return doc;
  } catch (const std::exception& e) {
    ImportedDocument doc;
    doc.path = path;
    doc.importerId = importer->id();
    doc.error = QStringLiteral("%1: the %2 importer failed: %3")
                    .arg(QFileInfo(path).fileName(), importer->id(), QString::fromUtf8(e.what()));
    return doc;
  }
}

}  // namespace sambalens
