// Per-file import progress: one row per file or folder with a progress bar
// and what happened to it (pages read, served from the cache, or the error
// naming the file), a Cancel button while it runs. Stays visible after a
// batch with failures until the user closes it.
#pragma once

#include <QHash>
#include <QWidget>

#include "import_queue.h"

class QLabel;
class QProgressBar;
class QPushButton;
class QTreeWidget;
class QTreeWidgetItem;

namespace sambalens::ui {

class ImportProgressView : public QWidget {
  Q_OBJECT

 public:
  explicit ImportProgressView(QWidget* parent = nullptr);

  void batchStarted(const sambalens::ui::ImportBatch& batch);
  void fileStarted(quint64 batchId, int index);
  void fileProgress(quint64 batchId, int index, int done, int total, const QString& detail);
  void fileFinished(quint64 batchId, int index, const sambalens::ImportedDocument& document, bool fromCache);
  void batchFinished(const sambalens::ui::ImportBatch& batch, bool cancelled);

  // For tests: the status text of row `row`.
  QString statusText(int row) const;
  int rows() const;

 signals:
  void cancelRequested();

 private:
  QTreeWidgetItem* item(quint64 batchId, int index) const;
  QProgressBar* bar(QTreeWidgetItem* item) const;

  QLabel* title_;
  QTreeWidget* tree_;
  QPushButton* cancel_;
  QPushButton* close_;
  QHash<quint64, QList<QTreeWidgetItem*>> items_;  // by batch id, by file index
  int failures_ = 0;
  int running_ = 0;
};

}  // namespace sambalens::ui
