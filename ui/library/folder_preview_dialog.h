// Shown when a code folder is dropped or opened: the tree that will be read,
// each file with its token count, and what is left out and why (.gitignore,
// build output, binaries, size). Nothing is read by the model until the
// user accepts. Non-modal for the event loop (opened with open()).
#pragma once

#include <QDialog>
#include <QHash>

#include "folder_preview.h"

class QLabel;
class QPushButton;
class QStandardItem;
class QStandardItemModel;
class QTreeView;

namespace sambalens::ui {

class FolderPreviewDialog : public QDialog {
  Q_OBJECT

 public:
  FolderPreviewDialog(const QString& root, const sambalens::ImportOptions& options,
                      sambalens::EngineController* engine, QWidget* parent = nullptr);

  const QString& root() const { return preview_->root(); }
  FolderPreview* preview() const { return preview_; }
  QStandardItemModel* treeModel() const { return model_; }
  QString summaryText() const;
  // True when the scan is done and, if a model is loaded, every file counted.
  bool isComplete() const;

 signals:
  void completed();

 private:
  void onScanned();
  void onCounts(int first, const QList<qint64>& counts);
  void updateSummary();
  QStandardItem* folderItem(const QString& relativeDir);

  FolderPreview* preview_;
  QLabel* summary_;
  QTreeView* view_;
  QStandardItemModel* model_;
  QPushButton* read_;
  QHash<QString, QStandardItem*> folders_;  // relative dir -> name item
  QList<QStandardItem*> fileTokenItems_;     // by file index
  bool complete_ = false;
};

}  // namespace sambalens::ui
