// The insight computations on a loaded engine: a passkey sweep and an
// attention-entropy + surprisal run. They run on whatever thread owns the
// backend (the engine thread in the app, see InsightController) and report
// progress through a callback; the window, the headless commands and the
// tests all go through these two functions.
#pragma once

#include <QString>
#include <functional>

#include "insight_types.h"

namespace samba {
class Backend;
class CancelToken;
class Tokenizer;
struct ModelConfig;
}  // namespace samba

namespace sambalens {

struct InsightProgress {
  qint64 done = 0;     // trials (passkey) or tokens (entropy) finished
  qint64 total = 0;
  qint64 tokensRead = 0;
  double elapsedSeconds = 0;
  double etaSeconds = -1;  // -1 = unknown yet
  QString detail;          // "length 2048", "reading"
};
using InsightProgressFn = std::function<void(const InsightProgress&)>;

// The facts of a model the views need (saved with every run).
InsightModel describeModel(const samba::ModelConfig& config, const QString& folder, const QString& name,
                           const QString& backendDescription);

// Checks lengths, depths and trials; returns an empty string or the reason
// they cannot run (one line naming the bad value).
QString validatePasskeySettings(const PasskeySettings& settings);

// Runs the sweep one length at a time (the engine reuses each length's
// shared prefix across depths and trials; splitting by length costs
// nothing and keeps finished lengths when the run is cancelled). On cancel
// returns what finished with `complete == false`; other engine errors throw.
PasskeySweepRecord runPasskeyJob(samba::Backend& backend, const samba::Tokenizer& tokenizer,
                                 const InsightModel& model, const PasskeySettings& settings,
                                 const InsightProgressFn& onProgress, const samba::CancelToken* cancel);

// Tokenizes `text`, reads it once with the entropy probe on, and keeps the
// per-token surprisal, the bucketed entropy and the text as the tokens spell
// it with each token's span. Throws samba::Error(Cancelled) on cancel, and
// InvalidArgument when the text has fewer than two tokens.
EntropyRunRecord runEntropyJob(samba::Backend& backend, const samba::Tokenizer& tokenizer,
                               const InsightModel& model, const QString& text, const QString& document,
                               const EntropySettings& settings, const InsightProgressFn& onProgress,
                               const samba::CancelToken* cancel);

}  // namespace sambalens
