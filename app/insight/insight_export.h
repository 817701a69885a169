// CSV exports of the insight runs (the window's Export and the headless
// commands write the same text).
#pragma once

#include <QByteArray>
#include <QString>

#include "insight_types.h"

namespace sambalens {

// One row per heatmap cell, lengths then depths ascending:
//   length,depth,trials,correct,accuracy,wrong_answers
QByteArray passkeyCsv(const PasskeySweepRecord& sweep);

// Two sweeps in one table, a `model` column first (the model's name, or
// its folder when both have the same name).
QByteArray passkeyComparisonCsv(const PasskeySweepRecord& left, const PasskeySweepRecord& right);

// One row per (SWA layer, head, position bucket):
//   layer,head,position_from,position_to,mean_nats,min_nats,max_nats,
//   max_possible_nats,normalised
// `max_possible_nats` is the mean of ln(min(i+1, W)) over the bucket's
// positions (exactly ln(min(i+1, W)) for one-position buckets).
QByteArray entropyCsv(const EntropyRunRecord& run);

// One row per token: index,char_from,char_to,surprisal_nats,text
QByteArray surprisalCsv(const EntropyRunRecord& run);

// Writes `bytes` to `path` atomically; false and `error` naming the file.
bool writeExport(const QString& path, const QByteArray& bytes, QString* error);

}  // namespace sambalens
