#include "folder_preview_dialog.h"

#include <QDialogButtonBox>
#include <QDir>
#include <QFileInfo>
#include <QHeaderView>
#include <QLabel>
#include <QPushButton>
#include <QStandardItemModel>
#include <QTreeView>
#include <QVBoxLayout>

#include "token_budget.h"

namespace sambalens::ui {

namespace {
enum Column { NameColumn, TokensColumn, SizeColumn, NoteColumn };
constexpr int kSumRole = Qt::UserRole + 1;

QString humanBytes(qint64 bytes) {
  if (bytes < 1024) return QStringLiteral("%1 B").arg(bytes);
  if (bytes < 1024 * 1024) return QStringLiteral("%1 KiB").arg(bytes / 1024.0, 0, 'f', 1);
  return QStringLiteral("%1 MiB").arg(bytes / (1024.0 * 1024.0), 0, 'f', 1);
}

QList<QStandardItem*> makeRow(const QString& name, const QString& tokens, const QString& size, const QString& note) {
  QList<QStandardItem*> row{new QStandardItem(name), new QStandardItem(tokens), new QStandardItem(size),
                            new QStandardItem(note)};
  for (QStandardItem* item : row) item->setEditable(false);
  row[TokensColumn]->setTextAlignment(Qt::AlignRight | Qt::AlignVCenter);
  row[SizeColumn]->setTextAlignment(Qt::AlignRight | Qt::AlignVCenter);
  return row;
}
}  // namespace

FolderPreviewDialog::FolderPreviewDialog(const QString& root, const ImportOptions& options, EngineController* engine,
                                         QWidget* parent)
    : QDialog(parent), preview_(new FolderPreview(QFileInfo(root).absoluteFilePath(), options, engine, this)) {
  setWindowTitle(tr("Read %1?").arg(QFileInfo(root).fileName()));
  setAttribute(Qt::WA_DeleteOnClose);
  resize(720, 520);
  auto* layout = new QVBoxLayout(this);
  auto* intro = new QLabel(
      tr("<b>%1</b><br>These files will be read by the model, each with its path. Files in .gitignore, "
         "build output, dependencies, binaries and files above %2 are left out.")
          .arg(QDir::toNativeSeparators(preview_->root()).toHtmlEscaped(), humanBytes(options.maxFileBytes)),
      this);
  intro->setWordWrap(true);
  layout->addWidget(intro);
  model_ = new QStandardItemModel(this);
  model_->setHorizontalHeaderLabels({tr("Name"), tr("Tokens"), tr("Size"), tr("Left out because")});
  view_ = new QTreeView(this);
  view_->setModel(model_);
  view_->setUniformRowHeights(true);
  view_->header()->setSectionResizeMode(NameColumn, QHeaderView::Stretch);
  view_->header()->setSectionResizeMode(TokensColumn, QHeaderView::ResizeToContents);
  view_->header()->setSectionResizeMode(SizeColumn, QHeaderView::ResizeToContents);
  view_->header()->setStretchLastSection(false);
  view_->header()->setSectionResizeMode(NoteColumn, QHeaderView::Interactive);
  view_->header()->resizeSection(NoteColumn, 200);
  layout->addWidget(view_, 1);
  summary_ = new QLabel(tr("Scanning…"), this);
  summary_->setObjectName(QStringLiteral("previewSummary"));
  summary_->setWordWrap(true);
  layout->addWidget(summary_);
  auto* buttons = new QDialogButtonBox(this);
  read_ = buttons->addButton(tr("Read these files"), QDialogButtonBox::AcceptRole);
  read_->setObjectName(QStringLiteral("readFolder"));
  read_->setEnabled(false);
  buttons->addButton(QDialogButtonBox::Cancel);
  layout->addWidget(buttons);
  connect(buttons, &QDialogButtonBox::accepted, this, &QDialog::accept);
  connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
  connect(this, &QDialog::finished, preview_, &FolderPreview::cancel);

  connect(preview_, &FolderPreview::scanProgress, this,
          [this](int seen) { summary_->setText(tr("Scanning… %1 entries seen").arg(formatCount(seen))); });
  connect(preview_, &FolderPreview::scanned, this, &FolderPreviewDialog::onScanned);
  connect(preview_, &FolderPreview::tokensCounted, this, &FolderPreviewDialog::onCounts);
  connect(preview_, &FolderPreview::countingFinished, this, [this] {
    complete_ = true;
    updateSummary();
    emit completed();
  });
  preview_->start();
}

QStandardItem* FolderPreviewDialog::folderItem(const QString& relativeDir) {
  if (relativeDir.isEmpty()) return model_->invisibleRootItem();
  if (QStandardItem* item = folders_.value(relativeDir)) return item;
  const int slash = relativeDir.lastIndexOf(QLatin1Char('/'));
  QStandardItem* parent = folderItem(slash < 0 ? QString() : relativeDir.left(slash));
  QList<QStandardItem*> row = makeRow(relativeDir.mid(slash + 1) + QLatin1Char('/'), QString(), QString(), QString());
  row[TokensColumn]->setData(qint64(0), kSumRole);
  parent->appendRow(row);
  folders_.insert(relativeDir, row[NameColumn]);
  return row[NameColumn];
}

void FolderPreviewDialog::onScanned() {
  const ScanResult& result = preview_->result();
  const bool counting = preview_->countsTokens();
  for (const ScannedFile& file : result.files) {
    const int slash = file.relativePath.lastIndexOf(QLatin1Char('/'));
    QStandardItem* parent = folderItem(slash < 0 ? QString() : file.relativePath.left(slash));
    QList<QStandardItem*> row = makeRow(file.relativePath.mid(slash + 1), counting ? tr("…") : tr("—"),
                                        humanBytes(file.bytes), QString());
    row[NameColumn]->setToolTip(file.relativePath);
    parent->appendRow(row);
    fileTokenItems_.append(row[TokensColumn]);
  }
  const QColor grey(0x80, 0x80, 0x80);
  for (const ScannedExclusion& ex : result.exclusions) {
    const int slash = ex.relativePath.lastIndexOf(QLatin1Char('/'));
    QStandardItem* parent = folderItem(slash < 0 ? QString() : ex.relativePath.left(slash));
    QList<QStandardItem*> row = makeRow(ex.relativePath.mid(slash + 1) + (ex.isDirectory ? QStringLiteral("/") : QString()),
                                        QString(), QString(), ex.reason);
    for (QStandardItem* item : row) item->setForeground(grey);
    row[NameColumn]->setToolTip(tr("%1: left out (%2)").arg(ex.relativePath, ex.reason));
    parent->appendRow(row);
  }
  view_->expandToDepth(0);
  read_->setEnabled(!result.files.isEmpty() && !result.cancelled);
  read_->setText(result.files.size() == 1 ? tr("Read 1 file") : tr("Read %1 files").arg(result.files.size()));
  updateSummary();
}

void FolderPreviewDialog::onCounts(int first, const QList<qint64>& counts) {
  for (int i = 0; i < counts.size(); ++i) {
    const int index = first + i;
    if (index >= fileTokenItems_.size()) break;
    QStandardItem* item = fileTokenItems_[index];
    item->setText(counts[i] >= 0 ? formatCount(counts[i]) : tr("unreadable"));
    if (counts[i] <= 0) continue;
    // Each folder shows the sum of what it holds.
    for (QStandardItem* p = item->index().parent().isValid() ? model_->itemFromIndex(item->index().parent()) : nullptr;
         p; p = p->parent()) {
      QStandardItem* sum = p->parent() ? p->parent()->child(p->row(), TokensColumn)
                                       : model_->item(p->row(), TokensColumn);
      const qint64 total = sum->data(kSumRole).toLongLong() + counts[i];
      sum->setData(total, kSumRole);
      sum->setText(formatCount(total));
    }
  }
  updateSummary();
}

void FolderPreviewDialog::updateSummary() {
  const ScanResult& result = preview_->result();
  QString text = result.files.size() == 1 ? tr("1 file to read") : tr("%1 files to read").arg(formatCount(result.files.size()));
  if (preview_->countsTokens()) {
    text += tr(" · %1 tokens").arg(formatCount(preview_->totalTokens()));
    if (!complete_) {
      text += tr(" (counting: %1 of %2 files)").arg(preview_->countedFiles()).arg(result.files.size());
    }
  } else {
    text += tr(" · tokens are counted once a model is loaded");
  }
  text += result.exclusions.size() == 1 ? tr(" · 1 entry left out") : tr(" · %1 entries left out").arg(result.exclusions.size());
  if (result.cancelled) text = tr("Scan cancelled.");
  summary_->setText(text);
}

QString FolderPreviewDialog::summaryText() const { return summary_->text(); }

bool FolderPreviewDialog::isComplete() const { return complete_; }

}  // namespace sambalens::ui
