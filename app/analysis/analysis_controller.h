// One analysis run from the user's point of view: a preset (or a question)
// over the selected documents, streamed from the engine and kept in the
// session store. It builds the prompt from the preset, restores the stored
// model state of the same documents when there is one (and says so), saves
// the state after a first reading, writes the question when it is asked and
// the answer when it completes, and extracts the answer's citations.
// The GUI and the headless commands both drive this object.
#pragma once

#include <QFutureWatcher>
#include <QList>
#include <QObject>

#include "engine_controller.h"
#include "engine_types.h"
#include "imported_document.h"
#include "session_store.h"

namespace sambalens {

struct AnalysisRequest {
  qint64 sessionId = 0;   // 0: a new session (titled from the preset and documents)
  QString presetId = QStringLiteral("summarize");
  QString question;       // for presets with {question} ("ask")
  QList<ImportedDocument> documents;  // imported successfully
  // Sampling and length; context/instruction/snapshot are filled in here.
  GenerationRequest generation;
};

class AnalysisController : public QObject {
  Q_OBJECT

 public:
  // `store` may be null (nothing is saved, no snapshots are reused).
  AnalysisController(EngineController* engine, SessionStore* store, QObject* parent = nullptr);

  // Snapshots are pruned to this many bytes after each save (default 2 GiB).
  void setSnapshotBudget(qint64 bytes) { snapshotBudget_ = bytes; }

  // From start() until finished/failed (also while the stored model state
  // is being looked up, before the engine starts).
  bool isRunning() const { return running_; }
  qint64 sessionId() const { return sessionId_; }
  // The answer streamed so far.
  const QString& answerSoFar() const { return answer_; }

  // A title for a new session: "Summary of report.pdf", the question...
  static QString sessionTitle(const QString& presetId, const QString& question,
                              const QList<ImportedDocument>& documents);

 public slots:
  // Starts; returns false when it cannot, and emits failed with the reason
  // (or warning, when another analysis is running). The question
  // is stored at once; the stored model state of these documents is looked
  // up on a pool thread, then the engine starts.
  bool start(const sambalens::AnalysisRequest& request);
  // Stops within one token; the partial answer is kept, marked cancelled.
  void stop();

 signals:
  void sessionCreated(qint64 sessionId);
  // The user's message is stored (id 0 without a store).
  void started(qint64 sessionId, qint64 userMessageId);
  // The documents' model state was restored: `tokens` were not read again.
  void stateReused(qint64 tokens);
  void prefillProgress(const sambalens::PrefillProgress& progress);
  void textDelta(const QString& text);
  // The answer, as stored (id 0 without a store), with citations and timings.
  void finished(const sambalens::MessageRecord& answer, const sambalens::GenerationStats& stats);
  void failed(const QString& message);
  // Something the user should know that did not stop the run.
  void warning(const QString& message);

 private:
  void launch();
  void complete(const GenerationStats& stats);
  void onStateReused(quint64 id, qint64 tokens);
  void onProgress(quint64 id, const PrefillProgress& progress);
  void onDelta(quint64 id, const QString& text);
  void onSnapshot(quint64 id, const QByteArray& state, const QString& key, qint64 tokens);
  void onFinished(quint64 id, const GenerationStats& stats);
  void onFailed(quint64 id, const QString& message);
  bool refuse(const QString& message);

  EngineController* engine_;
  SessionStore* store_;
  qint64 snapshotBudget_ = qint64(2) * 1024 * 1024 * 1024;
  bool running_ = false;
  bool stopRequested_ = false;
  bool launching_ = false;  // inside engine_->generate(): a refusal is ours
  quint64 engineId_ = 0;
  GenerationRequest pending_;  // the request, until the engine takes it
  QString modelFingerprint_;   // the model the request was built for
  qint64 sessionId_ = 0;
  QString presetId_;
  QList<ImportedDocument> documents_;
  QString answer_;
  QList<QFutureWatcher<bool>*> snapshotWrites_;
};

}  // namespace sambalens
