#include "plugin_registry.h"

#include <QCoreApplication>
#include <QDir>
#include <QFile>
#include <QLibrary>

namespace sambalens {

PluginRegistry::PluginRegistry(const QStringList& directories) : directories_(directories) {
  for (const QString& dirPath : directories_) {
    const QDir dir(dirPath);
    if (!dir.exists()) continue;
    const QStringList names = dir.entryList(QDir::Files, QDir::Name);
    for (const QString& name : names) {
      const QString file = dir.absoluteFilePath(name);
      if (!QLibrary::isLibrary(file)) continue;
      auto loader = std::make_unique<QPluginLoader>(file);
      QObject* instance = loader->instance();
      if (!instance) {
        loadErrors_.append(QStringLiteral("%1: %2").arg(file, loader->errorString()));
        continue;
      }
      auto* importer = qobject_cast<ImporterPlugin*>(instance);
      if (!importer) {
        loadErrors_.append(QStringLiteral("%1: not a SambaLens importer").arg(file));
        loader->unload();
        continue;
      }
      if (this->importer(importer->id())) continue;  // an earlier directory wins
      importers_.append(importer);
      loaders_.push_back(std::move(loader));
    }
  }
}

PluginRegistry::~PluginRegistry() = default;

QStringList PluginRegistry::defaultDirectories() {
  QStringList dirs;
  const QString env = qEnvironmentVariable("SAMBALENS_IMPORTER_PATH");
  if (!env.isEmpty()) dirs += env.split(QLatin1Char(':'), Qt::SkipEmptyParts);
  if (QCoreApplication::instance()) {
    dirs.append(QDir(QCoreApplication::applicationDirPath())
                    .absoluteFilePath(QStringLiteral("../lib/sambalens/importers")));
  }
#ifdef SAMBALENS_BUILD_IMPORTER_DIR
  dirs.append(QStringLiteral(SAMBALENS_BUILD_IMPORTER_DIR));
#endif
  QStringList clean;
  for (const QString& d : dirs) {
    const QString c = QDir::cleanPath(d);
    if (!clean.contains(c)) clean.append(c);
  }
  return clean;
}

QList<ImporterPlugin*> PluginRegistry::importers() const { return importers_; }

ImporterPlugin* PluginRegistry::importer(const QString& id) const {
  for (ImporterPlugin* p : importers_) {
    if (p->id() == id) return p;
  }
  return nullptr;
}

ImporterPlugin* PluginRegistry::importerFor(const QString& path, QString* why) const {
  const QFileInfo info(path);
  if (!info.exists()) {
    if (why) *why = QStringLiteral("%1: no such file or folder").arg(path);
    return nullptr;
  }
  if (!info.isFile() && !info.isDir()) {
    // A named pipe, socket or device: opening a FIFO to sniff its first
    // bytes would block until something writes to it.
    if (why) *why = QStringLiteral("%1: not a regular file or folder (a named pipe, socket or device)").arg(path);
    return nullptr;
  }
  QByteArray head;
  if (info.isFile()) {
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly)) {
      if (why) *why = QStringLiteral("%1: cannot open: %2").arg(path, file.errorString());
      return nullptr;
    }
    head = file.read(8192);
  }
  ImporterPlugin* best = nullptr;
  int bestScore = 0;
  for (ImporterPlugin* p : importers_) {
    const int s = p->score(info, head);
    if (s > bestScore) {
      best = p;
      bestScore = s;
    }
  }
  if (!best && why) {
    if (importers_.isEmpty()) {
      *why = QStringLiteral("%1: no importer plugins were found (looked in %2)")
                 .arg(path, directories_.join(QStringLiteral(", ")));
    } else {
      *why = QStringLiteral("%1: unsupported file type (not a PDF, text, Markdown, source file or folder)")
                 .arg(info.fileName());
    }
  }
  return best;
}

}  // namespace sambalens
