#include "main_window.h"

#include <QAction>
#include <QApplication>
#include <QCloseEvent>
#include <QDir>
#include <QDockWidget>
#include <QElapsedTimer>
#include <QFile>
#include <QFileDialog>
#include <QFileInfo>
#include <QJsonDocument>
#include <QListView>
#include <QMenuBar>
#include <QMessageBox>
#include <QMimeData>
#include <QPushButton>
#include <QRegularExpression>
#include <QSaveFile>
#include <QSettings>
#include <QSplitter>
#include <QStatusBar>
#include <QVBoxLayout>
#include <QtConcurrent/QtConcurrentRun>
#include <algorithm>

#include "analysis/analysis_pane.h"
#include "analysis/run_progress.h"
#include "analysis/token_budget_meter.h"
#include "analysis/transcript_view.h"
#include "app_paths.h"
#include "common/message_bar.h"
#include "document/document_view.h"
#include "document/pdf_view.h"
#include "insight_hub.h"
#include "library/document_list_model.h"
#include "library/folder_preview_dialog.h"
#include "library/import_progress_view.h"
#include "library/library_panel.h"
#include "library/session_list_model.h"
#include "prompt_presets.h"
#include "status/model_folder_check.h"
#include "status/model_status_widget.h"
#include "token_budget.h"

namespace sambalens::ui {

namespace {
constexpr int kScriptedTimeoutMs = 15 * 60 * 1000;

QStringList sortedPaths(QStringList paths) {
  std::sort(paths.begin(), paths.end());
  return paths;
}
}  // namespace

MainWindow::MainWindow(AppContext* context, const WindowOptions& options, QWidget* parent)
    : QMainWindow(parent), context_(context), options_(options) {
  qRegisterMetaType<sambalens::ui::ImportBatch>();
  setWindowTitle(tr("SambaLens"));
  setAcceptDrops(true);
  documents_ = new DocumentListModel(this);
  sessions_ = new SessionListModel(context_->store(), this);
  imports_ = new ImportQueue(&context_->imports(), this);
  buildUi();
  buildActions();
  connectApp();
  if (options_.restoreLayout) restoreLayout();
  // Drops on any part of the window (the question field, the transcript...)
  // import files rather than pasting their names as text.
  qApp->installEventFilter(this);
  // The rest once the event loop runs, so the window shows at once.
  QTimer::singleShot(0, this, &MainWindow::start);
}

MainWindow::~MainWindow() {
  qApp->removeEventFilter(this);
  for (const QPointer<FolderPreviewDialog>& dialog : previews_) delete dialog.data();
}

QAction* MainWindow::action(const QString& name) const { return actions_.value(name); }

void MainWindow::buildUi() {
  auto* central = new QWidget(this);
  auto* layout = new QVBoxLayout(central);
  layout->setContentsMargins(0, 0, 0, 0);
  layout->setSpacing(0);
  messages_ = new MessageBar(central);
  messages_->setObjectName(QStringLiteral("messageBar"));
  layout->addWidget(messages_);
  documentView_ = new DocumentView(central);
  documentView_->setObjectName(QStringLiteral("documentView"));
  layout->addWidget(documentView_, 1);
  setCentralWidget(central);

  library_ = new LibraryPanel(documents_, sessions_, this);
  libraryDock_ = new QDockWidget(tr("Library"), this);
  libraryDock_->setObjectName(QStringLiteral("libraryDock"));
  libraryDock_->setWidget(library_);
  addDockWidget(Qt::LeftDockWidgetArea, libraryDock_);

  EngineController* engine = &context_->engine();
  pane_ = new AnalysisPane([engine] { return engine->tokensGenerated(); }, this);
  pane_->setObjectName(QStringLiteral("analysisPane"));
  analysisDock_ = new QDockWidget(tr("Analysis"), this);
  analysisDock_->setObjectName(QStringLiteral("analysisDock"));
  analysisDock_->setWidget(pane_);
  addDockWidget(Qt::RightDockWidgetArea, analysisDock_);
  resizeDocks({libraryDock_, analysisDock_}, {280, 460}, Qt::Horizontal);

  modelStatus_ = new ModelStatusWidget(this);
  statusBar()->addPermanentWidget(modelStatus_, 1);
  resize(1400, 900);
}

void MainWindow::buildActions() {
  const auto add = [this](QMenu* menu, const QString& name, const QString& text, const QList<QKeySequence>& keys,
                          auto slot) {
    auto* action = new QAction(text, this);
    action->setObjectName(name);
    action->setShortcuts(keys);
    connect(action, &QAction::triggered, this, slot);
    menu->addAction(action);
    addAction(action);  // shortcuts work while the menu bar is hidden too
    actions_.insert(name, action);
    return action;
  };
  QMenu* file = menuBar()->addMenu(tr("&File"));
  add(file, QStringLiteral("open"), tr("&Open…"), {QKeySequence::Open}, &MainWindow::openFiles);
  add(file, QStringLiteral("openFolder"), tr("Open &Folder…"), {QKeySequence(tr("Ctrl+Shift+O"))}, &MainWindow::openFolder);
  file->addSeparator();
  add(file, QStringLiteral("chooseModel"), tr("Choose &Model…"), {QKeySequence(tr("Ctrl+Shift+M"))},
      &MainWindow::chooseModel);
  file->addSeparator();
  add(file, QStringLiteral("exportMarkdown"), tr("&Export Session as Markdown…"), {QKeySequence(tr("Ctrl+E"))},
      [this] { exportSession(sessionId_, QStringLiteral("md")); });
  add(file, QStringLiteral("exportJson"), tr("Export Session as &JSON…"), {QKeySequence(tr("Ctrl+Shift+E"))},
      [this] { exportSession(sessionId_, QStringLiteral("json")); });
  file->addSeparator();
  add(file, QStringLiteral("quit"), tr("&Quit"), {QKeySequence::Quit}, &QWidget::close);

  QMenu* session = menuBar()->addMenu(tr("&Session"));
  add(session, QStringLiteral("newSession"), tr("&New Session"), {QKeySequence::New}, &MainWindow::newSession);
  add(session, QStringLiteral("searchSessions"), tr("&Search Sessions"), {QKeySequence::Find},
      [this] {
        libraryDock_->show();
        library_->focusSearch();
      });
  add(session, QStringLiteral("renameSession"), tr("&Rename Session"), {QKeySequence(Qt::Key_F2)},
      [this] { library_->renameSelectedSession(); });
  QAction* remove = add(session, QStringLiteral("deleteSession"), tr("&Delete Session…"), {QKeySequence::Delete},
                        [this] { library_->deleteSelectedSession(); });
  // Delete acts on the session list only, never on text being edited.
  removeAction(remove);
  remove->setShortcutContext(Qt::WidgetShortcut);
  library_->sessionList()->addAction(remove);

  QMenu* analysis = menuBar()->addMenu(tr("&Analysis"));
  int n = 1;
  for (const PromptPreset& preset : promptPresets()) {
    if (preset.needsQuestion()) continue;
    const QList<QKeySequence> keys = n <= 9 ? QList<QKeySequence>{QKeySequence(tr("Ctrl+%1").arg(n))} : QList<QKeySequence>{};
    ++n;
    add(analysis, QStringLiteral("preset_") + preset.id, preset.title, keys,
        [this, id = preset.id] { runPreset(id); });
  }
  add(analysis, QStringLiteral("ask"), tr("&Ask"), {QKeySequence(tr("Ctrl+Return")), QKeySequence(tr("Ctrl+Enter"))},
      [this] { pane_->ask(); });
  add(analysis, QStringLiteral("focusQuestion"), tr("&Type a Question"), {QKeySequence(tr("Ctrl+L"))},
      [this] {
        analysisDock_->show();
        pane_->focusQuestion();
      });
  add(analysis, QStringLiteral("stop"), tr("S&top"), {QKeySequence(Qt::Key_Escape)}, &MainWindow::stop);

  // Passkey sweeps, attention entropy and surprisal (ui/insight), on the
  // documents checked in the library.
  insight_ = new InsightHub(
      &context_->engine(), context_->store() ? context_->store()->path() : QString(),
      [this] {
        const QList<ImportedDocument> docs = documents_->checkedDocuments();
        QStringList names;
        for (const ImportedDocument& d : docs) names.append(d.displayName());
        return InsightDocumentText{composeModelText(docs), names.join(QStringLiteral(", "))};
      },
      this);
  installInsightMenu(this, insight_);

  QMenu* view = menuBar()->addMenu(tr("&View"));
  add(view, QStringLiteral("zoomIn"), tr("Zoom &In"), {QKeySequence::ZoomIn, QKeySequence(tr("Ctrl+="))},
      [this] { documentView_->pdfView()->zoomIn(); });
  add(view, QStringLiteral("zoomOut"), tr("Zoom &Out"), {QKeySequence::ZoomOut},
      [this] { documentView_->pdfView()->zoomOut(); });
  add(view, QStringLiteral("fitWidth"), tr("&Fit Width"), {QKeySequence(tr("Ctrl+0"))},
      [this] { documentView_->pdfView()->fitWidth(); });
  view->addSeparator();
  QAction* showLibrary = libraryDock_->toggleViewAction();
  showLibrary->setShortcut(QKeySequence(tr("Ctrl+Shift+L")));
  view->addAction(showLibrary);
  QAction* showAnalysis = analysisDock_->toggleViewAction();
  showAnalysis->setShortcut(QKeySequence(tr("Ctrl+Shift+A")));
  view->addAction(showAnalysis);

  QMenu* help = menuBar()->addMenu(tr("&Help"));
  add(help, QStringLiteral("shortcuts"), tr("&Keyboard Shortcuts"), {QKeySequence::HelpContents},
      &MainWindow::showShortcuts);
}

void MainWindow::connectApp() {
  // Library.
  connect(library_, &LibraryPanel::documentActivated, this, &MainWindow::showDocumentAt);
  connect(library_, &LibraryPanel::removeDocumentRequested, this, &MainWindow::removeDocument);
  connect(library_, &LibraryPanel::sessionActivated, this, &MainWindow::openSession);
  connect(library_, &LibraryPanel::deleteSessionRequested, this, &MainWindow::confirmDeleteSession);
  connect(library_, &LibraryPanel::exportSessionRequested, this, &MainWindow::exportSession);
  connect(library_, &LibraryPanel::newSessionRequested, this, &MainWindow::newSession);
  connect(sessions_, &SessionListModel::storeFailed, messages_, &MessageBar::error);
  connect(documents_, &DocumentListModel::checkedChanged, this, [this] {
    updateBudget();
    updateReadiness();
  });

  // Imports.
  ImportProgressView* progress = library_->importProgress();
  connect(imports_, &ImportQueue::batchStarted, progress, &ImportProgressView::batchStarted);
  connect(imports_, &ImportQueue::fileStarted, progress,
          [progress](quint64 batch, int index, const QString&) { progress->fileStarted(batch, index); });
  connect(imports_, &ImportQueue::fileProgress, progress, &ImportProgressView::fileProgress);
  connect(imports_, &ImportQueue::fileFinished, progress, &ImportProgressView::fileFinished);
  connect(imports_, &ImportQueue::batchFinished, progress,
          [progress](const ImportBatch& batch, const QList<ImportedDocument>&, bool cancelled) {
            progress->batchFinished(batch, cancelled);
          });
  connect(imports_, &ImportQueue::batchFinished, this, &MainWindow::onBatchFinished);
  connect(progress, &ImportProgressView::cancelRequested, imports_, &ImportQueue::cancelAll);

  // Model.
  EngineController* engine = &context_->engine();
  connect(engine, &EngineController::modelLoading, this, [this](const QString& folder) {
    modelStatus_->setLoading(folder);
    updateBudget();
    updateReadiness();
  });
  connect(engine, &EngineController::modelLoaded, this, &MainWindow::onModelLoaded);
  connect(engine, &EngineController::modelLoadFailed, this, &MainWindow::onModelLoadFailed);
  connect(modelStatus_, &ModelStatusWidget::chooseRequested, this, &MainWindow::chooseModel);

  // Analysis.
  AnalysisController* analysis = &context_->analysis();
  connect(pane_, &AnalysisPane::runRequested, this, &MainWindow::runPreset);
  connect(pane_, &AnalysisPane::stopRequested, this, &MainWindow::stop);
  connect(analysis, &AnalysisController::sessionCreated, this, [this](qint64 id) {
    sessionId_ = id;
    sessionPaths_.clear();
    for (const ImportedDocument& d : runDocuments_) sessionPaths_.append(d.path);
    sessions_->refresh();
    library_->selectSession(id);
  });
  connect(analysis, &AnalysisController::stateReused, this, [this](qint64 tokens) {
    pane_->progress()->reused(tokens);
    statusBar()->showMessage(
        tr("Reused the saved reading of this document: %1 tokens not read again").arg(formatCount(tokens)), 15000);
  });
  connect(analysis, &AnalysisController::prefillProgress, pane_->progress(), &RunProgress::prefill);
  connect(analysis, &AnalysisController::textDelta, this, &MainWindow::onAnswerDelta);
  connect(analysis, &AnalysisController::finished, this, &MainWindow::onAnswerFinished);
  connect(analysis, &AnalysisController::failed, this, &MainWindow::onAnswerFailed);
  connect(analysis, &AnalysisController::warning, messages_, &MessageBar::warning);
  connect(pane_->transcript(), &TranscriptView::citationActivated, this, &MainWindow::followCitation);
}

void MainWindow::restoreLayout() {
  QSettings settings;
  restoreGeometry(settings.value(QStringLiteral("window/geometry")).toByteArray());
  restoreState(settings.value(QStringLiteral("window/state")).toByteArray());
  library_->splitter()->restoreState(settings.value(QStringLiteral("window/librarySplitter")).toByteArray());
}

void MainWindow::saveLayout() {
  QSettings settings;
  settings.setValue(QStringLiteral("window/geometry"), saveGeometry());
  settings.setValue(QStringLiteral("window/state"), saveState());
  settings.setValue(QStringLiteral("window/librarySplitter"), library_->splitter()->saveState());
}

void MainWindow::start() {
  if (!context_->store()) {
    messages_->warning(tr("Sessions are not saved: %1").arg(context_->storeError()));
  }
  // The model: the one asked for, else the one chosen last, else the bundled one.
  QString folder = options_.modelFolder;
  if (folder.isEmpty()) {
    const QString last = QSettings().value(QStringLiteral("model/folder")).toString();
    if (!last.isEmpty() && QFileInfo(last + QStringLiteral("/config.json")).exists()) folder = last;
  }
  if (folder.isEmpty()) folder = findDefaultModel();
  if (!options_.loadModelAtStart) {
    modelStatus_->setUnavailable(tr("No model loaded"));
  } else if (folder.isEmpty()) {
    modelStatus_->setUnavailable(tr("No model found: use Choose model…"));
    messages_->warning(missingDefaultModelMessage());
  } else {
    loadModel(folder, false);
  }
  if (options_.restoreLastSession && context_->store() && !scripted()) {
    if (const std::optional<qint64> last = context_->store()->lastSessionId()) {
      if (context_->store()->session(*last)) openSession(*last);
    }
  }
  if (!options_.openPaths.isEmpty()) importPaths(options_.openPaths);
  if (scripted()) {
    scriptedImportsDone_ = options_.openPaths.isEmpty();
    scriptedWatchdog_.setSingleShot(true);
    connect(&scriptedWatchdog_, &QTimer::timeout, this, [] {
      qCritical("sambalens: the scripted run did not finish in time");
      QApplication::exit(3);
    });
    scriptedWatchdog_.start(kScriptedTimeoutMs);
  }
  updateBudget();
  updateReadiness();
}

// ---------------------------------------------------------------- imports

void MainWindow::importPaths(const QStringList& paths) {
  QStringList files;
  for (const QString& path : paths) {
    const QFileInfo info(path);
    if (!info.exists()) {
      messages_->error(tr("%1: no such file or folder").arg(QDir::toNativeSeparators(path)));
    } else if (info.isDir() && !scripted()) {
      // A folder is previewed first: what will be read, with token counts.
      auto* dialog = new FolderPreviewDialog(info.absoluteFilePath(), context_->imports().options(),
                                             &context_->engine(), this);
      dialog->setObjectName(QStringLiteral("folderPreview"));
      previews_.append(dialog);
      connect(dialog, &QDialog::accepted, this, [this, root = dialog->root()] {
        imports_->enqueue(ImportBatch{0, ImportBatch::Purpose::UserImport, 0, {root}});
      });
      dialog->open();
      emit folderPreviewOpened(dialog);
    } else {
      files.append(info.absoluteFilePath());
    }
  }
  if (!files.isEmpty()) imports_->enqueue(ImportBatch{0, ImportBatch::Purpose::UserImport, 0, files});
}

void MainWindow::openFiles() {
  const QString start = QSettings().value(QStringLiteral("import/lastFolder"), QDir::homePath()).toString();
  const QStringList files = QFileDialog::getOpenFileNames(
      this, tr("Open documents"), start,
      tr("Documents (*.pdf *.txt *.md *.markdown *.rst *.c *.cc *.cpp *.h *.hpp *.py *.js *.ts *.java *.go *.rs);;"
         "All files (*)"));
  if (files.isEmpty()) return;
  QSettings().setValue(QStringLiteral("import/lastFolder"), QFileInfo(files.front()).absolutePath());
  importPaths(files);
}

void MainWindow::openFolder() {
  const QString start = QSettings().value(QStringLiteral("import/lastFolder"), QDir::homePath()).toString();
  const QString folder = QFileDialog::getExistingDirectory(this, tr("Open a code folder"), start);
  if (folder.isEmpty()) return;
  QSettings().setValue(QStringLiteral("import/lastFolder"), QFileInfo(folder).absolutePath());
  importPaths({folder});
}

void MainWindow::onBatchFinished(const ImportBatch& batch, const QList<ImportedDocument>& imported, bool cancelled) {
  QStringList added;
  for (const ImportedDocument& doc : imported) {
    if (!doc.ok()) {
      if (doc.error != QLatin1String("cancelled")) {
        messages_->error(batch.purpose == ImportBatch::Purpose::SessionDocuments
                             ? tr("A document of this session could not be opened: %1").arg(doc.error)
                             : doc.error);
      }
      continue;
    }
    for (const QString& warning : doc.warnings) messages_->warning(tr("%1: %2").arg(doc.displayName(), warning));
    documents_->addOrReplace(doc);
    added.append(doc.path);
  }
  if (cancelled) messages_->note(tr("Import cancelled; %1 document(s) were imported before.").arg(added.size()));

  switch (batch.purpose) {
    case ImportBatch::Purpose::UserImport:
      // What was just dropped is what the user means to ask about.
      if (!added.isEmpty()) {
        documents_->setCheckedPaths(added);
        const int row = documents_->rowOfPath(added.front());
        library_->selectDocument(row);
        showDocumentAt(row);
      }
      if (scripted()) {
        scriptedImportsDone_ = !imports_->isBusy();
        maybeRunScripted();
      }
      break;
    case ImportBatch::Purpose::SessionDocuments:
      if (batch.sessionId == sessionId_) {
        documents_->setCheckedPaths(sessionPaths_);
        if (!sessionPaths_.isEmpty() && documents_->rowOfPath(sessionPaths_.front()) >= 0) {
          const int row = documents_->rowOfPath(sessionPaths_.front());
          library_->selectDocument(row);
          showDocumentAt(row);
        }
        // Now the citations of the stored answers can link to the documents.
        if (!context_->analysis().isRunning() && context_->store()) {
          pane_->transcript()->showMessages(context_->store()->messages(sessionId_), documents_->checkedDocuments());
        }
      }
      break;
  }
  if (citationImports_.contains(batch.id)) {
    const CitationTarget target = citationImports_.take(batch.id);
    if (documents_->rowOfPath(target.documentPath) >= 0) followCitation(target);
  }
  countDocumentTokens();
  updateBudget();
  updateReadiness();
}

void MainWindow::showDocumentAt(int row) {
  if (row < 0 || row >= documents_->rowCount()) return;
  documentView_->showDocument(documents_->document(row));
}

void MainWindow::removeDocument(int row) {
  if (row < 0 || row >= documents_->rowCount()) return;
  if (documents_->document(row).path == documentView_->documentPath()) documentView_->clear();
  documents_->removeRow(row);
}

// ---------------------------------------------------------------- tokens

QString MainWindow::selectionKey(const QList<ImportedDocument>& docs) const {
  QStringList parts;
  for (const ImportedDocument& d : docs) parts.append(d.path + QLatin1Char('\t') + d.contentHash);
  return parts.join(QLatin1Char('\n'));
}

void MainWindow::countTokensOf(const QList<ImportedDocument>& docs, std::function<void(qint64)> done) {
  // The text is put together on a pool thread (a 500-page PDF is megabytes),
  // then handed to the engine's tokenizer, which counts on a pool thread too.
  QtConcurrent::run([docs] { return composeModelText(docs); })
      .then(this, [this, done = std::move(done)](const QString& text) {
        context_->engine().countTokens(text).then(this, done);
      });
}

void MainWindow::countDocumentTokens() {
  EngineController& engine = context_->engine();
  if (!engine.isModelLoaded()) return;
  const QString fingerprint = engine.model().fingerprint;
  for (int row = 0; row < documents_->rowCount(); ++row) {
    if (documents_->tokens(row) >= 0) continue;
    const ImportedDocument& doc = documents_->document(row);
    const QString key = fingerprint + doc.path + doc.contentHash;
    if (countingTokens_.contains(key)) continue;
    countingTokens_.insert(key);
    countTokensOf({doc}, [this, key, fingerprint, path = doc.path, hash = doc.contentHash](qint64 tokens) {
      countingTokens_.remove(key);
      // A count made with another model's tokenizer is not this model's.
      if (tokens < 0 || context_->engine().model().fingerprint != fingerprint) return;
      documents_->setTokens(path, hash, tokens);
      updateBudget();
    });
  }
}

void MainWindow::updateBudget() {
  ++budgetGeneration_;
  TokenBudgetMeter* meter = pane_->budgetMeter();
  EngineController& engine = context_->engine();
  const QList<ImportedDocument> docs = documents_->checkedDocuments();
  if (docs.isEmpty()) {
    meter->setPending(tr("no documents selected"));
    return;
  }
  if (!engine.isModelLoaded()) {
    meter->setPending(engine.isLoading() ? tr("counted once the model has loaded") : tr("load a model to count tokens"));
    return;
  }
  const ModelInfo model = engine.model();
  const qint64 reused = savedReadings_.value(model.fingerprint + selectionKey(docs), 0);
  if (docs.size() == 1) {
    // One document: its own count is the count (same text as the prompt's).
    const int row = documents_->rowOfPath(docs.front().path);
    if (row >= 0 && documents_->tokens(row) >= 0) {
      meter->setBudget(assessTokenBudget(documents_->tokens(row), model, prefillRate_, reused));
    } else {
      meter->setPending(tr("counting tokens…"));
    }
    return;
  }
  meter->setPending(tr("counting tokens…"));
  const quint64 generation = budgetGeneration_;
  countTokensOf(docs, [this, generation, model, reused](qint64 tokens) {
    if (generation != budgetGeneration_ || tokens < 0) return;
    pane_->budgetMeter()->setBudget(assessTokenBudget(tokens, model, prefillRate_, reused));
  });
}

void MainWindow::updateReadiness() {
  EngineController& engine = context_->engine();
  QString reason;
  if (engine.isLoading()) {
    reason = tr("Loading the model…");
  } else if (!engine.isModelLoaded()) {
    reason = tr("No model is loaded: use Choose model… in the status bar.");
  } else if (documents_->checkedDocuments().isEmpty()) {
    reason = documents_->rowCount() == 0 ? tr("Drop a PDF, a text file or a code folder on the window (or Ctrl+O).")
                                         : tr("Check the documents to read in the library.");
  }
  pane_->setReady(reason.isEmpty(), reason);
  const bool running = context_->analysis().isRunning();
  pane_->setRunning(running);
  modelStatus_->setChooseEnabled(!running);
  if (QAction* choose = action(QStringLiteral("chooseModel"))) choose->setEnabled(!running);
}

// ---------------------------------------------------------------- model

void MainWindow::chooseModel() {
  if (context_->analysis().isRunning()) {
    messages_->note(tr("Stop the current answer before changing the model."));
    return;
  }
  QString start = context_->engine().model().folder;
  if (start.isEmpty()) start = QSettings().value(QStringLiteral("model/folder"), QDir::homePath()).toString();
  const QString folder = QFileDialog::getExistingDirectory(this, tr("Choose a model folder"), start);
  if (!folder.isEmpty()) loadModel(folder, true);
}

void MainWindow::loadModel(const QString& folder, bool fromUser) {
  userChoseModel_ = fromUser;
  const QString problem = checkModelFolder(folder);
  if (!problem.isEmpty()) {
    if (fromUser) {
      showModelError(problem);
    } else {
      messages_->error(tr("The model could not be loaded: %1").arg(problem));
      modelStatus_->setUnavailable(tr("No model loaded: use Choose model…"));
    }
    return;
  }
  context_->engine().loadModel(folder, options_.backend);
}

void MainWindow::onModelLoaded(const ModelInfo& model) {
  modelStatus_->setLoaded(model);
  // Remembered for next time, unless this is a scripted run (--screenshot).
  if (!scripted()) QSettings().setValue(QStringLiteral("model/folder"), model.folder);
  if (userChoseModel_) messages_->note(tr("Model loaded: %1").arg(ModelStatusWidget::describe(model)));
  documents_->clearTokens();
  countingTokens_.clear();
  countDocumentTokens();
  updateBudget();
  updateReadiness();
  maybeRunScripted();
}

void MainWindow::onModelLoadFailed(const QString& folder, const QString& message) {
  EngineController& engine = context_->engine();
  const QString text = tr("%1 could not be loaded: %2").arg(QDir::toNativeSeparators(folder), message);
  if (engine.isModelLoaded()) {
    modelStatus_->setLoaded(engine.model());  // the previous model is still in use
  } else {
    modelStatus_->setUnavailable(tr("No model loaded: use Choose model…"));
  }
  if (userChoseModel_) {
    showModelError(engine.isModelLoaded() ? text + tr("\n\nThe previous model stays in use.") : text);
  } else {
    messages_->error(text);
  }
  updateBudget();
  updateReadiness();
  if (scripted()) {
    qCritical("sambalens: %s", qPrintable(text));
    QApplication::exit(2);
  }
}

void MainWindow::showModelError(const QString& message) {
  // Window-modal, but opened with open(): the event loop (and the engine,
  // imports and rendering) carry on.
  auto* box = new QMessageBox(QMessageBox::Critical, tr("This model cannot be used"), message, QMessageBox::Ok, this);
  box->setObjectName(QStringLiteral("modelError"));
  box->setAttribute(Qt::WA_DeleteOnClose);
  box->open();
}

// ---------------------------------------------------------------- analysis

void MainWindow::runPreset(const QString& presetId, const QString& question) {
  AnalysisController& analysis = context_->analysis();
  if (analysis.isRunning()) return;
  const std::optional<PromptPreset> preset = findPromptPreset(presetId);
  if (!preset) {
    messages_->error(tr("Unknown prompt preset \"%1\"").arg(presetId));
    return;
  }
  const QList<ImportedDocument> docs = documents_->checkedDocuments();
  if (docs.isEmpty()) {
    messages_->note(tr("Nothing to read yet: drop a PDF, a text file or a code folder on the window."));
    return;
  }
  AnalysisRequest request;
  request.presetId = presetId;
  request.question = question;
  request.documents = docs;
  request.generation.maxNewTokens = options_.maxNewTokens;
  // The conversation goes on in the session shown when it is about the same
  // documents; other documents start a new session.
  const bool sameDocuments = sessionId_ > 0 && sortedPaths(sessionPaths_) == sortedPaths(documents_->checkedPaths());
  request.sessionId = sameDocuments ? sessionId_ : 0;
  if (!sameDocuments) {
    sessionId_ = 0;
    library_->selectSession(0);
    pane_->transcript()->clearTranscript();
  }
  answerStarted_ = false;
  runDocuments_ = docs;
  pane_->transcript()->beginAnswer(preset->needsQuestion() ? question : QStringLiteral("**%1**").arg(preset->title), docs);
  pane_->progress()->begin();
  pane_->setRunning(true);
  if (!analysis.start(request)) return;  // failed() told why (onAnswerFailed)
  updateReadiness();
}

void MainWindow::stop() { context_->analysis().stop(); }

void MainWindow::onAnswerDelta(const QString& text) {
  if (!answerStarted_) {
    answerStarted_ = true;
    pane_->progress()->writing();
  }
  pane_->transcript()->appendDelta(text);
}

void MainWindow::onAnswerFinished(const MessageRecord& answer, const GenerationStats& stats) {
  pane_->transcript()->finishAnswer(answer);
  pane_->progress()->finish(stats);
  if (stats.prefillTokensPerSecond > 0 && stats.promptTokens() - stats.reusedTokens > 256) {
    prefillRate_ = stats.prefillTokensPerSecond;
  }
  if (context_->store() && stats.contextTokens > 0 && !stats.cancelled) {
    savedReadings_.insert(context_->engine().model().fingerprint + selectionKey(runDocuments_), stats.contextTokens);
  }
  markCitedLines(answer.text);
  sessions_->refresh();
  library_->selectSession(sessionId_);
  updateBudget();
  updateReadiness();
  if (scripted()) finishScripted();
}

void MainWindow::onAnswerFailed(const QString& message) {
  pane_->transcript()->failAnswer(message);
  pane_->progress()->fail(message);
  messages_->error(message);
  updateReadiness();
  if (scripted() && scriptedStarted_) {
    qCritical("sambalens: %s", qPrintable(message));
    QApplication::exit(4);
  }
}

void MainWindow::markCitedLines(const QString& answer) {
  QList<CitationTarget> found;
  linkifyCitations(answer, runDocuments_, &found);
  QHash<QString, QHash<QString, QList<QPair<int, int>>>> byDocument;
  for (const CitationTarget& t : found) {
    if (t.kind != CitationTarget::Kind::File) continue;
    QList<QPair<int, int>>& ranges = byDocument[t.documentPath][t.relativePath];
    if (t.firstLine > 0) ranges.append({t.firstLine, t.lastLine});
  }
  for (auto it = byDocument.cbegin(); it != byDocument.cend(); ++it) documentView_->setCitedLines(it.key(), it.value());
}

void MainWindow::followCitation(const CitationTarget& target) {
  const int row = documents_->rowOfPath(target.documentPath);
  if (row < 0) {
    if (!QFileInfo::exists(target.documentPath)) {
      messages_->error(tr("%1 is no longer there.").arg(QDir::toNativeSeparators(target.documentPath)));
      return;
    }
    // Not in the library (an old session): import it, then follow.
    const quint64 batch = imports_->enqueue(
        ImportBatch{0, ImportBatch::Purpose::SessionDocuments, -1, {target.documentPath}});
    citationImports_.insert(batch, target);
    return;
  }
  library_->selectDocument(row);
  showDocumentAt(row);
  if (target.kind == CitationTarget::Kind::Page) {
    documentView_->showPage(target.page);
    statusBar()->showMessage(tr("Page %1 of %2").arg(target.page).arg(documents_->document(row).displayName()), 5000);
  } else if (!documentView_->showFile(target.relativePath, target.firstLine, target.lastLine)) {
    messages_->warning(tr("%1 is not among the files read from %2.")
                           .arg(target.relativePath, documents_->document(row).displayName()));
  }
}

// ---------------------------------------------------------------- sessions

void MainWindow::openSession(qint64 id) {
  SessionStore* store = context_->store();
  if (!store || id == sessionId_) return;
  if (context_->analysis().isRunning()) {
    messages_->note(tr("Stop the current answer before opening another session."));
    library_->selectSession(sessionId_);
    return;
  }
  if (!store->session(id)) {
    messages_->error(tr("That session no longer exists."));
    sessions_->refresh();
    return;
  }
  sessionId_ = id;
  store->setLastSessionId(id);
  library_->selectSession(id);
  sessionPaths_.clear();
  QStringList missing;
  for (const DocumentRecord& d : store->sessionDocuments(id)) {
    sessionPaths_.append(d.path);
    const int row = documents_->rowOfPath(d.path);
    if (row < 0 || documents_->document(row).contentHash != d.contentHash) {
      if (QFileInfo::exists(d.path)) {
        missing.append(d.path);
      } else {
        messages_->warning(tr("%1, read in this session, is no longer there.").arg(QDir::toNativeSeparators(d.path)));
      }
    }
  }
  QList<ImportedDocument> known;
  for (const QString& path : sessionPaths_) {
    const int row = documents_->rowOfPath(path);
    if (row >= 0) known.append(documents_->document(row));
  }
  pane_->transcript()->showMessages(store->messages(id), known);
  pane_->progress()->reset();
  if (missing.isEmpty()) {
    documents_->setCheckedPaths(sessionPaths_);
    if (!known.isEmpty()) {
      const int row = documents_->rowOfPath(known.front().path);
      library_->selectDocument(row);
      showDocumentAt(row);
    }
  } else {
    // Re-imported from the content-hash cache when unchanged: instant.
    imports_->enqueue(ImportBatch{0, ImportBatch::Purpose::SessionDocuments, id, missing});
  }
}

void MainWindow::newSession() {
  if (context_->analysis().isRunning()) return;
  sessionId_ = 0;
  sessionPaths_.clear();
  library_->selectSession(0);
  pane_->transcript()->clearTranscript();
  pane_->progress()->reset();
  pane_->focusQuestion();
}

void MainWindow::confirmDeleteSession(qint64 id) {
  SessionStore* store = context_->store();
  if (!store || id <= 0) return;
  const std::optional<SessionRecord> session = store->session(id);
  if (!session) return;
  auto* box = new QMessageBox(QMessageBox::Question, tr("Delete session"),
                              tr("Delete “%1” and its %2 message(s)? This cannot be undone.")
                                  .arg(session->title)
                                  .arg(session->messageCount),
                              QMessageBox::Yes | QMessageBox::Cancel, this);
  box->setObjectName(QStringLiteral("confirmDelete"));
  box->setAttribute(Qt::WA_DeleteOnClose);
  box->setDefaultButton(QMessageBox::Cancel);
  connect(box, &QMessageBox::buttonClicked, this, [this, box, id](QAbstractButton* button) {
    if (box->standardButton(button) != QMessageBox::Yes) return;
    const int row = sessions_->rowOfSession(id);
    if (row >= 0 && sessions_->removeSession(row) && id == sessionId_) newSession();
  });
  box->open();
}

void MainWindow::exportSession(qint64 id, const QString& format) {
  SessionStore* store = context_->store();
  if (!store || id <= 0) {
    messages_->note(tr("Open a session to export it."));
    return;
  }
  const std::optional<SessionRecord> session = store->session(id);
  if (!session) return;
  QString name = session->title;
  name.replace(QRegularExpression(QStringLiteral(R"([\\/:*?"<>|]+)")), QStringLiteral("_"));
  const QString suggested = QDir::home().filePath(name.left(80) + QLatin1Char('.') + format);
  const QString path = QFileDialog::getSaveFileName(
      this, tr("Export session"), suggested, format == QLatin1String("json") ? tr("JSON (*.json)") : tr("Markdown (*.md)"));
  if (path.isEmpty()) return;
  const QByteArray bytes = format == QLatin1String("json")
                               ? QJsonDocument(store->exportJson(id)).toJson(QJsonDocument::Indented)
                               : store->exportMarkdown(id).toUtf8();
  QSaveFile file(path);
  if (!file.open(QIODevice::WriteOnly) || file.write(bytes) != bytes.size() || !file.commit()) {
    messages_->error(tr("%1 could not be written: %2").arg(QDir::toNativeSeparators(path), file.errorString()));
    return;
  }
  messages_->note(tr("Exported to %1").arg(QDir::toNativeSeparators(path)));
}

void MainWindow::showShortcuts() {
  QStringList rows;
  for (QAction* a : actions()) {
    if (a->shortcut().isEmpty()) continue;
    QString text = a->text();
    text.remove(QLatin1Char('&'));
    text.remove(QStringLiteral("…"));
    rows.append(QStringLiteral("<tr><td><b>%1</b></td><td>%2</td></tr>")
                    .arg(a->shortcut().toString(QKeySequence::NativeText).toHtmlEscaped(), text.toHtmlEscaped()));
  }
  rows.append(tr("<tr><td><b>Del</b></td><td>Delete the selected session</td></tr>"));
  auto* box = new QMessageBox(QMessageBox::Information, tr("Keyboard shortcuts"),
                              QStringLiteral("<table cellspacing=6>%1</table>").arg(rows.join(QString())),
                              QMessageBox::Close, this);
  box->setAttribute(Qt::WA_DeleteOnClose);
  box->open();
}

// ---------------------------------------------------------------- drag and drop

bool MainWindow::acceptsUrls(const QMimeData* mime) { return mime && !localPaths(mime).isEmpty(); }

QStringList MainWindow::localPaths(const QMimeData* mime) {
  QStringList paths;
  if (!mime || !mime->hasUrls()) return paths;
  for (const QUrl& url : mime->urls()) {
    if (url.isLocalFile()) paths.append(url.toLocalFile());
  }
  return paths;
}

void MainWindow::dragEnterEvent(QDragEnterEvent* event) {
  if (acceptsUrls(event->mimeData())) {
    event->acceptProposedAction();
    statusBar()->showMessage(tr("Drop to import %n item(s)", nullptr, int(localPaths(event->mimeData()).size())));
  }
}

void MainWindow::dragMoveEvent(QDragMoveEvent* event) {
  if (acceptsUrls(event->mimeData())) event->acceptProposedAction();
}

void MainWindow::dropEvent(QDropEvent* event) {
  const QStringList paths = localPaths(event->mimeData());
  if (paths.isEmpty()) return;
  event->acceptProposedAction();
  statusBar()->clearMessage();
  importPaths(paths);
}

bool MainWindow::eventFilter(QObject* watched, QEvent* event) {
  const QEvent::Type type = event->type();
  if ((type == QEvent::DragEnter || type == QEvent::DragMove || type == QEvent::Drop) && watched != this &&
      watched->isWidgetType() && static_cast<QWidget*>(watched)->window() == this) {
    auto* drag = static_cast<QDropEvent*>(event);
    if (acceptsUrls(drag->mimeData())) {
      if (type == QEvent::DragEnter) dragEnterEvent(static_cast<QDragEnterEvent*>(event));
      if (type == QEvent::DragMove) dragMoveEvent(static_cast<QDragMoveEvent*>(event));
      if (type == QEvent::Drop) dropEvent(drag);
      return true;
    }
  }
  return QMainWindow::eventFilter(watched, event);
}

void MainWindow::closeEvent(QCloseEvent* event) {
  saveLayout();
  context_->analysis().stop();
  imports_->cancelAll();
  event->accept();
}

// ---------------------------------------------------------------- scripted run

void MainWindow::maybeRunScripted() {
  if (!scripted() || scriptedStarted_ || !scriptedImportsDone_ || !context_->engine().isModelLoaded()) return;
  scriptedStarted_ = true;
  if (documents_->checkedDocuments().isEmpty()) {
    qCritical("sambalens: nothing was imported, so nothing can be read");
    QApplication::exit(3);
    return;
  }
  if (options_.runPreset.isEmpty()) {
    finishScripted();
  } else {
    runPreset(options_.runPreset, options_.question);
  }
}

void MainWindow::finishScripted() {
  if (options_.screenshotPath.isEmpty()) {
    scriptedWatchdog_.stop();
    return;
  }
  // Wait until the PDF's pages in view are drawn, then take the picture.
  auto* poll = new QTimer(this);
  auto* waited = new QElapsedTimer;
  waited->start();
  connect(poll, &QTimer::timeout, this, [this, poll, waited] {
    const PdfView* pdf = documentView_->pdfView();
    const bool pdfShown = documentView_->document().kind == QLatin1String("pdf");
    if (pdfShown && !pdf->visiblePagesRendered() && waited->elapsed() < 30000) return;
    poll->stop();
    poll->deleteLater();
    delete waited;
    QTimer::singleShot(400, this, [this] {
      const bool saved = saveScreenshot(options_.screenshotPath);
      scriptedWatchdog_.stop();
      QApplication::exit(saved ? 0 : 1);
    });
  });
  poll->start(100);
}

bool MainWindow::saveScreenshot(const QString& path) {
  const QPixmap picture = grab();
  if (picture.isNull() || !picture.save(path)) {
    qCritical("sambalens: could not save the screenshot to %s", qPrintable(path));
    return false;
  }
  return true;
}

}  // namespace sambalens::ui
