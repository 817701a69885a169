// Importer for PDF files through poppler-qt6: the text of every page, each
// page a section introduced by "[page N]" in the model's input, so an answer
// can cite the page and the app can open the PDF there. Encrypted,
// truncated, damaged and image-only files each fail with a message naming
// the file and what is wrong.
#pragma once

#include <QObject>

#include "importer_plugin.h"

namespace sambalens {

class PdfImporter : public QObject, public ImporterPlugin {
  Q_OBJECT
  Q_PLUGIN_METADATA(IID SambaLensImporterPlugin_iid)
  Q_INTERFACES(sambalens::ImporterPlugin)

 public:
  QString id() const override { return QStringLiteral("pdf"); }
  int version() const override { return 1; }
  QString displayName() const override { return QStringLiteral("PDF (poppler)"); }
  int score(const QFileInfo& info, const QByteArray& head) const override;
  ImportedDocument import(const QString& path, const ImportOptions& options,
                          const ImportContext& context) const override;
};

}  // namespace sambalens
