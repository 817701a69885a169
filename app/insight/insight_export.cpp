#include "insight_export.h"

#include <QSaveFile>
#include <cmath>

#include "entropy_math.h"

namespace sambalens {

namespace {

// RFC 4180: quote when needed, double the quotes inside.
QString csvField(const QString& s) {
  if (!s.contains(QLatin1Char(',')) && !s.contains(QLatin1Char('"')) && !s.contains(QLatin1Char('\n')) &&
      !s.contains(QLatin1Char('\r'))) {
    return s;
  }
  QString q = s;
  q.replace(QLatin1String("\""), QLatin1String("\"\""));
  return QLatin1Char('"') + q + QLatin1Char('"');
}

QString number(double v) { return std::isnan(v) ? QString() : QString::number(v, 'g', 9); }

}  // namespace

QByteArray passkeyCsv(const PasskeySweepRecord& sweep) {
  QString out = QStringLiteral("length,depth,trials,correct,accuracy,wrong_answers\n");
  for (const PasskeyCellSummary& c : sweep.cells()) {
    out += QStringLiteral("%1,%2,%3,%4,%5,%6\n")
               .arg(c.length)
               .arg(number(c.depth))
               .arg(c.trials)
               .arg(c.correct)
               .arg(number(c.accuracy()))
               .arg(csvField(c.wrongAnswers.join(QStringLiteral(" | "))));
  }
  return out.toUtf8();
}

QByteArray passkeyComparisonCsv(const PasskeySweepRecord& left, const PasskeySweepRecord& right) {
  const bool sameName = left.model.name == right.model.name;
  QByteArray out = "model,length,depth,trials,correct,accuracy,wrong_answers\n";
  for (const PasskeySweepRecord* sweep : {&left, &right}) {
    const QString model = csvField(sameName ? sweep->model.folder : sweep->model.name).replace(QLatin1Char('\n'), QLatin1Char(' '));
    const QList<QByteArray> rows = passkeyCsv(*sweep).split('\n');
    for (qsizetype i = 1; i < rows.size(); ++i) {  // without the header
      if (!rows[i].isEmpty()) out += model.toUtf8() + ',' + rows[i] + '\n';
    }
  }
  return out;
}

QByteArray entropyCsv(const EntropyRunRecord& run) {
  QString out = QStringLiteral(
      "layer,head,position_from,position_to,mean_nats,min_nats,max_nats,max_possible_nats,normalised\n");
  for (int s = 0; s < run.model.swaLayers(); ++s) {
    for (int h = 0; h < run.model.heads; ++h) {
      for (int b = 0; b < run.buckets; ++b) {
        const EntropyBucketStat& st = run.stat(s, h, b);
        if (st.count <= 0) continue;
        const qint64 from = run.bucketFrom(b);
        const qint64 to = from + st.count;
        const double maxMean = sumMaxEntropy(from, to, run.model.window) / double(st.count);
        out += QStringLiteral("%1,%2,%3,%4,%5,%6,%7,%8,%9\n")
                   .arg(2 * s + 1)
                   .arg(h)
                   .arg(from)
                   .arg(to)
                   .arg(number(st.mean))
                   .arg(number(st.min))
                   .arg(number(st.max))
                   .arg(number(maxMean))
                   .arg(number(bucketValue(run, s, h, b, true)));
      }
    }
  }
  return out.toUtf8();
}

QByteArray surprisalCsv(const EntropyRunRecord& run) {
  QString out = QStringLiteral("index,char_from,char_to,surprisal_nats,text\n");
  for (size_t i = 0; i < run.surprisal.size(); ++i) {
    const int from = run.tokenStart[i];
    const int to = run.tokenEnd(int(i));
    out += QStringLiteral("%1,%2,%3,%4,%5\n")
               .arg(i)
               .arg(from)
               .arg(to)
               .arg(number(run.surprisal[i]))
               .arg(csvField(run.text.mid(from, to - from)));
  }
  return out.toUtf8();
}

bool writeExport(const QString& path, const QByteArray& bytes, QString* error) {
  QSaveFile file(path);
  if (!file.open(QIODevice::WriteOnly) || file.write(bytes) != bytes.size() || !file.commit()) {
    if (error) *error = QStringLiteral("cannot write %1: %2").arg(path, file.errorString());
    return false;
  }
  return true;
}

}  // namespace sambalens
