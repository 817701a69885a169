#include "app_context.h"

#include <QThreadPool>

namespace sambalens::ui {

AppContext::AppContext(const AppContextOptions& options, QObject* parent)
    : QObject(parent),
      engine_(std::make_unique<EngineController>()),
      store_(std::make_unique<SessionStore>()),
      cache_(std::make_unique<ImportCache>(options.importCacheDirectory.isEmpty() ? ImportCache::defaultDirectory()
                                                                                    : options.importCacheDirectory)),
      imports_(std::make_unique<ImportService>()) {
  if (options.useStore) {
    storeOpen_ = store_->open(options.storePath.isEmpty() ? SessionStore::defaultPath() : options.storePath);
    if (!storeOpen_) storeError_ = store_->lastError();
  } else {
    storeError_ = tr("sessions are not being saved (no database in use)");
  }
  if (options.overrideImportWorker) {
    imports_->setWorkerCommand(options.importWorkerProgram, options.importWorkerArguments);
  }
  imports_->setCache(cache_.get());
  analysis_ = std::make_unique<AnalysisController>(engine_.get(), store());
}

AppContext::~AppContext() {
  // Snapshot writes run on pool threads with their own connection to the
  // database: let them end before the store and engine go away.
  analysis_->stop();
  imports_->cancel();
  QThreadPool::globalInstance()->waitForDone();
  analysis_.reset();
  imports_.reset();
}

}  // namespace sambalens::ui
