#include "import_progress_view.h"

#include <QFileInfo>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QProgressBar>
#include <QPushButton>
#include <QTimer>
#include <QTreeWidget>
#include <QVBoxLayout>

#include "document_list_model.h"

namespace sambalens::ui {

namespace {
enum Column { NameColumn, ProgressColumn, StatusColumn };
}

ImportProgressView::ImportProgressView(QWidget* parent) : QWidget(parent) {
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(0, 0, 0, 0);
  auto* header = new QHBoxLayout;
  title_ = new QLabel(this);
  title_->setObjectName(QStringLiteral("importTitle"));
  title_->setWordWrap(true);
  title_->setMinimumWidth(60);
  header->addWidget(title_, 1);
  cancel_ = new QPushButton(tr("Cancel"), this);
  cancel_->setObjectName(QStringLiteral("cancelImport"));
  cancel_->setToolTip(tr("Stop importing; files already imported are kept"));
  close_ = new QPushButton(tr("Close"), this);
  header->addWidget(cancel_);
  header->addWidget(close_);
  layout->addLayout(header);
  tree_ = new QTreeWidget(this);
  tree_->setColumnCount(3);
  tree_->setHeaderLabels({tr("File"), tr("Progress"), tr("Status")});
  tree_->setRootIsDecorated(false);
  tree_->setUniformRowHeights(true);
  tree_->header()->setSectionResizeMode(NameColumn, QHeaderView::ResizeToContents);
  tree_->header()->setSectionResizeMode(ProgressColumn, QHeaderView::Fixed);
  tree_->header()->resizeSection(ProgressColumn, 90);
  tree_->header()->setStretchLastSection(true);
  tree_->setMaximumHeight(160);
  layout->addWidget(tree_);
  connect(cancel_, &QPushButton::clicked, this, &ImportProgressView::cancelRequested);
  connect(close_, &QPushButton::clicked, this, [this] {
    tree_->clear();
    items_.clear();
    failures_ = 0;
    hide();
  });
  hide();
}

void ImportProgressView::batchStarted(const ImportBatch& batch) {
  if (running_ == 0 && failures_ == 0) {  // a finished, clean batch's rows go
    tree_->clear();
    items_.clear();
  }
  ++running_;
  QList<QTreeWidgetItem*> rows;
  for (const QString& path : batch.paths) {
    auto* row = new QTreeWidgetItem(tree_);
    row->setText(NameColumn, QFileInfo(path).fileName());
    row->setToolTip(NameColumn, path);
    row->setText(StatusColumn, tr("waiting"));
    auto* progress = new QProgressBar(tree_);
    progress->setRange(0, 1);
    progress->setValue(0);
    progress->setTextVisible(false);
    progress->setMaximumHeight(14);
    tree_->setItemWidget(row, ProgressColumn, progress);
    rows.append(row);
  }
  items_.insert(batch.id, rows);
  title_->setText(batch.purpose == ImportBatch::Purpose::SessionDocuments ? tr("Opening the session's documents…")
                                                                          : tr("Importing…"));
  cancel_->setEnabled(true);
  close_->setEnabled(false);
  show();
}

QTreeWidgetItem* ImportProgressView::item(quint64 batchId, int index) const {
  const auto it = items_.find(batchId);
  if (it == items_.end() || index < 0 || index >= it->size()) return nullptr;
  return it->at(index);
}

QProgressBar* ImportProgressView::bar(QTreeWidgetItem* row) const {
  return qobject_cast<QProgressBar*>(tree_->itemWidget(row, ProgressColumn));
}

void ImportProgressView::fileStarted(quint64 batchId, int index) {
  QTreeWidgetItem* row = item(batchId, index);
  if (!row) return;
  row->setText(StatusColumn, tr("reading…"));
  if (QProgressBar* b = bar(row)) b->setRange(0, 0);  // busy until a total is known
  tree_->scrollToItem(row);
}

void ImportProgressView::fileProgress(quint64 batchId, int index, int done, int total, const QString& detail) {
  QTreeWidgetItem* row = item(batchId, index);
  if (!row) return;
  if (QProgressBar* b = bar(row)) {
    if (total > 0) {
      b->setRange(0, total);
      b->setValue(qBound(0, done, total));
    } else {
      b->setRange(0, 0);
    }
  }
  if (!detail.isEmpty()) row->setText(StatusColumn, detail);
}

void ImportProgressView::fileFinished(quint64 batchId, int index, const ImportedDocument& document, bool fromCache) {
  QTreeWidgetItem* row = item(batchId, index);
  if (!row) return;
  if (QProgressBar* b = bar(row)) {
    b->setRange(0, 1);
    b->setValue(1);
  }
  if (document.ok()) {
    QString status = DocumentListModel::factsOf(document, -1);
    if (fromCache) status += tr(" · unchanged, not read again");
    if (!document.warnings.isEmpty()) status += tr(" · %1 warning(s)").arg(document.warnings.size());
    row->setText(StatusColumn, status);
    row->setToolTip(StatusColumn, document.warnings.join(QLatin1Char('\n')));
  } else {
    ++failures_;
    row->setText(StatusColumn, document.error);
    row->setToolTip(StatusColumn, document.error);
    row->setForeground(StatusColumn, QColor(0xb0, 0x20, 0x20));
    if (QProgressBar* b = bar(row)) b->setValue(0);
  }
}

void ImportProgressView::batchFinished(const ImportBatch& batch, bool cancelled) {
  running_ = qMax(0, running_ - 1);
  if (cancelled) {
    for (QTreeWidgetItem* row : items_.value(batch.id)) {
      const QString status = row->text(StatusColumn);
      if (status == tr("waiting") || status == tr("reading…") || (bar(row) && bar(row)->maximum() == 0)) {
        row->setText(StatusColumn, tr("cancelled"));
        if (QProgressBar* b = bar(row)) b->setRange(0, 1);
      }
    }
  }
  if (running_ > 0) return;
  cancel_->setEnabled(false);
  close_->setEnabled(true);
  if (cancelled) {
    title_->setText(tr("Import cancelled; the files already read are kept."));
  } else if (failures_ > 0) {
    title_->setText(failures_ == 1 ? tr("1 file could not be imported.") : tr("%1 files could not be imported.").arg(failures_));
  } else {
    title_->setText(tr("Import done."));
    // A clean import needs no attention: the list goes after a moment.
    QTimer::singleShot(4000, this, [this] {
      if (running_ == 0 && failures_ == 0) hide();
    });
  }
}

QString ImportProgressView::statusText(int row) const {
  QTreeWidgetItem* it = tree_->topLevelItem(row);
  return it ? it->text(StatusColumn) : QString();
}

int ImportProgressView::rows() const { return tree_->topLevelItemCount(); }

}  // namespace sambalens::ui
