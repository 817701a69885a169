// Importer for code: a folder (scanned with folder_scanner's rules) or a
// single source file. Each file becomes a section whose marker carries its
// path, so the model's input says which file every line came from.
#pragma once

#include <QObject>

#include "importer_plugin.h"

namespace sambalens {

class CodeImporter : public QObject, public ImporterPlugin {
  Q_OBJECT
  Q_PLUGIN_METADATA(IID SambaLensImporterPlugin_iid)
  Q_INTERFACES(sambalens::ImporterPlugin)

 public:
  QString id() const override { return QStringLiteral("code"); }
  // 2: unreadable and special entries are skipped with a warning.
  int version() const override { return 2; }
  QString displayName() const override { return QStringLiteral("Code folder"); }
  int score(const QFileInfo& info, const QByteArray& head) const override;
  ImportedDocument import(const QString& path, const ImportOptions& options,
                          const ImportContext& context) const override;
};

// File suffixes (and names) treated as source code when a single file is
// dropped; folders are always code.
bool isSourceFileName(const QString& fileName);

}  // namespace sambalens
