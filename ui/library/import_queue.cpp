#include "import_queue.h"

#include <QTimer>

namespace sambalens::ui {

ImportQueue::ImportQueue(ImportService* service, QObject* parent) : QObject(parent), service_(service) {
  connect(service_, &ImportService::fileStarted, this, [this](int index, int, const QString& path) {
    if (running_.id) emit fileStarted(running_.id, index, path);
  });
  connect(service_, &ImportService::fileProgress, this, [this](int index, int done, int total, const QString& detail) {
    if (running_.id) emit fileProgress(running_.id, index, done, total, detail);
  });
  connect(service_, &ImportService::fileFinished, this,
          [this](int index, const ImportedDocument& document, bool fromCache) {
            if (running_.id) emit fileFinished(running_.id, index, document, fromCache);
          });
  connect(service_, &ImportService::finished, this, &ImportQueue::onFinished);
}

quint64 ImportQueue::enqueue(ImportBatch batch) {
  batch.id = nextId_++;
  queue_.append(batch);
  // Started from the event loop, so the caller can connect to the batch's
  // signals (and an empty batch's immediate finish) after enqueue returns.
  if (!isBusy()) QTimer::singleShot(0, this, &ImportQueue::startNext);
  return batch.id;
}

void ImportQueue::startNext() {
  if (isBusy() || queue_.isEmpty()) return;
  running_ = queue_.takeFirst();
  emit batchStarted(running_);
  service_->start(running_.paths);
}

void ImportQueue::onFinished(const QList<ImportedDocument>& documents, bool cancelled) {
  if (!running_.id) return;
  const ImportBatch batch = running_;
  running_ = ImportBatch();
  emit batchFinished(batch, documents, cancelled);
  if (queue_.isEmpty()) {
    emit idle();
  } else {
    QTimer::singleShot(0, this, &ImportQueue::startNext);
  }
}

void ImportQueue::cancelAll() {
  queue_.clear();
  if (isBusy()) service_->cancel();  // emits finished(..., true)
}

}  // namespace sambalens::ui
