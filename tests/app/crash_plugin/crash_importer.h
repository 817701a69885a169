// A test importer that misbehaves on purpose: it crashes the process on
// *.crashme files and never returns on *.hangme files, standing in for a
// parser that a hostile PDF breaks. Only the import-service test loads it.
#pragma once

#include <QObject>

#include "importer_plugin.h"

class CrashImporter : public QObject, public sambalens::ImporterPlugin {
  Q_OBJECT
  Q_PLUGIN_METADATA(IID SambaLensImporterPlugin_iid)
  Q_INTERFACES(sambalens::ImporterPlugin)

 public:
  QString id() const override { return QStringLiteral("crash-test"); }
  int version() const override { return 1; }
  QString displayName() const override { return QStringLiteral("Crashes on purpose"); }
  int score(const QFileInfo& info, const QByteArray& head) const override;
  sambalens::ImportedDocument import(const QString& path, const sambalens::ImportOptions& options,
                                     const sambalens::ImportContext& context) const override;
};
