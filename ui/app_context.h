// The application objects the window drives, created together: the engine
// thread, the sessions database, the import service and the analysis flow.
// The window uses them only through the app library's interfaces; tests
// build one with a scratch database and their own import worker.
#pragma once

#include <QObject>
#include <QString>
#include <QStringList>
#include <memory>

#include "analysis_controller.h"
#include "engine_controller.h"
#include "import_cache.h"
#include "import_service.h"
#include "session_store.h"

namespace sambalens::ui {

struct AppContextOptions {
  // Sessions database; empty: SessionStore::defaultPath(). `useStore` false:
  // nothing is saved and no model state is reused.
  QString storePath;
  bool useStore = true;
  // The import worker: unset keeps ImportService's default (this
  // executable with --import-worker); tests point it at the sambalens binary.
  bool overrideImportWorker = false;
  QString importWorkerProgram;
  QStringList importWorkerArguments;
  // Import cache folder; empty: ImportCache::defaultDirectory().
  QString importCacheDirectory;
};

class AppContext : public QObject {
  Q_OBJECT

 public:
  explicit AppContext(const AppContextOptions& options = {}, QObject* parent = nullptr);
  ~AppContext() override;

  sambalens::EngineController& engine() { return *engine_; }
  // Null when the database could not be opened (see storeError()).
  sambalens::SessionStore* store() { return storeOpen_ ? store_.get() : nullptr; }
  const QString& storeError() const { return storeError_; }
  sambalens::ImportService& imports() { return *imports_; }
  sambalens::AnalysisController& analysis() { return *analysis_; }

 private:
  std::unique_ptr<sambalens::EngineController> engine_;
  std::unique_ptr<sambalens::SessionStore> store_;
  bool storeOpen_ = false;
  QString storeError_;
  std::unique_ptr<sambalens::ImportCache> cache_;
  std::unique_ptr<sambalens::ImportService> imports_;
  std::unique_ptr<sambalens::AnalysisController> analysis_;
};

}  // namespace sambalens::ui
