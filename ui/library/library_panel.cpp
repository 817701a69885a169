#include "library_panel.h"

#include <QAction>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QListView>
#include <QMenu>
#include <QPushButton>
#include <QSplitter>
#include <QTimer>
#include <QVBoxLayout>

#include "document_list_model.h"
#include "import_progress_view.h"
#include "session_list_model.h"

namespace sambalens::ui {

namespace {
QLabel* sectionTitle(const QString& text, QWidget* parent) {
  auto* label = new QLabel(QStringLiteral("<b>%1</b>").arg(text), parent);
  label->setContentsMargins(2, 4, 2, 2);
  return label;
}
}  // namespace

LibraryPanel::LibraryPanel(DocumentListModel* documents, SessionListModel* sessions, QWidget* parent)
    : QWidget(parent), documents_(documents), sessions_(sessions) {
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(4, 4, 4, 4);
  splitter_ = new QSplitter(Qt::Vertical, this);
  splitter_->setObjectName(QStringLiteral("librarySplitter"));
  layout->addWidget(splitter_);

  auto* docsBox = new QWidget(splitter_);
  auto* docsLayout = new QVBoxLayout(docsBox);
  docsLayout->setContentsMargins(0, 0, 0, 0);
  docsLayout->addWidget(sectionTitle(tr("Documents"), docsBox));
  documentList_ = new QListView(docsBox);
  documentList_->setObjectName(QStringLiteral("documentList"));
  documentList_->setModel(documents_);
  documentList_->setUniformItemSizes(false);
  documentList_->setWordWrap(true);
  documentList_->setContextMenuPolicy(Qt::CustomContextMenu);
  documentList_->setToolTip(tr("Checked documents are read by the model; select one to view it"));
  docsLayout->addWidget(documentList_, 1);
  progress_ = new ImportProgressView(docsBox);
  progress_->setObjectName(QStringLiteral("importProgress"));
  docsLayout->addWidget(progress_);

  auto* sessionsBox = new QWidget(splitter_);
  auto* sessionsLayout = new QVBoxLayout(sessionsBox);
  sessionsLayout->setContentsMargins(0, 0, 0, 0);
  auto* sessionsHeader = new QHBoxLayout;
  sessionsHeader->addWidget(sectionTitle(tr("Sessions"), sessionsBox), 1);
  auto* newSession = new QPushButton(tr("New"), sessionsBox);
  newSession->setObjectName(QStringLiteral("newSession"));
  newSession->setToolTip(tr("Start a new session (Ctrl+N)"));
  newSession->setFlat(true);
  sessionsHeader->addWidget(newSession);
  sessionsLayout->addLayout(sessionsHeader);
  search_ = new QLineEdit(sessionsBox);
  search_->setObjectName(QStringLiteral("sessionSearch"));
  search_->setPlaceholderText(tr("Search sessions (Ctrl+F)"));
  search_->setClearButtonEnabled(true);
  sessionsLayout->addWidget(search_);
  sessionList_ = new QListView(sessionsBox);
  sessionList_->setObjectName(QStringLiteral("sessionList"));
  sessionList_->setModel(sessions_);
  sessionList_->setWordWrap(true);
  sessionList_->setEditTriggers(QAbstractItemView::EditKeyPressed | QAbstractItemView::SelectedClicked);
  sessionList_->setContextMenuPolicy(Qt::CustomContextMenu);
  sessionsLayout->addWidget(sessionList_, 1);
  splitter_->setStretchFactor(0, 1);
  splitter_->setStretchFactor(1, 1);

  connect(documentList_->selectionModel(), &QItemSelectionModel::currentChanged, this,
          [this](const QModelIndex& current) {
            if (!quiet_ && current.isValid()) emit documentActivated(current.row());
          });
  connect(documentList_, &QListView::customContextMenuRequested, this, &LibraryPanel::showDocumentMenu);
  connect(sessionList_->selectionModel(), &QItemSelectionModel::currentChanged, this,
          [this](const QModelIndex& current) {
            if (!quiet_ && current.isValid()) emit sessionActivated(sessions_->sessionId(current.row()));
          });
  connect(sessionList_, &QListView::customContextMenuRequested, this, &LibraryPanel::showSessionMenu);
  connect(newSession, &QPushButton::clicked, this, &LibraryPanel::newSessionRequested);

  // Search as the user types, once they pause.
  auto* searchDelay = new QTimer(this);
  searchDelay->setSingleShot(true);
  searchDelay->setInterval(200);
  connect(search_, &QLineEdit::textChanged, searchDelay, qOverload<>(&QTimer::start));
  connect(searchDelay, &QTimer::timeout, this, [this] {
    const qint64 selected = selectedSession();
    sessions_->setFilter(search_->text());
    selectSession(selected);
  });
  // The list is rebuilt by the model on refresh: keep the selection.
  connect(sessions_, &QAbstractItemModel::modelAboutToBeReset, this, [this] {
    setProperty("keepSession", selectedSession());
  });
  connect(sessions_, &QAbstractItemModel::modelReset, this,
          [this] { selectSession(property("keepSession").toLongLong()); });
}

void LibraryPanel::selectSession(qint64 sessionId) {
  quiet_ = true;
  const int row = sessionId > 0 ? sessions_->rowOfSession(sessionId) : -1;
  if (row >= 0) {
    sessionList_->setCurrentIndex(sessions_->index(row));
  } else {
    sessionList_->selectionModel()->clearCurrentIndex();
    sessionList_->clearSelection();
  }
  quiet_ = false;
}

qint64 LibraryPanel::selectedSession() const {
  const QModelIndex current = sessionList_->currentIndex();
  return current.isValid() ? sessions_->sessionId(current.row()) : 0;
}

void LibraryPanel::selectDocument(int row) {
  quiet_ = true;
  documentList_->setCurrentIndex(documents_->index(row));
  quiet_ = false;
}

void LibraryPanel::focusSearch() {
  search_->setFocus(Qt::ShortcutFocusReason);
  search_->selectAll();
}

void LibraryPanel::renameSelectedSession() {
  const QModelIndex current = sessionList_->currentIndex();
  if (current.isValid()) sessionList_->edit(current);
}

void LibraryPanel::deleteSelectedSession() {
  if (const qint64 id = selectedSession()) emit deleteSessionRequested(id);
}

void LibraryPanel::showDocumentMenu(const QPoint& at) {
  const QModelIndex index = documentList_->indexAt(at);
  if (!index.isValid()) return;
  QMenu menu(this);
  menu.addAction(tr("Show"), this, [this, row = index.row()] { emit documentActivated(row); });
  menu.addAction(tr("Remove from the library"), this, [this, row = index.row()] { emit removeDocumentRequested(row); });
  menu.exec(documentList_->viewport()->mapToGlobal(at));
}

void LibraryPanel::showSessionMenu(const QPoint& at) {
  const QModelIndex index = sessionList_->indexAt(at);
  if (!index.isValid()) return;
  const qint64 id = sessions_->sessionId(index.row());
  QMenu menu(this);
  menu.addAction(tr("Rename"), this, [this, index] { sessionList_->edit(index); });
  menu.addAction(tr("Export as Markdown…"), this, [this, id] { emit exportSessionRequested(id, QStringLiteral("md")); });
  menu.addAction(tr("Export as JSON…"), this, [this, id] { emit exportSessionRequested(id, QStringLiteral("json")); });
  menu.addSeparator();
  menu.addAction(tr("Delete"), this, [this, id] { emit deleteSessionRequested(id); });
  menu.exec(sessionList_->viewport()->mapToGlobal(at));
}

}  // namespace sambalens::ui
