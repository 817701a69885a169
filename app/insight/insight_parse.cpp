#include "insight_parse.h"

#include <QRegularExpression>
#include <QStringList>
#include <cmath>

#include "paint/colour_scale.h"

namespace sambalens {

namespace {

QStringList items(const QString& text) {
  static const QRegularExpression separators(QStringLiteral("[,;\\s]+"));
  return text.split(separators, Qt::SkipEmptyParts);
}

}  // namespace

QList<qint64> parseLengths(const QString& text, QString* error) {
  QList<qint64> out;
  const QStringList parts = items(text);
  if (parts.isEmpty()) {
    if (error) *error = QStringLiteral("no lengths given");
    return {};
  }
  for (const QString& raw : parts) {
    QString item = raw.trimmed();
    qint64 unit = 1;
    if (item.endsWith(QLatin1Char('k'), Qt::CaseInsensitive)) {
      unit = 1024;
      item.chop(1);
    } else if (item.endsWith(QLatin1Char('m'), Qt::CaseInsensitive)) {
      unit = 1024 * 1024;
      item.chop(1);
    }
    bool ok = false;
    const double v = item.toDouble(&ok);
    const double tokens = v * double(unit);
    if (!ok || !(tokens >= 1) || tokens > double(qint64(1) << 40) || std::floor(tokens) != tokens) {
      if (error) *error = QStringLiteral("\"%1\" is not a length in tokens (e.g. 512, 4K, 1M)").arg(raw);
      return {};
    }
    out.append(qint64(tokens));
  }
  return out;
}

QList<double> parseDepths(const QString& text, QString* error) {
  QList<double> out;
  const QStringList parts = items(text);
  if (parts.isEmpty()) {
    if (error) *error = QStringLiteral("no depths given");
    return {};
  }
  for (const QString& raw : parts) {
    QString item = raw.trimmed();
    const bool percent = item.endsWith(QLatin1Char('%'));
    if (percent) item.chop(1);
    bool ok = false;
    double v = item.toDouble(&ok);
    if (ok && percent) v /= 100.0;
    if (!ok || !(v >= 0.0 && v <= 1.0)) {
      if (error) *error = QStringLiteral("\"%1\" is not a depth between 0 and 1 (or 0%..100%)").arg(raw);
      return {};
    }
    out.append(v);
  }
  return out;
}

QString formatLengths(const QList<qint64>& lengths) {
  QStringList parts;
  for (qint64 l : lengths) parts << shortTokenCount(l);
  return parts.join(QStringLiteral(", "));
}

QString formatDepths(const QList<double>& depths) {
  QStringList parts;
  for (double d : depths) parts << QStringLiteral("%1%").arg(QString::number(d * 100.0, 'g', 4));
  return parts.join(QStringLiteral(", "));
}

}  // namespace sambalens
