#include "token_budget.h"

#include <QLocale>
#include <cmath>

namespace sambalens {

QString formatCount(qint64 n) {
  // Fixed English grouping ("1,234,567"), whatever the user's locale, so
  // messages and tests read the same everywhere.
  static const QLocale english(QLocale::English, QLocale::UnitedStates);
  return english.toString(n);
}

QString formatDuration(double seconds) {
  if (seconds < 0) return QStringLiteral("unknown");
  if (seconds < 1) return QStringLiteral("%1 ms").arg(qRound(seconds * 1000));
  if (seconds < 60) return QStringLiteral("%1 s").arg(seconds, 0, 'f', seconds < 10 ? 1 : 0);
  const qint64 total = qRound64(seconds);
  if (total < 3600) return QStringLiteral("%1 min %2 s").arg(total / 60).arg(total % 60);
  return QStringLiteral("%1 h %2 min").arg(total / 3600).arg((total % 3600) / 60);
}

TokenBudget assessTokenBudget(qint64 tokens, const ModelInfo& model, double rate, qint64 reusedTokens) {
  TokenBudget b;
  b.tokens = tokens;
  if (model.trainLength > 0) {
    b.comfortable = model.trainLength;
    b.comfortableBasis = QStringLiteral("the length it was trained on");
  } else {
    b.comfortable = model.window;
    b.comfortableBasis = QStringLiteral("its attention window (training length unknown)");
  }
  if (b.comfortable > 0) b.fraction = double(tokens) / double(b.comfortable);
  const qint64 toRead = qMax<qint64>(0, tokens - reusedTokens);
  if (rate > 0) b.readSeconds = toRead / rate;

  if (tokens <= 0) {
    b.level = TokenBudget::Level::Empty;
    b.summary = QStringLiteral("no documents selected");
    b.detail = b.summary;
    return b;
  }
  QString reading;
  if (reusedTokens >= tokens) {
    reading = QStringLiteral("The model state for these documents is stored: they will not be read again.");
  } else if (b.readSeconds >= 0) {
    reading = QStringLiteral("Reading %1 tokens takes about %2 at %3 tokens/s.")
                  .arg(formatCount(toRead), formatDuration(b.readSeconds))
                  .arg(qRound(rate));
  }
  if (b.comfortable <= 0 || tokens <= b.comfortable) {
    b.level = TokenBudget::Level::Comfortable;
    b.summary = b.comfortable > 0 ? QStringLiteral("%1 of %2 tokens").arg(formatCount(tokens), formatCount(b.comfortable))
                                  : QStringLiteral("%1 tokens").arg(formatCount(tokens));
    b.detail = QStringLiteral("%1 tokens: within %2 (%3 tokens). The model reads all of it.")
                   .arg(formatCount(tokens), b.comfortableBasis, formatCount(b.comfortable));
  } else {
    b.level = TokenBudget::Level::Long;
    b.summary = QStringLiteral("%1 tokens, %2× %3").arg(formatCount(tokens)).arg(b.fraction, 0, 'f', b.fraction < 10 ? 1 : 0)
                    .arg(formatCount(b.comfortable));
    b.detail = QStringLiteral(
                   "%1 tokens: %2× %3 (%4 tokens). SAMBA still reads every token; nothing is cut. Its memory "
                   "of the text is a fixed-size state, so details far from the question may be recalled "
                   "less reliably.")
                   .arg(formatCount(tokens))
                   .arg(b.fraction, 0, 'f', b.fraction < 10 ? 1 : 0)
                   .arg(b.comfortableBasis, formatCount(b.comfortable));
  }
  if (!reading.isEmpty()) b.detail += QLatin1Char(' ') + reading;
  return b;
}

}  // namespace sambalens
