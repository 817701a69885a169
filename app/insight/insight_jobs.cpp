#include "insight_jobs.h"

#include <QElapsedTimer>
#include <algorithm>
#include <cmath>

#include "samba/backend.h"
#include "samba/config.h"
#include "samba/error.h"
#include "samba/generate.h"
#include "samba/passkey.h"
#include "samba/probes.h"
#include "samba/tokenizer.h"

namespace sambalens {

namespace {

QDateTime nowUtc() { return QDateTime::currentDateTimeUtc(); }

// Tokens a sweep will read, for the time estimate: per length the shared
// prefix once, then per trial the rest after its needle (needle, the filler
// after it, the question and the answer: about (1 - depth) of the length).
double plannedTokens(const QList<qint64>& lengths, const QList<double>& depths, int trials, int answerTokens) {
  double total = 0;
  for (qint64 length : lengths) {
    total += double(length);
    for (double depth : depths) total += trials * ((1.0 - depth) * double(length) + 40.0 + answerTokens);
  }
  return total;
}

}  // namespace

InsightModel describeModel(const samba::ModelConfig& config, const QString& folder, const QString& name,
                           const QString& backendDescription) {
  InsightModel m;
  m.folder = folder;
  m.name = name;
  m.backend = backendDescription;
  m.layers = config.n_layer;
  m.heads = config.n_head;
  m.window = config.window;
  m.trainLength = config.train_length;
  return m;
}

QString validatePasskeySettings(const PasskeySettings& s) {
  if (s.lengths.isEmpty()) return QStringLiteral("give at least one length (tokens), e.g. 1024, 2048, 4096");
  if (s.depths.isEmpty()) return QStringLiteral("give at least one depth between 0 and 1, e.g. 0, 0.5, 1");
  for (qint64 length : s.lengths) {
    if (length < 64) return QStringLiteral("length %1 is too short: a passkey prompt needs at least 64 tokens").arg(length);
    if (length > (qint64(1) << 30)) return QStringLiteral("length %1 is too long").arg(length);
  }
  for (double depth : s.depths) {
    if (!(depth >= 0.0 && depth <= 1.0)) return QStringLiteral("depth %1 is not between 0 and 1").arg(depth);
  }
  if (s.trials < 1 || s.trials > 1000) return QStringLiteral("trials must be between 1 and 1000, not %1").arg(s.trials);
  if (s.answerTokens < 1 || s.answerTokens > 256) return QStringLiteral("answer tokens must be between 1 and 256");
  if (s.chunkTokens < 1) return QStringLiteral("the prefill chunk must be at least 1 token");
  return QString();
}

PasskeySweepRecord runPasskeyJob(samba::Backend& backend, const samba::Tokenizer& tokenizer,
                                 const InsightModel& model, const PasskeySettings& settings,
                                 const InsightProgressFn& onProgress, const samba::CancelToken* cancel) {
  const QString invalid = validatePasskeySettings(settings);
  if (!invalid.isEmpty()) throw samba::Error(samba::ErrorKind::InvalidArgument, invalid.toStdString());
  PasskeySweepRecord record;
  record.model = model;
  record.settings = settings;
  record.createdAt = nowUtc();
  QElapsedTimer clock;
  clock.start();

  QList<qint64> lengths = settings.lengths;
  std::sort(lengths.begin(), lengths.end());
  lengths.erase(std::unique(lengths.begin(), lengths.end()), lengths.end());
  QList<double> depths = settings.depths;
  std::sort(depths.begin(), depths.end());
  depths.erase(std::unique(depths.begin(), depths.end()), depths.end());
  record.settings.lengths = lengths;
  record.settings.depths = depths;

  const double planned = plannedTokens(lengths, depths, settings.trials, settings.answerTokens);
  const qint64 totalTrials = qint64(lengths.size()) * depths.size() * settings.trials;
  qint64 trialsBefore = 0;
  for (qint64 length : lengths) {
    if (cancel && cancel->cancelled()) {
      record.complete = false;
      break;
    }
    samba::PasskeySweepSpec spec;
    spec.lengths = {length};
    spec.depths.assign(depths.begin(), depths.end());
    spec.trials = settings.trials;
    spec.seed = settings.seed;
    spec.answer_tokens = settings.answerTokens;
    spec.chunk_tokens = settings.chunkTokens;
    const qint64 readBefore = record.tokensRead;
    const auto report = [&](qint64 done, qint64 read) {
      if (!onProgress) return;
      InsightProgress p;
      p.done = done;
      p.total = totalTrials;
      p.tokensRead = read;
      p.elapsedSeconds = clock.elapsed() / 1000.0;
      if (read > 0 && p.elapsedSeconds > 0.5) p.etaSeconds = qMax(0.0, p.elapsedSeconds * (planned - read) / read);
      p.detail = QStringLiteral("length %1").arg(length);
      onProgress(p);
    };
    report(trialsBefore, readBefore);
    samba::PasskeySweepResult r;
    try {
      r = samba::run_passkey_sweep(
          backend, tokenizer, spec,
          [&](const samba::PasskeyProgress& p) { report(trialsBefore + p.trials_done, readBefore + p.tokens_read); },
          cancel);
    } catch (const samba::Error& e) {
      if (e.kind() != samba::ErrorKind::Cancelled) throw;
      record.complete = false;
      break;
    }
    // The engine reports trials cell by cell in the order it ran them; the
    // trial number is the count within the cell so far.
    QList<int> seen(depths.size(), 0);
    for (const samba::PasskeyTrial& t : r.trials) {
      const auto at = std::find(depths.begin(), depths.end(), t.depth);
      const qsizetype di = at == depths.end() ? 0 : std::distance(depths.begin(), at);
      PasskeyTrialRecord trial;
      trial.length = t.length;
      trial.depth = t.depth;
      trial.trial = seen[di]++;
      trial.key = t.key;
      trial.answer = QString::fromUtf8(t.answer.data(), qsizetype(t.answer.size()));
      trial.correct = t.correct;
      record.trials.append(trial);
    }
    record.tokensRead += r.tokens_read;
    record.tokensInPrompts += r.tokens_in_prompts;
    trialsBefore += qint64(depths.size()) * settings.trials;
  }
  record.seconds = clock.elapsed() / 1000.0;
  return record;
}

EntropyRunRecord runEntropyJob(samba::Backend& backend, const samba::Tokenizer& tokenizer,
                               const InsightModel& model, const QString& text, const QString& document,
                               const EntropySettings& settings, const InsightProgressFn& onProgress,
                               const samba::CancelToken* cancel) {
  if (settings.maxBuckets < 1) throw samba::Error(samba::ErrorKind::InvalidArgument, "at least one bucket is needed");
  EntropyRunRecord run;
  run.model = model;
  run.settings = settings;
  run.document = document;
  run.createdAt = nowUtc();
  QElapsedTimer clock;
  clock.start();

  const QByteArray utf8 = text.toUtf8();
  const std::vector<int32_t> ids = tokenizer.encode(std::string_view(utf8.constData(), size_t(utf8.size())));
  if (ids.size() < 2) {
    throw samba::Error(samba::ErrorKind::InvalidArgument,
                       QStringLiteral("%1 has fewer than 2 tokens: nothing to measure")
                           .arg(document.isEmpty() ? QStringLiteral("the text") : document)
                           .toStdString());
  }

  // The text as the tokens spell it, token by token: each token's span is
  // what the streaming detokenizer emitted when it arrived (whole
  // characters; bytes of a split character go with the token completing it).
  samba::StreamingDetokenizer detok(tokenizer);
  run.tokenStart.reserve(ids.size());
  for (int32_t id : ids) {
    run.tokenStart.push_back(qint32(run.text.size()));
    const std::string delta = detok.push(id);
    run.text += QString::fromUtf8(delta.data(), qsizetype(delta.size()));
  }
  const std::string rest = detok.flush();
  run.text += QString::fromUtf8(rest.data(), qsizetype(rest.size()));

  samba::EntropyBuckets buckets(backend.config(), 1, settings.maxBuckets);
  const auto progress = [&](int64_t done, int64_t total) {
    if (!onProgress) return;
    InsightProgress p;
    p.done = done;
    p.total = total;
    p.tokensRead = done;
    p.elapsedSeconds = clock.elapsed() / 1000.0;
    if (done > 0 && p.elapsedSeconds > 0.5) p.etaSeconds = p.elapsedSeconds * double(total - done) / double(done);
    p.detail = QStringLiteral("reading");
    onProgress(p);
  };
  progress(0, int64_t(ids.size()));
  run.surprisal = samba::token_surprisal(backend, ids, settings.chunkTokens, &buckets, progress, cancel);

  run.bucketWidth = buckets.bucket_width();
  run.buckets = buckets.n_buckets();
  run.model.heads = buckets.n_heads();
  run.stats.resize(size_t(buckets.n_swa_layers()) * size_t(buckets.n_heads()) * size_t(run.buckets));
  size_t k = 0;
  for (int s = 0; s < buckets.n_swa_layers(); ++s) {
    for (int h = 0; h < buckets.n_heads(); ++h) {
      for (int b = 0; b < run.buckets; ++b) {
        const samba::EntropyBuckets::Stat& st = buckets.at(s, h, b);
        run.stats[k++] = EntropyBucketStat{float(st.mean()), st.min, st.max, st.count};
      }
    }
  }
  run.seconds = clock.elapsed() / 1000.0;
  return run;
}

}  // namespace sambalens
