// The library dock: the documents (check the ones to read; select one to
// view it), the import progress, and the saved sessions with a search
// field (Ctrl+F), rename in place (F2) and delete.
#pragma once

#include <QWidget>

class QLineEdit;
class QListView;
class QPushButton;
class QSplitter;

namespace sambalens::ui {

class DocumentListModel;
class ImportProgressView;
class SessionListModel;

class LibraryPanel : public QWidget {
  Q_OBJECT

 public:
  LibraryPanel(DocumentListModel* documents, SessionListModel* sessions, QWidget* parent = nullptr);

  QListView* documentList() const { return documentList_; }
  QListView* sessionList() const { return sessionList_; }
  QLineEdit* searchField() const { return search_; }
  ImportProgressView* importProgress() const { return progress_; }
  QSplitter* splitter() const { return splitter_; }

  // Selects the row of `sessionId` without emitting sessionActivated.
  void selectSession(qint64 sessionId);
  qint64 selectedSession() const;
  void selectDocument(int row);

 public slots:
  void focusSearch();
  void renameSelectedSession();
  void deleteSelectedSession();

 signals:
  void documentActivated(int row);
  void removeDocumentRequested(int row);
  void sessionActivated(qint64 sessionId);
  void deleteSessionRequested(qint64 sessionId);
  void exportSessionRequested(qint64 sessionId, const QString& format);
  void newSessionRequested();

 private:
  void showDocumentMenu(const QPoint& at);
  void showSessionMenu(const QPoint& at);

  DocumentListModel* documents_;
  SessionListModel* sessions_;
  QListView* documentList_;
  QListView* sessionList_;
  QLineEdit* search_;
  ImportProgressView* progress_;
  QSplitter* splitter_;
  bool quiet_ = false;  // selection changes made by the window, not the user
};

}  // namespace sambalens::ui
