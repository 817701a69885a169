// Runs the insight jobs (passkey sweeps, entropy + surprisal runs) on the
// engine's own thread through EngineController::runTask, so they never race
// a generation for the backend, and stop() / cancel() reach them within one
// chunk or one token. Lives on the GUI thread; results come back as signals.
//
// A sweep may name a model other than the loaded one (to compare two
// models): the task then opens that folder itself on the engine thread,
// runs, and frees it, leaving the app's model as it was.
#pragma once

#include <QObject>
#include <memory>

#include "engine_controller.h"
#include "insight_jobs.h"
#include "insight_types.h"

namespace sambalens {

struct InsightRelay;

class InsightController : public QObject {
  Q_OBJECT

 public:
  explicit InsightController(EngineController* engine, QObject* parent = nullptr);
  ~InsightController() override;

  // Return false when the run cannot start (invalid settings, no model,
  // the engine busy, another insight run going); lastError() says why. No
  // signal is emitted then: the signals concern the run that is going.
  bool startPasskey(const PasskeySettings& settings);
  bool startEntropy(const QString& text, const QString& document, const EntropySettings& settings = {});
  QString lastError() const { return lastError_; }
  // Stops the run within one prefill chunk or one generated token.
  void cancel();
  bool isRunning() const { return taskId_ != 0; }
  // How often progress is delivered at most (default 100 ms).
  void setProgressInterval(int milliseconds) { progressIntervalMs_ = milliseconds; }

 signals:
  void progress(const sambalens::InsightProgress& progress);
  // A sweep ended; `complete` is false when it was stopped (then it holds
  // the lengths that finished, at least one).
  void passkeyFinished(const sambalens::PasskeySweepRecord& sweep);
  void entropyFinished(const sambalens::EntropyRunRecord& run);
  // Stopped before anything could be shown.
  void stopped();
  // The run that was going failed; one line for the user.
  void failed(const QString& message);

 private:
  // Runs on the engine thread; posts its result through the relay.
  using Job = std::function<void(const EngineTaskContext&, InsightRelay&, const InsightProgressFn&)>;
  quint64 launch(const Job& job);

  EngineController* engine_;
  std::shared_ptr<InsightRelay> relay_;
  quint64 taskId_ = 0;
  // The result posted by the task, emitted once the engine reports the
  // task done (so the engine is free when the signal's slots run).
  std::function<void()> pending_;
  QString lastError_;
  int progressIntervalMs_ = 100;
};

}  // namespace sambalens

Q_DECLARE_METATYPE(sambalens::InsightProgress)
