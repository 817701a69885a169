// Finds and loads the importer plugins at run time and picks the one that
// fits a file best. Used in the import worker process (which imports) and in
// the app (which needs importer ids for the cache and the list of formats).
#pragma once

#include <QList>
#include <QPluginLoader>
#include <QString>
#include <QStringList>
#include <memory>

#include "importer_plugin.h"

namespace sambalens {

class PluginRegistry {
 public:
  // Loads every importer plugin in `directories`; the first plugin with a
  // given id wins, so earlier directories override later ones.
  explicit PluginRegistry(const QStringList& directories = defaultDirectories());
  ~PluginRegistry();
  PluginRegistry(const PluginRegistry&) = delete;
  PluginRegistry& operator=(const PluginRegistry&) = delete;

  // $SAMBALENS_IMPORTER_PATH (':'-separated), then lib/sambalens/importers
  // next to the executable's bin/ folder (build tree and install), then the
  // build tree this binary came from.
  static QStringList defaultDirectories();

  const QStringList& directories() const { return directories_; }
  QList<ImporterPlugin*> importers() const;
  ImporterPlugin* importer(const QString& id) const;
  // The best-scoring importer for `path`, or null with `why` set to a
  // one-line reason naming the file.
  ImporterPlugin* importerFor(const QString& path, QString* why = nullptr) const;
  // Plugins that were found but could not be loaded, one message each.
  const QStringList& loadErrors() const { return loadErrors_; }

 private:
  QStringList directories_;
  std::vector<std::unique_ptr<QPluginLoader>> loaders_;
  QList<ImporterPlugin*> importers_;
  QStringList loadErrors_;
};

}  // namespace sambalens
