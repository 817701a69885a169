// Imports in batches, one after another: ImportService runs one job at a
// time and ignores a start() while busy, but the user may drop more files
// while an import runs. Each batch says why it was asked for, so the window
// knows whether its documents become the selection (a user's drop) or
// belong to a session being reopened.
#pragma once

#include <QList>
#include <QObject>
#include <QStringList>

#include "import_service.h"

namespace sambalens::ui {

struct ImportBatch {
  enum class Purpose { UserImport, SessionDocuments };
  quint64 id = 0;
  Purpose purpose = Purpose::UserImport;
  qint64 sessionId = 0;  // SessionDocuments: the session being reopened
  QStringList paths;
};

class ImportQueue : public QObject {
  Q_OBJECT

 public:
  explicit ImportQueue(sambalens::ImportService* service, QObject* parent = nullptr);

  // Queues `batch` (its id is assigned here and returned).
  quint64 enqueue(ImportBatch batch);
  bool isBusy() const { return running_.id != 0; }
  const ImportBatch& current() const { return running_; }
  int queuedBatches() const { return int(queue_.size()); }

 public slots:
  // Stops the running batch (files already imported are kept) and drops
  // the queued ones.
  void cancelAll();

 signals:
  void batchStarted(const sambalens::ui::ImportBatch& batch);
  void fileStarted(quint64 batchId, int index, const QString& path);
  void fileProgress(quint64 batchId, int index, int done, int total, const QString& detail);
  void fileFinished(quint64 batchId, int index, const sambalens::ImportedDocument& document, bool fromCache);
  void batchFinished(const sambalens::ui::ImportBatch& batch, const QList<sambalens::ImportedDocument>& documents,
                     bool cancelled);
  void idle();

 private:
  void startNext();
  void onFinished(const QList<sambalens::ImportedDocument>& documents, bool cancelled);

  sambalens::ImportService* service_;
  QList<ImportBatch> queue_;
  ImportBatch running_;
  quint64 nextId_ = 1;
};

}  // namespace sambalens::ui

Q_DECLARE_METATYPE(sambalens::ui::ImportBatch)
