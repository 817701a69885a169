#include "document_view.h"

#include <QDir>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QSplitter>
#include <QStackedWidget>
#include <QToolButton>
#include <QTreeWidget>
#include <QVBoxLayout>

#include "code_view.h"
#include "common/elided_label.h"
#include "library/document_list_model.h"
#include "pdf_view.h"

namespace sambalens::ui {

namespace {
constexpr int kSectionRole = Qt::UserRole + 1;  // index into document_.sections
}

DocumentView::DocumentView(QWidget* parent) : QWidget(parent) {
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(0, 0, 0, 0);
  layout->setSpacing(0);

  auto* header = new QWidget(this);
  auto* headerLayout = new QHBoxLayout(header);
  headerLayout->setContentsMargins(8, 4, 8, 4);
  title_ = new ElidedLabel(header);
  title_->setObjectName(QStringLiteral("documentTitle"));
  headerLayout->addWidget(title_, 1);
  pageLabel_ = new QLabel(header);
  pageLabel_->setObjectName(QStringLiteral("pageLabel"));
  headerLayout->addWidget(pageLabel_);
  zoomOut_ = new QToolButton(header);
  zoomOut_->setText(QStringLiteral("−"));
  zoomOut_->setToolTip(tr("Zoom out (Ctrl+-)"));
  zoomIn_ = new QToolButton(header);
  zoomIn_->setText(QStringLiteral("+"));
  zoomIn_->setToolTip(tr("Zoom in (Ctrl++)"));
  fit_ = new QToolButton(header);
  fit_->setText(tr("Fit"));
  fit_->setToolTip(tr("Fit the page width (Ctrl+0)"));
  headerLayout->addWidget(zoomOut_);
  headerLayout->addWidget(zoomIn_);
  headerLayout->addWidget(fit_);
  layout->addWidget(header);

  stack_ = new QStackedWidget(this);
  layout->addWidget(stack_, 1);

  empty_ = new QLabel(tr("<p style='font-size: 15pt; color: #777'>Drop PDFs, text files or code folders here</p>"
                         "<p style='color: #888'>or use File › Open (Ctrl+O) and Open Folder (Ctrl+Shift+O).<br>"
                         "Documents are read whole: nothing is cut, whatever their length.</p>"),
                      this);
  static_cast<QLabel*>(empty_)->setAlignment(Qt::AlignCenter);
  static_cast<QLabel*>(empty_)->setWordWrap(true);
  stack_->addWidget(empty_);

  pdf_ = new PdfView(this);
  pdf_->setObjectName(QStringLiteral("pdfView"));
  stack_->addWidget(pdf_);

  folderPage_ = new QSplitter(Qt::Horizontal, this);
  folderPage_->setObjectName(QStringLiteral("codeSplitter"));
  files_ = new QTreeWidget(folderPage_);
  files_->setObjectName(QStringLiteral("fileTree"));
  files_->setHeaderHidden(true);
  files_->setUniformRowHeights(true);
  code_ = new CodeView(folderPage_);
  code_->setObjectName(QStringLiteral("codeView"));
  static_cast<QSplitter*>(folderPage_)->setStretchFactor(1, 1);
  static_cast<QSplitter*>(folderPage_)->setSizes({220, 600});
  stack_->addWidget(folderPage_);
  codeHost_ = folderPage_;

  connect(files_, &QTreeWidget::currentItemChanged, this, [this](QTreeWidgetItem* item) { showFileItem(item); });
  connect(pdf_, &PdfView::currentPageChanged, this, [this](int page, int count) {
    pageLabel_->setText(count > 0 ? tr("page %1 of %2").arg(page).arg(count) : QString());
  });
  connect(pdf_, &PdfView::openFailed, this, [this](const QString& message) { pageLabel_->setText(message); });
  connect(zoomIn_, &QToolButton::clicked, pdf_, &PdfView::zoomIn);
  connect(zoomOut_, &QToolButton::clicked, pdf_, &PdfView::zoomOut);
  connect(fit_, &QToolButton::clicked, pdf_, &PdfView::fitWidth);
  clear();
}

void DocumentView::clear() {
  document_ = ImportedDocument();
  pdf_->close();
  files_->clear();
  fileItems_.clear();
  code_->setDocumentText(QString());
  stack_->setCurrentWidget(empty_);
  updateHeader();
}

void DocumentView::updateHeader() {
  const bool pdf = stack_->currentWidget() == pdf_;
  zoomIn_->setVisible(pdf);
  zoomOut_->setVisible(pdf);
  fit_->setVisible(pdf);
  pageLabel_->setVisible(pdf);
  if (document_.path.isEmpty()) {
    title_->setFullText(QString());
    return;
  }
  title_->setFullText(QStringLiteral("%1 — %2").arg(document_.displayName(), DocumentListModel::factsOf(document_, -1)));
  title_->setToolTip(QDir::toNativeSeparators(document_.path));
}

void DocumentView::showDocument(const ImportedDocument& document) {
  if (document.path == document_.path && document.contentHash == document_.contentHash && !document.path.isEmpty()) {
    return;  // already shown: keep the page and scroll position
  }
  document_ = document;
  files_->clear();
  fileItems_.clear();
  if (document.kind == QLatin1String("pdf")) {
    pdf_->open(document.path);
    pageLabel_->setText(tr("opening…"));
    stack_->setCurrentWidget(pdf_);
  } else {
    pdf_->close();
    buildFileTree();
    // A single text file needs no tree.
    files_->setVisible(document.kind == QLatin1String("code") || document.sections.size() > 1);
    stack_->setCurrentWidget(codeHost_);
    if (files_->topLevelItemCount() > 0) {
      QTreeWidgetItem* first = files_->topLevelItem(0);
      while (first->childCount() > 0) first = first->child(0);
      files_->setCurrentItem(first);
    } else {
      code_->setDocumentText(QString());
    }
  }
  updateHeader();
}

void DocumentView::buildFileTree() {
  QHash<QString, QTreeWidgetItem*> folders;
  const auto folderItem = [&](const QString& dir, auto& self) -> QTreeWidgetItem* {
    if (dir.isEmpty()) return nullptr;
    if (QTreeWidgetItem* item = folders.value(dir)) return item;
    const int slash = dir.lastIndexOf(QLatin1Char('/'));
    QTreeWidgetItem* parent = self(slash < 0 ? QString() : dir.left(slash), self);
    auto* item = parent ? new QTreeWidgetItem(parent) : new QTreeWidgetItem(files_);
    item->setText(0, dir.mid(slash + 1) + QLatin1Char('/'));
    item->setFlags(Qt::ItemIsEnabled);
    folders.insert(dir, item);
    return item;
  };
  const QHash<QString, QList<QPair<int, int>>> cited = citedLines_.value(document_.path);
  for (int i = 0; i < document_.sections.size(); ++i) {
    const DocumentSection& s = document_.sections[i];
    const QString path = s.relativePath.isEmpty() ? document_.displayName() : s.relativePath;
    const int slash = path.lastIndexOf(QLatin1Char('/'));
    QTreeWidgetItem* parent = folderItem(slash < 0 ? QString() : path.left(slash), folderItem);
    auto* item = parent ? new QTreeWidgetItem(parent) : new QTreeWidgetItem(files_);
    item->setText(0, path.mid(slash + 1));
    item->setToolTip(0, path);
    item->setData(0, kSectionRole, i);
    if (cited.contains(s.relativePath)) {
      QFont f = item->font(0);
      f.setBold(true);
      item->setFont(0, f);
      item->setToolTip(0, tr("%1 — the answer points here").arg(path));
    }
    fileItems_.insert(s.relativePath, item);
  }
  files_->expandToDepth(0);
}

void DocumentView::showFileItem(QTreeWidgetItem* item) {
  if (!item || !item->data(0, kSectionRole).isValid()) return;
  const int index = item->data(0, kSectionRole).toInt();
  if (index < 0 || index >= document_.sections.size()) return;
  const DocumentSection& s = document_.sections[index];
  code_->setDocumentText(s.text, s.relativePath.isEmpty() ? document_.path : s.relativePath);
  code_->setHighlightedLines(citedLines_.value(document_.path).value(s.relativePath));
}

QString DocumentView::currentFile() const {
  QTreeWidgetItem* item = files_->currentItem();
  if (!item || !item->data(0, kSectionRole).isValid()) return {};
  const int index = item->data(0, kSectionRole).toInt();
  return index < document_.sections.size() ? document_.sections[index].relativePath : QString();
}

void DocumentView::showPage(int page) {
  if (document_.kind != QLatin1String("pdf")) return;
  pdf_->showPage(page, true);
}

bool DocumentView::showFile(const QString& relativePath, int firstLine, int lastLine) {
  QTreeWidgetItem* item = fileItems_.value(relativePath);
  if (!item) return false;
  files_->setCurrentItem(item);
  files_->scrollToItem(item);
  if (firstLine > 0) {
    // The cited lines are marked along with the others of the answer.
    QList<QPair<int, int>> ranges = citedLines_.value(document_.path).value(relativePath);
    const QPair<int, int> range{firstLine, qMax(firstLine, lastLine)};
    if (!ranges.contains(range)) ranges.append(range);
    code_->setHighlightedLines(ranges);
    code_->showLine(firstLine);
  }
  return true;
}

void DocumentView::setCitedLines(const QString& documentPath, const QHash<QString, QList<QPair<int, int>>>& lines) {
  citedLines_.insert(documentPath, lines);
  if (documentPath != document_.path) return;
  const QString current = currentFile();
  // Rebuild the tree so cited files are marked; keep the file shown.
  const QSignalBlocker block(files_);
  files_->clear();
  fileItems_.clear();
  buildFileTree();
  if (QTreeWidgetItem* item = fileItems_.value(current)) files_->setCurrentItem(item);
  code_->setHighlightedLines(lines.value(current));
}

}  // namespace sambalens::ui
