#include "crash_importer.h"

#include <QThread>
#include <csignal>

int CrashImporter::score(const QFileInfo& info, const QByteArray&) const {
  const QString suffix = info.suffix();
  return suffix == QLatin1String("crashme") || suffix == QLatin1String("hangme") ? 1000 : 0;
}

sambalens::ImportedDocument CrashImporter::import(const QString& path, const sambalens::ImportOptions&,
                                                  const sambalens::ImportContext& context) const {
  context.progress(0, 2, QStringLiteral("about to misbehave"));
  if (path.endsWith(QLatin1String(".crashme"))) std::raise(SIGSEGV);
  while (!context.cancelled()) QThread::msleep(50);  // *.hangme: no progress, ever
  sambalens::ImportedDocument doc;
  doc.path = path;
  doc.error = QStringLiteral("cancelled");
  return doc;
}
