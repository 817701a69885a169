// The SambaLens window. Library dock (documents, sessions, imports) on the
// left, the document view in the middle, the analysis pane on the right,
// non-modal messages above the document, model and device in the status
// bar. It wires the views to the app objects of AppContext and never waits
// on them: engine, imports, token counts and PDF rendering all run off the
// GUI thread and report back through signals.
#pragma once

#include <QHash>
#include <QMainWindow>
#include <QPointer>
#include <QSet>
#include <QTimer>
#include <functional>

#include "analysis/citation_links.h"
#include "app_context.h"
#include "library/import_queue.h"
#include "window_options.h"

class QAction;
class QDockWidget;
class QMimeData;

namespace sambalens::ui {

class AnalysisPane;
class DocumentListModel;
class DocumentView;
class FolderPreviewDialog;
class InsightHub;
class LibraryPanel;
class MessageBar;
class ModelStatusWidget;
class SessionListModel;

class MainWindow : public QMainWindow {
  Q_OBJECT

 public:
  MainWindow(AppContext* context, const WindowOptions& options = {}, QWidget* parent = nullptr);
  ~MainWindow() override;

  // The parts, for tests and the screenshot run.
  DocumentListModel* documents() const { return documents_; }
  SessionListModel* sessions() const { return sessions_; }
  LibraryPanel* library() const { return library_; }
  DocumentView* documentView() const { return documentView_; }
  AnalysisPane* analysisPane() const { return pane_; }
  MessageBar* messages() const { return messages_; }
  ModelStatusWidget* modelStatus() const { return modelStatus_; }
  ImportQueue* importQueue() const { return imports_; }
  QDockWidget* libraryDock() const { return libraryDock_; }
  QDockWidget* analysisDock() const { return analysisDock_; }
  InsightHub* insight() const { return insight_; }
  qint64 currentSessionId() const { return sessionId_; }
  QAction* action(const QString& name) const;

 public slots:
  // Files are imported at once; each folder first shows its preview.
  void importPaths(const QStringList& paths);
  // Checks the folder, then loads it; `fromUser`: errors as a dialog.
  void loadModel(const QString& folder, bool fromUser = true);
  void chooseModel();
  void openFiles();
  void openFolder();
  void runPreset(const QString& presetId, const QString& question = QString());
  void stop();
  void openSession(qint64 sessionId);
  void newSession();
  void followCitation(const sambalens::ui::CitationTarget& target);
  bool saveScreenshot(const QString& path);

 signals:
  // A folder's preview was opened (tests accept it).
  void folderPreviewOpened(sambalens::ui::FolderPreviewDialog* dialog);

 protected:
  void closeEvent(QCloseEvent* event) override;
  void dragEnterEvent(QDragEnterEvent* event) override;
  void dragMoveEvent(QDragMoveEvent* event) override;
  void dropEvent(QDropEvent* event) override;
  bool eventFilter(QObject* watched, QEvent* event) override;

 private:
  void buildUi();
  void buildActions();
  void connectApp();
  void restoreLayout();
  void saveLayout();
  void start();

  void onBatchFinished(const ImportBatch& batch, const QList<sambalens::ImportedDocument>& documents, bool cancelled);
  void showDocumentAt(int row);
  void removeDocument(int row);
  void countDocumentTokens();
  // Counts the tokens of `docs` as the model reads them, off the GUI thread.
  void countTokensOf(const QList<sambalens::ImportedDocument>& docs, std::function<void(qint64)> done);
  void updateBudget();
  void updateReadiness();
  QString selectionKey(const QList<sambalens::ImportedDocument>& documents) const;

  void onModelLoaded(const sambalens::ModelInfo& model);
  void onModelLoadFailed(const QString& folder, const QString& message);
  void showModelError(const QString& message);

  void onAnswerDelta(const QString& text);
  void onAnswerFinished(const sambalens::MessageRecord& answer, const sambalens::GenerationStats& stats);
  void onAnswerFailed(const QString& message);
  void markCitedLines(const QString& answer);

  void confirmDeleteSession(qint64 sessionId);
  void exportSession(qint64 sessionId, const QString& format);
  void showShortcuts();

  bool scripted() const { return !options_.runPreset.isEmpty() || !options_.screenshotPath.isEmpty(); }
  void maybeRunScripted();
  void finishScripted();

  static bool acceptsUrls(const QMimeData* mime);
  static QStringList localPaths(const QMimeData* mime);

  AppContext* context_;
  WindowOptions options_;
  DocumentListModel* documents_ = nullptr;
  SessionListModel* sessions_ = nullptr;
  ImportQueue* imports_ = nullptr;
  LibraryPanel* library_ = nullptr;
  DocumentView* documentView_ = nullptr;
  AnalysisPane* pane_ = nullptr;
  MessageBar* messages_ = nullptr;
  ModelStatusWidget* modelStatus_ = nullptr;
  QDockWidget* libraryDock_ = nullptr;
  QDockWidget* analysisDock_ = nullptr;
  InsightHub* insight_ = nullptr;
  QHash<QString, QAction*> actions_;

  qint64 sessionId_ = 0;             // the session shown (0: a new one on the next run)
  QStringList sessionPaths_;         // its documents
  bool userChoseModel_ = false;
  bool answerStarted_ = false;
  QList<sambalens::ImportedDocument> runDocuments_;  // what the current (or last) run reads
  quint64 budgetGeneration_ = 0;
  double prefillRate_ = 0;           // measured on this machine, for time estimates
  QHash<QString, qint64> savedReadings_;  // selection key -> tokens held by a stored state
  QSet<QString> countingTokens_;     // path + hash of documents being counted
  QHash<quint64, CitationTarget> citationImports_;  // batch -> citation to follow after it
  QList<QPointer<FolderPreviewDialog>> previews_;

  // The scripted run (--preset / --screenshot).
  bool scriptedStarted_ = false;
  bool scriptedImportsDone_ = false;
  QTimer scriptedWatchdog_;
};

}  // namespace sambalens::ui
