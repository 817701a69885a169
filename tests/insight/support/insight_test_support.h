// Helpers for the insight tests: runs with known values (for the chart
// colour checks), and a tiny model whose attention is exactly uniform.
#pragma once

#include <QColor>
#include <QImage>
#include <QString>
#include <functional>

#include "insight_types.h"

namespace sambalens_insight_test {

// A copy of `modelFolder` whose q_proj weights are zero: every score is 0,
// attention is uniform over the visible keys, and H(l,h,i) = ln(min(i+1, W)).
QString uniformAttentionModel(const QString& modelFolder);

// A sweep over lengths {1024, 2048, 4096} x depths {0, 0.5, 1}, 4 trials per
// cell, with `accuracy(lengthIndex, depthIndex)` in quarters; the model has
// window 2048 and training length 4096.
sambalens::PasskeySweepRecord makeSweep(const std::function<int(int li, int di)>& correctOutOf4);

// A run of a 4-layer model (SWA layers 1 and 3), 2 heads, window 8, over
// 40 positions in buckets of 1, whose entropy at every position of
// (swa, head) is `value(swa, head, position)`.
sambalens::EntropyRunRecord makeEntropyRun(const std::function<double(int swa, int head, int position)>& value);

// The mean colour of a 6 x 6 patch near the top-left corner of `rect` (away
// from a cell's centred label and from the lines between cells).
QColor cornerColour(const QImage& image, const QRectF& rect);

}  // namespace sambalens_insight_test
