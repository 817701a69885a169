// The engine, driven from the GUI thread. One QThread owns the samba
// Backend and Tokenizer (EngineWorker); this object lives on the caller's
// thread and is the only thing the UI talks to.
//
// Streaming: the engine thread appends each token's text to a shared buffer;
// a timer here drains it every ~25 ms (40 Hz) and emits one textDelta with
// everything that arrived, so the GUI never gets a signal per token. Prefill
// progress is coalesced the same way. Stop sets the engine's CancelToken
// directly (no queued call), and the engine checks it between tokens and
// prefill chunks, so it takes effect within one token.
#pragma once

#include <QFuture>
#include <QObject>
#include <QThread>
#include <QTimer>
#include <functional>
#include <memory>

#include "engine_types.h"

namespace samba {
class Backend;
class CancelToken;
class ModelFiles;
class Tokenizer;
struct BackendChoice;
}  // namespace samba

namespace sambalens {

class EngineWorker;
struct EngineStream;

// What a task (runTask) gets on the engine thread: the loaded model, or
// nulls when none is loaded, and the token that stop() sets.
struct EngineTaskContext {
  samba::Backend* backend = nullptr;
  const samba::Tokenizer* tokenizer = nullptr;
  const samba::ModelFiles* files = nullptr;
  ModelInfo model;
  const samba::CancelToken* cancel = nullptr;
};

class EngineController : public QObject {
  Q_OBJECT

 public:
  // Creates the backend for a validated model folder; replaceable in tests
  // (e.g. a backend that fails on purpose). Default: samba::create_backend.
  using BackendFactory =
      std::function<samba::BackendChoice(const samba::ModelFiles& files, const std::string& kind)>;

  explicit EngineController(QObject* parent = nullptr);
  ~EngineController() override;

  void setBackendFactory(BackendFactory factory);
  // How often buffered text and progress are delivered (default 25 ms).
  void setFlushInterval(int milliseconds);

  bool isModelLoaded() const { return loaded_; }
  bool isLoading() const { return loading_; }
  bool isBusy() const { return busyId_ != 0; }
  const ModelInfo& model() const { return model_; }
  // Tokens generated so far in the current run (any thread).
  qint64 tokensGenerated() const;

  // Token count of `text` with the loaded model's tokenizer, on a pool
  // thread. Returns an already-finished future with -1 when no model is loaded.
  QFuture<qint64> countTokens(const QString& text) const;

  // Runs `task` on the engine thread, after whatever is queued there (a
  // model being loaded), for work that needs the backend itself (the insight
  // probes of app/insight). The engine is busy until it returns: generate()
  // and other tasks are refused, stop() sets its cancel token. The task
  // reports its own results (queued to its receiver) and must not throw.
  // Returns the task's id, or 0 and emits failed(0, why) when busy.
  using EngineTask = std::function<void(const EngineTaskContext&)>;
  quint64 runTask(EngineTask task);

 public slots:
  // Loads and validates a model folder; "auto" picks CUDA when usable.
  // Emits modelLoaded or modelLoadFailed.
  void loadModel(const QString& folder, const QString& backend = QStringLiteral("auto"));
  // Starts a generation and returns its id (0 if refused: no model, or busy;
  // then `failed` is emitted with the reason).
  quint64 generate(const sambalens::GenerationRequest& request);
  // Stops the running generation within one token (or one prefill chunk),
  // or cancels the running task.
  void stop();

 signals:
  void modelLoading(const QString& folder);
  void modelLoaded(const sambalens::ModelInfo& model);
  void modelLoadFailed(const QString& folder, const QString& message);

  void started(quint64 id);
  // The context was restored from a snapshot: `tokens` were not read again.
  void stateReused(quint64 id, qint64 tokens);
  void prefillProgress(quint64 id, const sambalens::PrefillProgress& progress);
  // New text since the last delta (whole UTF-8 characters), ~40 per second.
  void textDelta(quint64 id, const QString& text);
  // The state after reading the context, to be stored for next time.
  void snapshotTaken(quint64 id, const QByteArray& state, const QString& contextKey, qint64 tokens);
  // The run ended normally or by stop() (stats.cancelled).
  void finished(quint64 id, const sambalens::GenerationStats& stats);
  // The engine failed; `message` is one line for the user.
  void failed(quint64 id, const QString& message);
  // A task of runTask() returned; the engine is free again.
  void taskFinished(quint64 id);

 private:
  void flush();
  void onWorkerLoaded(const sambalens::ModelInfo& model, std::shared_ptr<const samba::Tokenizer> tokenizer);
  void onWorkerLoadFailed(const QString& folder, const QString& message);
  void onWorkerFinished(quint64 id, const sambalens::GenerationStats& stats);
  void onWorkerFailed(quint64 id, const QString& message);

  QThread thread_;
  BackendFactory factory_;
  EngineWorker* worker_ = nullptr;  // lives in thread_
  std::shared_ptr<EngineStream> stream_;
  std::shared_ptr<const samba::Tokenizer> tokenizer_;
  QTimer flushTimer_;
  ModelInfo model_;
  bool loaded_ = false;
  bool loading_ = false;
  quint64 nextId_ = 1;
  quint64 busyId_ = 0;
};

}  // namespace sambalens
