// The token budget: how many tokens the selected documents take against
// what the loaded model handles well, and what SambaLens will do about it.
// SAMBA reads every token whatever the length (its memory is a fixed-size
// state), so nothing is ever cut; beyond its training length the model can
// still answer, but details far from the question are recalled less
// reliably. The budget says exactly that, with the reading time expected.
#pragma once

#include <QString>

#include "engine_types.h"

namespace sambalens {

struct TokenBudget {
  enum class Level { Empty, Comfortable, Long };
  Level level = Level::Empty;
  qint64 tokens = 0;
  qint64 comfortable = 0;     // tokens the model handles well
  QString comfortableBasis;   // "its training length", "its attention window"
  double fraction = 0;        // tokens / comfortable (the meter's fill)
  double readSeconds = -1;    // expected reading time, -1 when no rate is known
  QString summary;            // one line for the meter
  QString detail;             // what will happen, for a tooltip / the CLI
};

// `prefillTokensPerSecond`: a measured reading rate on this backend (0 if
// none yet). `reusedTokens`: tokens a stored model state already holds.
TokenBudget assessTokenBudget(qint64 tokens, const ModelInfo& model, double prefillTokensPerSecond = 0,
                              qint64 reusedTokens = 0);

// "1,234", "12.3 K", "1.2 M" style counts and "2 min 5 s" style durations.
QString formatCount(qint64 n);
QString formatDuration(double seconds);

}  // namespace sambalens
