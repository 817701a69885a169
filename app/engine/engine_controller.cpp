#include "engine_controller.h"

#include <QtConcurrent/QtConcurrentRun>

#include "engine_worker.h"
#include "samba/backend.h"
#include "samba/tokenizer.h"

namespace sambalens {

EngineController::EngineController(QObject* parent)
    : QObject(parent), stream_(std::make_shared<EngineStream>()) {
  qRegisterMetaType<sambalens::ModelInfo>();
  qRegisterMetaType<sambalens::GenerationRequest>();
  qRegisterMetaType<sambalens::PrefillProgress>();
  qRegisterMetaType<sambalens::GenerationStats>();
  thread_.setObjectName(QStringLiteral("samba-engine"));
  worker_ = new EngineWorker(stream_);
  worker_->moveToThread(&thread_);
  connect(&thread_, &QThread::finished, worker_, &QObject::deleteLater);
  connect(worker_, &EngineWorker::loaded, this, [this](const ModelInfo& info) {
    std::shared_ptr<const samba::Tokenizer> tokenizer;
    {
      QMutexLocker lock(&stream_->mutex);
      tokenizer = stream_->tokenizer;
    }
    onWorkerLoaded(info, tokenizer);
  });
  connect(worker_, &EngineWorker::loadFailed, this,
          [this](const QString& folder, const QString& message, bool keptPrevious) {
            loading_ = false;
            if (!keptPrevious) {
              loaded_ = false;
              model_ = ModelInfo();
              tokenizer_.reset();
            }
            onWorkerLoadFailed(folder, message);
          });
  connect(worker_, &EngineWorker::stateReused, this, &EngineController::stateReused);
  connect(worker_, &EngineWorker::snapshotTaken, this, &EngineController::snapshotTaken);
  connect(worker_, &EngineWorker::finished, this, &EngineController::onWorkerFinished);
  connect(worker_, &EngineWorker::failed, this, &EngineController::onWorkerFailed);
  connect(worker_, &EngineWorker::taskFinished, this, [this](quint64 id) {
    if (id == busyId_) busyId_ = 0;
    emit taskFinished(id);
  });
  flushTimer_.setInterval(25);
  connect(&flushTimer_, &QTimer::timeout, this, &EngineController::flush);
  thread_.start();
}

EngineController::~EngineController() {
  stream_->cancel.cancel();  // a running generation ends within one token
  thread_.quit();
  thread_.wait();
}

void EngineController::setBackendFactory(BackendFactory factory) { factory_ = std::move(factory); }

void EngineController::setFlushInterval(int milliseconds) { flushTimer_.setInterval(milliseconds); }

qint64 EngineController::tokensGenerated() const { return stream_->tokens.load(std::memory_order_relaxed); }

QFuture<qint64> EngineController::countTokens(const QString& text) const {
  const std::shared_ptr<const samba::Tokenizer> tokenizer = tokenizer_;
  if (!tokenizer) return QtFuture::makeReadyFuture<qint64>(-1);
  return QtConcurrent::run([tokenizer, text]() -> qint64 {
    return qint64(tokenizer->encode(text.toStdString()).size());
  });
}

void EngineController::loadModel(const QString& folder, const QString& backend) {
  loading_ = true;
  emit modelLoading(folder);
  EngineWorker* worker = worker_;
  const BackendFactory factory = factory_;
  QMetaObject::invokeMethod(
      worker, [worker, folder, backend, factory] { worker->load(folder, backend, factory); },
      Qt::QueuedConnection);
}

quint64 EngineController::generate(const GenerationRequest& request) {
  if (busyId_ != 0) {
    emit failed(0, QStringLiteral("the engine is busy with another request; stop it first"));
    return 0;
  }
  if (!loaded_ && !loading_) {
    emit failed(0, QStringLiteral("no model is loaded"));
    return 0;
  }
  const quint64 id = nextId_++;
  busyId_ = id;
  stream_->cancel.reset();
  stream_->tokens.store(0);
  {
    QMutexLocker lock(&stream_->mutex);
    stream_->pendingText.clear();
    stream_->progressDirty = false;
  }
  EngineWorker* worker = worker_;
  QMetaObject::invokeMethod(
      worker, [worker, id, request] { worker->run(id, request); }, Qt::QueuedConnection);
  flushTimer_.start();
  emit started(id);
  return id;
}

quint64 EngineController::runTask(EngineTask task) {
  if (busyId_ != 0) {
    emit failed(0, QStringLiteral("the engine is busy with another request; stop it first"));
    return 0;
  }
  const quint64 id = nextId_++;
  busyId_ = id;
  stream_->cancel.reset();
  EngineWorker* worker = worker_;
  QMetaObject::invokeMethod(
      worker, [worker, id, task = std::move(task)] { worker->runTask(id, task); }, Qt::QueuedConnection);
  return id;
}

void EngineController::stop() {
  if (busyId_ != 0) stream_->cancel.cancel();
}

void EngineController::flush() {
  QString text;
  PrefillProgress progress;
  bool haveProgress = false;
  quint64 progressId = 0;
  {
    QMutexLocker lock(&stream_->mutex);
    text.swap(stream_->pendingText);
    if (stream_->progressDirty) {
      progress = stream_->progress;
      progressId = stream_->progressId;
      haveProgress = true;
      stream_->progressDirty = false;
    }
  }
  if (busyId_ == 0) return;
  if (haveProgress && progressId == busyId_) emit prefillProgress(busyId_, progress);
  if (!text.isEmpty()) emit textDelta(busyId_, text);
}

void EngineController::onWorkerLoaded(const ModelInfo& model,
                                      std::shared_ptr<const samba::Tokenizer> tokenizer) {
  loading_ = false;
  loaded_ = true;
  model_ = model;
  tokenizer_ = std::move(tokenizer);
  emit modelLoaded(model);
}

void EngineController::onWorkerLoadFailed(const QString& folder, const QString& message) {
  emit modelLoadFailed(folder, message);
}

void EngineController::onWorkerFinished(quint64 id, const GenerationStats& stats) {
  if (id != busyId_) return;
  flush();  // the last deltas before the end
  flushTimer_.stop();
  busyId_ = 0;
  emit finished(id, stats);
}

void EngineController::onWorkerFailed(quint64 id, const QString& message) {
  if (id != busyId_) return;
  flush();
  flushTimer_.stop();
  busyId_ = 0;
  emit failed(id, message);
}

}  // namespace sambalens
