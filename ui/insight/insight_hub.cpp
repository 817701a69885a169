#include "insight_hub.h"

#include <QAction>
#include <QFile>
#include <QFileDialog>
#include <QFileInfo>
#include <QMainWindow>
#include <QMenu>
#include <QMenuBar>
#include <QMessageBox>

#include "engine_controller.h"
#include "entropy_run_window.h"
#include "insight_controller.h"
#include "insight_runs_dialog.h"
#include "insight_store.h"
#include "passkey_comparison_dialog.h"
#include "passkey_sweep_dialog.h"

namespace sambalens::ui {

namespace {

// Dialogs are windows of their own (non-modal) that free themselves.
template <typename Dialog>
Dialog* showDialog(Dialog* dialog) {
  dialog->setAttribute(Qt::WA_DeleteOnClose);
  dialog->show();
  dialog->raise();
  dialog->activateWindow();
  return dialog;
}

}  // namespace

InsightHub::InsightHub(EngineController* engine, const QString& storePath, DocumentTextProvider documents,
                       QWidget* window)
    : QObject(window),
      engine_(engine),
      controller_(std::make_unique<InsightController>(engine)),
      storePath_(storePath),
      documents_(std::move(documents)),
      window_(window) {}

InsightHub::~InsightHub() = default;

InsightStore* InsightHub::store() {
  if (!storeTried_) {
    storeTried_ = true;
    auto store = std::make_unique<InsightStore>();
    if (store->open(storePath_)) {
      store_ = std::move(store);
    } else {
      storeError_ = store->lastError();
    }
  }
  return store_.get();
}

qint64 InsightHub::save(PasskeySweepRecord& sweep) {
  InsightStore* s = store();
  return settleSave(s ? s->savePasskeySweep(sweep) : std::nullopt, sweep.id, InsightRunSummary::Kind::Passkey,
                    tr("Passkey Sweep"), tr("The sweep is shown but could not be saved: %1"));
}

qint64 InsightHub::save(EntropyRunRecord& run) {
  InsightStore* s = store();
  return settleSave(s ? s->saveEntropyRun(run) : std::nullopt, run.id, InsightRunSummary::Kind::Entropy,
                    tr("Attention Entropy"), tr("The run is shown but could not be saved: %1"));
}

qint64 InsightHub::settleSave(std::optional<qint64> id, qint64& recordId, InsightRunSummary::Kind kind,
                              const QString& title, const QString& failure) {
  if (!id) {
    QMessageBox::warning(window_, title, failure.arg(store_ ? store_->lastError() : storeError_));
    return 0;
  }
  recordId = *id;
  emit runSaved(kind, *id);
  return *id;
}

PasskeySweepDialog* InsightHub::openPasskeySweep() {
  // One sweep dialog: a second would only wait for the engine.
  if (sweepDialog_) {
    sweepDialog_->show();
    sweepDialog_->raise();
    sweepDialog_->activateWindow();
    return sweepDialog_;
  }
  sweepDialog_ = showDialog(new PasskeySweepDialog(this, window_));
  return sweepDialog_;
}

EntropyRunWindow* InsightHub::runEntropyOnDocuments() {
  const InsightDocumentText doc = documents_ ? documents_() : InsightDocumentText{};
  if (doc.text.trimmed().isEmpty()) {
    QMessageBox::information(window_, tr("Attention Entropy"),
                             tr("Open or import a document first (or use Insight ▸ Attention Entropy of a Text File…)."));
    return nullptr;
  }
  auto* window = showDialog(new EntropyRunWindow(this, window_));
  window->start(doc.text, doc.label);
  return window;
}

EntropyRunWindow* InsightHub::runEntropyOnTextFile(const QString& chosen) {
  const QString path = chosen.isEmpty() ? QFileDialog::getOpenFileName(window_, tr("Text File to Read")) : chosen;
  if (path.isEmpty()) return nullptr;
  QFile file(path);
  if (!file.open(QIODevice::ReadOnly)) {
    QMessageBox::warning(window_, tr("Attention Entropy"), tr("Cannot read %1: %2").arg(path, file.errorString()));
    return nullptr;
  }
  const QByteArray bytes = file.readAll();
  if (bytes.contains('\0')) {
    QMessageBox::warning(window_, tr("Attention Entropy"),
                         tr("%1 is not a text file; import PDFs and folders into the library and use "
                            "Attention Entropy of the Documents.").arg(path));
    return nullptr;
  }
  auto* window = showDialog(new EntropyRunWindow(this, window_));
  window->start(QString::fromUtf8(bytes), QFileInfo(path).absoluteFilePath());
  return window;
}

InsightRunsDialog* InsightHub::openSavedRuns() {
  if (runsDialog_) {
    runsDialog_->refresh();
    runsDialog_->show();
    runsDialog_->raise();
    return runsDialog_;
  }
  runsDialog_ = showDialog(new InsightRunsDialog(this, window_));
  return runsDialog_;
}

QWidget* InsightHub::openRun(InsightRunSummary::Kind kind, qint64 id) {
  InsightStore* s = store();
  if (!s) return nullptr;
  if (kind == InsightRunSummary::Kind::Passkey) {
    const auto sweep = s->passkeySweep(id);
    if (!sweep) {
      QMessageBox::warning(window_, tr("Saved Runs"), tr("Sweep %1 cannot be read: %2").arg(id).arg(s->lastError()));
      return nullptr;
    }
    auto* dialog = showDialog(new PasskeySweepDialog(this, window_));
    dialog->showSweep(*sweep);
    return dialog;
  }
  const auto run = s->entropyRun(id);
  if (!run) {
    QMessageBox::warning(window_, tr("Saved Runs"), tr("Entropy run %1 cannot be read: %2").arg(id).arg(s->lastError()));
    return nullptr;
  }
  auto* window = showDialog(new EntropyRunWindow(this, window_));
  window->showRun(*run);
  return window;
}

PasskeyComparisonDialog* InsightHub::compareSweeps(qint64 leftId, qint64 rightId) {
  InsightStore* s = store();
  if (!s) return nullptr;
  const auto left = s->passkeySweep(leftId);
  const auto right = s->passkeySweep(rightId);
  if (!left || !right) {
    QMessageBox::warning(window_, tr("Compare"), tr("A sweep cannot be read: %1").arg(s->lastError()));
    return nullptr;
  }
  return showDialog(new PasskeyComparisonDialog(*left, *right, window_));
}

QMenu* installInsightMenu(QMainWindow* window, InsightHub* hub) {
  QMenu* menu = window->menuBar()->addMenu(QObject::tr("&Insight"));
  menu->setObjectName(QStringLiteral("insightMenu"));
  const auto add = [&](const QString& name, const QString& text, auto slot) {
    auto* action = new QAction(text, window);
    action->setObjectName(name);
    QObject::connect(action, &QAction::triggered, hub, slot);
    menu->addAction(action);
    return action;
  };
  add(QStringLiteral("insightPasskey"), QObject::tr("&Passkey Sweep…"), [hub] { hub->openPasskeySweep(); });
  add(QStringLiteral("insightEntropyDocuments"), QObject::tr("Attention &Entropy of the Documents…"),
      [hub] { hub->runEntropyOnDocuments(); });
  add(QStringLiteral("insightEntropyFile"), QObject::tr("Attention Entropy of a &Text File…"),
      [hub] { hub->runEntropyOnTextFile(); });
  menu->addSeparator();
  add(QStringLiteral("insightRuns"), QObject::tr("&Saved Runs…"), [hub] { hub->openSavedRuns(); });
  return menu;
}

}  // namespace sambalens::ui
