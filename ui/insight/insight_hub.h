// The insight features of the window in one place: the InsightController
// (jobs on the engine thread), the saved runs (InsightStore), and the
// dialogs that use them. The main window creates one, adds its menu with
// installInsightMenu(), and tells it how to get the open documents' text.
#pragma once

#include <QObject>
#include <QPointer>
#include <QString>
#include <functional>
#include <memory>
#include <optional>

#include "insight_types.h"

class QMainWindow;
class QMenu;
class QWidget;

namespace sambalens {
class EngineController;
class InsightController;
class InsightStore;
}  // namespace sambalens

namespace sambalens::ui {

class EntropyRunWindow;
class InsightRunsDialog;
class PasskeyComparisonDialog;
class PasskeySweepDialog;

// The text the model reads for the open documents, and a name for it.
struct InsightDocumentText {
  QString text;
  QString label;
};
using DocumentTextProvider = std::function<InsightDocumentText()>;

class InsightHub : public QObject {
  Q_OBJECT

 public:
  // `storePath` empty: SessionStore::defaultPath(). `window` parents the dialogs.
  InsightHub(sambalens::EngineController* engine, const QString& storePath, DocumentTextProvider documents,
             QWidget* window);
  ~InsightHub() override;

  sambalens::EngineController* engine() const { return engine_; }
  sambalens::InsightController* controller() const { return controller_.get(); }
  // Null when the database cannot be opened (storeError() says why).
  sambalens::InsightStore* store();
  QString storeError() const { return storeError_; }
  QWidget* window() const { return window_; }

  // Saves a finished run; returns its id or 0 (and tells why in a dialog).
  qint64 save(sambalens::PasskeySweepRecord& sweep);
  qint64 save(sambalens::EntropyRunRecord& run);

 public slots:
  PasskeySweepDialog* openPasskeySweep();
  EntropyRunWindow* runEntropyOnDocuments();
  EntropyRunWindow* runEntropyOnTextFile(const QString& path = QString());
  InsightRunsDialog* openSavedRuns();
  QWidget* openRun(sambalens::InsightRunSummary::Kind kind, qint64 id);
  PasskeyComparisonDialog* compareSweeps(qint64 leftId, qint64 rightId);

 signals:
  void runSaved(sambalens::InsightRunSummary::Kind kind, qint64 id);

 private:
  // The end of both save()s: `id` (the store's answer, none on failure) goes
  // into the record and runSaved(); a failure is told in a warning box
  // (`failure` with %1 = the store's error) and gives 0.
  qint64 settleSave(std::optional<qint64> id, qint64& recordId, sambalens::InsightRunSummary::Kind kind,
                    const QString& title, const QString& failure);

  sambalens::EngineController* engine_;
  std::unique_ptr<sambalens::InsightController> controller_;
  std::unique_ptr<sambalens::InsightStore> store_;
  QString storePath_;
  QString storeError_;
  bool storeTried_ = false;
  DocumentTextProvider documents_;
  QPointer<QWidget> window_;
  QPointer<PasskeySweepDialog> sweepDialog_;
  QPointer<InsightRunsDialog> runsDialog_;
};

// Adds the "Insight" menu (Passkey Sweep…, Attention Entropy of the
// Documents…, …of a Text File…, Saved Runs…) to `window`'s menu bar.
QMenu* installInsightMenu(QMainWindow* window, InsightHub* hub);

}  // namespace sambalens::ui
