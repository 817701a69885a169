#include "insight_types.h"

#include <QFileInfo>
#include <algorithm>
#include <cmath>

namespace sambalens {

namespace {

bool sameDepth(double a, double b) { return std::abs(a - b) < 1e-9; }

QString modelLabel(const InsightModel& model) {
  if (!model.name.isEmpty()) return model.name;
  return QFileInfo(model.folder).fileName();
}

}  // namespace

QList<qint64> PasskeySweepRecord::lengths() const {
  QList<qint64> out;
  for (const PasskeyTrialRecord& t : trials) {
    if (!out.contains(t.length)) out.append(t.length);
  }
  std::sort(out.begin(), out.end());
  return out;
}

QList<double> PasskeySweepRecord::depths() const {
  QList<double> out;
  for (const PasskeyTrialRecord& t : trials) {
    if (std::none_of(out.begin(), out.end(), [&](double d) { return sameDepth(d, t.depth); })) out.append(t.depth);
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::optional<PasskeyCellSummary> PasskeySweepRecord::cell(qint64 length, double depth) const {
  PasskeyCellSummary cell;
  cell.length = length;
  cell.depth = depth;
  for (const PasskeyTrialRecord& t : trials) {
    if (t.length != length || !sameDepth(t.depth, depth)) continue;
    ++cell.trials;
    if (t.correct) {
      ++cell.correct;
    } else {
      const QString answer = t.answer.simplified();
      cell.wrongAnswers.append(answer.isEmpty() ? QStringLiteral("(nothing)") : answer);
    }
  }
  if (cell.trials == 0) return std::nullopt;
  return cell;
}

QList<PasskeyCellSummary> PasskeySweepRecord::cells() const {
  QList<PasskeyCellSummary> out;
  const QList<double> ds = depths();
  for (qint64 length : lengths()) {
    for (double depth : ds) {
      if (auto c = cell(length, depth)) out.append(*c);
    }
  }
  return out;
}

QString PasskeySweepRecord::title() const {
  QString s = QStringLiteral("%1 — %2 lengths × %3 depths × %4 trials")
                  .arg(modelLabel(model))
                  .arg(lengths().size())
                  .arg(depths().size())
                  .arg(settings.trials);
  if (!complete) s += QStringLiteral(" (stopped early)");
  return s;
}

int EntropyRunRecord::tokenAtCharacter(int offset) const {
  if (tokenStart.empty() || offset < 0 || offset >= text.size()) return -1;
  // The last token whose start is <= offset, skipping empty spans (a token
  // that did not complete a character) towards the one that holds it.
  auto it = std::upper_bound(tokenStart.begin(), tokenStart.end(), qint32(offset));
  if (it == tokenStart.begin()) return -1;
  return int(std::distance(tokenStart.begin(), it)) - 1;
}

QString EntropyRunRecord::title() const {
  const QString doc = document.isEmpty() ? QStringLiteral("text") : QFileInfo(document).fileName();
  return QStringLiteral("%1 — %2, %3 tokens").arg(doc.isEmpty() ? document : doc, modelLabel(model)).arg(tokens());
}

}  // namespace sambalens
