// Arithmetic on a saved entropy run: the maximum entropy of a position, and
// bucket and range means, raw (nats) or normalised by that maximum.
#pragma once

#include <QtGlobal>

#include "insight_types.h"

namespace sambalens {

// ln(min(i+1, W)): the entropy of uniform attention over what position i sees.
double maxEntropyAt(qint64 position, int window);
// The sum of maxEntropyAt(i) for i in [from, to), in closed form.
double sumMaxEntropy(qint64 from, qint64 to, int window);

// A bucket's value: its mean entropy in nats, or normalised, i.e.
// sum H / sum ln(min(i+1, W)) over its positions (= H/ln(min(i+1,W)) when the
// bucket is one position wide). NaN when the bucket is empty or, normalised,
// holds only position 0 (which sees one key: H = max = 0).
double bucketValue(const EntropyRunRecord& run, int swa, int head, int bucket, bool normalised);

// The mean over positions [from, to) at bucket resolution (buckets that
// overlap the range count whole), weighted by positions; normalised values
// are the position-weighted mean of the buckets' normalised values. NaN
// when no bucket overlaps.
double rangeMean(const EntropyRunRecord& run, int swa, int head, qint64 from, qint64 to, bool normalised);

// The top of the colour scale: the largest entropy any position of the run
// can have, ln(min(tokens, W)), or 1 normalised. One scale for every range,
// so colours compare across ranges.
double scaleMaximum(const EntropyRunRecord& run, bool normalised);

}  // namespace sambalens
