// Importer for plain text and Markdown: the file as one section. Any other
// file that is text by content is accepted with a lower score, so a dropped
// README or log works even without a known suffix.
#pragma once

#include <QObject>

#include "importer_plugin.h"

namespace sambalens {

class TextImporter : public QObject, public ImporterPlugin {
  Q_OBJECT
  Q_PLUGIN_METADATA(IID SambaLensImporterPlugin_iid)
  Q_INTERFACES(sambalens::ImporterPlugin)

 public:
  QString id() const override { return QStringLiteral("text"); }
  int version() const override { return 1; }
  QString displayName() const override { return QStringLiteral("Plain text and Markdown"); }
  int score(const QFileInfo& info, const QByteArray& head) const override;
  ImportedDocument import(const QString& path, const ImportOptions& options,
                          const ImportContext& context) const override;
};

}  // namespace sambalens
