// The results of the insight runs (passkey sweeps and attention-entropy
// runs) as the views, the store and the exports see them: plain values,
// independent of the engine, so a saved run reopens without its model.
#pragma once

#include <QDateTime>
#include <QList>
#include <QMetaType>
#include <QString>
#include <QStringList>
#include <optional>
#include <vector>

namespace sambalens {

// What the views need to know about the model a run used; saved with it.
struct InsightModel {
  QString folder;
  QString name;
  QString backend;      // "cpu (2 threads)", ...
  int layers = 0;       // blocks; even = Mamba, odd = sliding-window attention
  int heads = 0;        // query heads per SWA layer
  int window = 0;       // W
  int trainLength = 0;  // 0 = unknown
  bool isMambaLayer(int layer) const { return layer % 2 == 0; }
  int swaLayers() const { return layers / 2; }
};

// ---- Passkey retrieval ------------------------------------------------------

struct PasskeySettings {
  QString modelFolder;        // empty: the loaded model
  QString backend = QStringLiteral("auto");  // for a model other than the loaded one
  QList<qint64> lengths;      // prompt tokens, ascending in the views
  QList<double> depths;       // 0 = needle at the start of the filler .. 1 = at its end
  int trials = 5;
  quint64 seed = 1;
  int answerTokens = 10;
  int chunkTokens = 4096;
  int totalTrials() const { return int(lengths.size() * depths.size()) * trials; }
};

struct PasskeyTrialRecord {
  qint64 length = 0;
  double depth = 0;
  int trial = 0;      // 0-based within its cell
  int key = 0;
  QString answer;     // what the model wrote (about answerTokens tokens)
  bool correct = false;
};

// One cell of the heatmap, summarised from the trials.
struct PasskeyCellSummary {
  qint64 length = 0;
  double depth = 0;
  int trials = 0;
  int correct = 0;
  QStringList wrongAnswers;  // the answers of the failed trials, trimmed
  double accuracy() const { return trials ? double(correct) / trials : 0.0; }
};

struct PasskeySweepRecord {
  qint64 id = 0;  // 0 until saved
  InsightModel model;
  PasskeySettings settings;
  QDateTime createdAt;
  double seconds = 0;
  qint64 tokensRead = 0;      // tokens run through the model
  qint64 tokensInPrompts = 0; // what reading every prompt whole would have cost
  bool complete = true;       // false: cancelled; `trials` holds the lengths finished
  QList<PasskeyTrialRecord> trials;

  // Lengths and depths that have trials, sorted ascending.
  QList<qint64> lengths() const;
  QList<double> depths() const;
  // The cell of (length, depth), if any trial ran there.
  std::optional<PasskeyCellSummary> cell(qint64 length, double depth) const;
  QList<PasskeyCellSummary> cells() const;  // length-major, ascending
  QString title() const;  // "model — 3 lengths × 5 depths × 2 trials"
};

// ---- Attention entropy and surprisal -----------------------------------------

struct EntropySettings {
  int maxBuckets = 512;   // position buckets per (layer, head); they widen as needed
  int chunkTokens = 512;  // prefill chunk (progress and cancel granularity)
};

// H(l,h,i) reduced over buckets of consecutive positions.
struct EntropyBucketStat {
  float mean = 0, min = 0, max = 0;
  qint64 count = 0;
};

struct EntropyRunRecord {
  qint64 id = 0;  // 0 until saved
  InsightModel model;
  EntropySettings settings;
  QString document;   // what was read: a path or a description
  QDateTime createdAt;
  double seconds = 0;

  // The text exactly as the model's tokens spell it, and the token spans in
  // it: token i covers [tokenStart[i], tokenStart[i+1]) (the last one runs to
  // the end). A token that only completes a character later is empty.
  QString text;
  std::vector<qint32> tokenStart;
  std::vector<float> surprisal;  // -ln p(token i | before), nats; [0] = 0

  qint64 bucketWidth = 1;
  int buckets = 0;
  // [swa][head][bucket], swa = index among the SWA layers (layer 2*swa+1).
  std::vector<EntropyBucketStat> stats;

  qint64 tokens() const { return qint64(surprisal.size()); }
  const EntropyBucketStat& stat(int swa, int head, int bucket) const {
    return stats[(size_t(swa) * size_t(model.heads) + size_t(head)) * size_t(buckets) + size_t(bucket)];
  }
  // Positions [from, to) of a bucket.
  qint64 bucketFrom(int bucket) const { return bucket * bucketWidth; }
  qint64 bucketTo(int bucket) const { return qMin(tokens(), (bucket + 1) * bucketWidth); }
  // Token index whose span holds character `offset` of `text` (-1 if none).
  int tokenAtCharacter(int offset) const;
  int tokenEnd(int token) const {
    return size_t(token) + 1 < tokenStart.size() ? tokenStart[size_t(token) + 1] : int(text.size());
  }
  QString title() const;  // "document — model, N tokens"
};

// A saved run in a list: enough to show and pick it.
struct InsightRunSummary {
  enum class Kind { Passkey, Entropy };
  Kind kind = Kind::Passkey;
  qint64 id = 0;
  QString modelFolder;
  QString modelName;
  QString description;  // settings in words
  QDateTime createdAt;
};

}  // namespace sambalens

Q_DECLARE_METATYPE(sambalens::PasskeySweepRecord)
Q_DECLARE_METATYPE(sambalens::EntropyRunRecord)
