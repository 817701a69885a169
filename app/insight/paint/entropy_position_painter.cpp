#include "entropy_position_painter.h"

#include <QFontMetricsF>
#include <QPainter>
#include <QPainterPath>
#include <algorithm>
#include <cmath>

#include "chart_title.h"
#include "colour_scale.h"
#include "entropy_math.h"

namespace sambalens {

namespace {

const QColor kText(40, 40, 40);
const QColor kGrid(225, 225, 225);

QString positionLabel(double p) {
  const qint64 v = qint64(std::llround(p));
  if (v >= 1000000 && v % 1000000 == 0) return QStringLiteral("%1M").arg(v / 1000000);
  if (v >= 1024 && (v & (v - 1)) == 0) return shortTokenCount(v);
  if (v >= 10000 && v % 1000 == 0) return QStringLiteral("%1k").arg(v / 1000);
  return QString::number(v);
}

}  // namespace

QColor seriesColour(int index) {
  static const QColor colours[] = {QColor(31, 119, 180), QColor(214, 39, 40),  QColor(44, 160, 44),
                                   QColor(255, 127, 14), QColor(148, 103, 189), QColor(140, 86, 75),
                                   QColor(227, 119, 194), QColor(23, 190, 207), QColor(188, 189, 34),
                                   QColor(127, 127, 127)};
  return colours[index % 10];
}

QString headLabel(const EntropyHead& h) { return QStringLiteral("L%1 h%2").arg(2 * h.swa + 1).arg(h.head); }

QList<EntropyHead> EntropyPositionPainter::extremeHeads(const EntropyRunRecord& run, int count) {
  struct Ranked {
    EntropyHead head;
    double mean;
  };
  QList<Ranked> all;
  for (int s = 0; s < run.model.swaLayers(); ++s) {
    for (int h = 0; h < run.model.heads; ++h) {
      const double m = rangeMean(run, s, h, 0, run.tokens(), true);
      if (!std::isnan(m)) all.append({{s, h}, m});
    }
  }
  std::sort(all.begin(), all.end(), [](const Ranked& a, const Ranked& b) { return a.mean < b.mean; });
  QList<EntropyHead> out;
  // Most focused heads first, then the most uniform one for contrast.
  const int low = std::max(1, count - 1);
  for (int i = 0; i < all.size() && out.size() < low; ++i) out.append(all[i].head);
  if (count > 1 && !all.isEmpty() && !out.contains(all.back().head)) out.append(all.back().head);
  return out;
}

EntropyPositionPainter::EntropyPositionPainter(const EntropyRunRecord& run, const EntropyPositionOptions& options,
                                               const QSizeF& size, const QFont& font)
    : run_(run), options_(options), size_(size), font_(font) {
  const qint64 n = std::max<qint64>(run.tokens(), 2);
  // Log x starts at position 1: position 0 sees one key (H = 0 always).
  xFrom_ = options.logX ? 1.0 : 0.0;
  xTo_ = double(n - 1);
  if (xTo_ <= xFrom_) xTo_ = xFrom_ + 1;
  yTop_ = options.normalised ? 1.05 : scaleMaximum(run, false) * 1.08;
  for (const EntropyHead& h : options.heads) {
    for (int b = 0; b < run.buckets && !options.normalised; ++b) {
      const EntropyBucketStat& s = run.stat(h.swa, h.head, b);
      if (s.count > 0) yTop_ = std::max(yTop_, double(s.max) * 1.02);
    }
  }
  const QFontMetricsF fm(font_);
  const qreal left = 14 + fm.height() + 8 + fm.horizontalAdvance(QStringLiteral("0.00")) + 10;
  const qreal top = 12 + fm.height() + 10 + (fm.height() + 4) * ((options.heads.size() + 2 + 3) / 4);
  const qreal bottom = 10 + fm.height() * 2 + 14;
  plot_ = QRectF(left, top, std::max<qreal>(40, size_.width() - left - 24),
                 std::max<qreal>(40, size_.height() - top - bottom));
}

qreal EntropyPositionPainter::xOf(double p) const {
  double f;
  if (options_.logX) {
    f = (std::log(std::max(p, xFrom_)) - std::log(xFrom_)) / (std::log(xTo_) - std::log(xFrom_));
  } else {
    f = (p - xFrom_) / (xTo_ - xFrom_);
  }
  return plot_.left() + f * plot_.width();
}

qreal EntropyPositionPainter::yOf(double v) const { return plot_.bottom() - v / yTop_ * plot_.height(); }

double EntropyPositionPainter::bucketCentre(int b) const {
  const EntropyBucketStat& s = run_.stat(0, 0, b);
  const qint64 from = run_.bucketFrom(b);
  const qint64 count = s.count > 0 ? s.count : run_.bucketWidth;
  return double(from) + double(count - 1) / 2.0;
}

double EntropyPositionPainter::seriesValue(const EntropyHead& h, int b) const {
  return bucketValue(run_, h.swa, h.head, b, options_.normalised);
}

std::optional<EntropyPositionHit> EntropyPositionPainter::hitAt(const QPointF& p) const {
  std::optional<EntropyPositionHit> best;
  qreal bestD = 8.0;
  for (const EntropyHead& h : options_.heads) {
    for (int b = 0; b < run_.buckets; ++b) {
      const double v = seriesValue(h, b);
      const double c = bucketCentre(b);
      if (std::isnan(v) || (options_.logX && c < xFrom_)) continue;
      const qreal d = std::hypot(xOf(c) - p.x(), yOf(v) - p.y());
      if (d < bestD) {
        bestD = d;
        best = EntropyPositionHit{h, b, v};
      }
    }
  }
  return best;
}

QString EntropyPositionPainter::describeHit(const EntropyPositionHit& hit) const {
  const EntropyBucketStat& s = run_.stat(hit.head.swa, hit.head.head, hit.bucket);
  const qint64 from = run_.bucketFrom(hit.bucket);
  const qint64 to = from + std::max<qint64>(s.count, 1) - 1;
  const QString where = from == to ? QStringLiteral("position %1").arg(from) : QStringLiteral("positions %1–%2").arg(from).arg(to);
  QString text = QStringLiteral("%1, %2\nmean %3 %4, min %5, max %6 nats\nmaximum ln min(i+1, W) = %7 nats")
                     .arg(headLabel(hit.head), where)
                     .arg(QString::number(hit.value, 'f', 3))
                     .arg(options_.normalised ? QStringLiteral("of the maximum") : QStringLiteral("nats"))
                     .arg(QString::number(s.min, 'f', 3))
                     .arg(QString::number(s.max, 'f', 3))
                     .arg(QString::number(maxEntropyAt(to, run_.model.window), 'f', 3));
  return text;
}

void EntropyPositionPainter::paint(QPainter& painter) const {
  painter.save();
  painter.fillRect(QRectF(QPointF(0, 0), size_), Qt::white);
  const QFontMetricsF fm(font_);
  paintChartTitle(painter, font_, size_, QStringLiteral("Attention entropy against position — %1").arg(run_.title()),
                  kText);

  // Grid and y ticks.
  const int yTicks = 5;
  const double yStep = options_.normalised ? 0.2 : std::max(0.5, std::ceil(yTop_ / yTicks * 2) / 2);
  for (double v = 0; v <= yTop_ + 1e-9; v += yStep) {
    const qreal y = yOf(v);
    painter.setPen(kGrid);
    painter.drawLine(QPointF(plot_.left(), y), QPointF(plot_.right(), y));
    painter.setPen(kText);
    const QString label = QString::number(v, 'f', options_.normalised ? 1 : 1);
    painter.drawText(QPointF(plot_.left() - 6 - fm.horizontalAdvance(label), y + fm.ascent() / 2 - 1), label);
  }
  // x ticks: powers of two (log) or round steps (linear).
  QList<double> xt;
  if (options_.logX) {
    const int octaves = int(std::floor(std::log2(xTo_)));
    const int every = std::max(1, (octaves + 9) / 10);
    for (int k = 0; k <= octaves; k += every) xt.append(std::ldexp(1.0, k));
  } else {
    const double raw = (xTo_ - xFrom_) / 8;
    const double mag = std::pow(10.0, std::floor(std::log10(std::max(raw, 1.0))));
    const double step = raw / mag < 2 ? 2 * mag : raw / mag < 5 ? 5 * mag : 10 * mag;
    for (double v = 0; v <= xTo_; v += step) xt.append(v);
  }
  qreal lastRight = -1e9;
  for (double v : xt) {
    const qreal x = xOf(v);
    painter.setPen(kGrid);
    painter.drawLine(QPointF(x, plot_.top()), QPointF(x, plot_.bottom()));
    painter.setPen(kText);
    const QString label = positionLabel(v);
    const qreal w = fm.horizontalAdvance(label);
    if (x - w / 2 > lastRight + 4) {
      painter.drawLine(QPointF(x, plot_.bottom()), QPointF(x, plot_.bottom() + 4));
      painter.drawText(QPointF(x - w / 2, plot_.bottom() + 6 + fm.ascent()), label);
      lastRight = x + w / 2;
    }
  }
  const QString xTitle = options_.logX ? QStringLiteral("token position (log scale)") : QStringLiteral("token position");
  painter.drawText(QPointF(plot_.center().x() - fm.horizontalAdvance(xTitle) / 2, plot_.bottom() + 12 + fm.height() + fm.ascent()),
                   xTitle);
  painter.save();
  painter.translate(14 + fm.ascent(), plot_.center().y());
  painter.rotate(-90);
  const QString yTitle = options_.normalised ? QStringLiteral("H / ln min(i+1, W)") : QStringLiteral("entropy (nats)");
  painter.drawText(QPointF(-fm.horizontalAdvance(yTitle) / 2, 0), yTitle);
  painter.restore();

  painter.setRenderHint(QPainter::Antialiasing, true);
  painter.setClipRect(plot_.adjusted(-1, -1, 1, 1));
  // The maximum: ln(min(i+1, W)), or 1 normalised, sampled per pixel.
  {
    QPainterPath path;
    const int steps = std::max(2, int(plot_.width()));
    for (int k = 0; k <= steps; ++k) {
      double p;
      if (options_.logX) {
        p = std::exp(std::log(xFrom_) + (std::log(xTo_) - std::log(xFrom_)) * k / steps);
      } else {
        p = xFrom_ + (xTo_ - xFrom_) * k / steps;
      }
      const double v = options_.normalised ? 1.0 : maxEntropyAt(qint64(std::floor(p)), run_.model.window);
      const QPointF pt(xOf(p), yOf(v));
      if (k == 0) path.moveTo(pt); else path.lineTo(pt);
    }
    painter.setPen(QPen(QColor(20, 20, 20), 1.6, Qt::DashLine));
    painter.setBrush(Qt::NoBrush);
    painter.drawPath(path);
  }
  // Series: band (min..max of each bucket) then the mean line.
  for (int i = 0; i < options_.heads.size(); ++i) {
    const EntropyHead& h = options_.heads[i];
    const QColor colour = seriesColour(i);
    QList<QPointF> line, upper, lower;
    for (int b = 0; b < run_.buckets; ++b) {
      const double v = seriesValue(h, b);
      const double c = bucketCentre(b);
      if (std::isnan(v) || (options_.logX && c < xFrom_)) continue;
      line.append(QPointF(xOf(c), yOf(v)));
      const EntropyBucketStat& s = run_.stat(h.swa, h.head, b);
      if (!options_.normalised && run_.bucketWidth > 1) {
        upper.append(QPointF(xOf(c), yOf(s.max)));
        lower.append(QPointF(xOf(c), yOf(s.min)));
      }
    }
    if (options_.showBands && upper.size() > 1) {
      QPolygonF band;
      for (const QPointF& p : upper) band << p;
      for (auto it = lower.rbegin(); it != lower.rend(); ++it) band << *it;
      QColor fill = colour;
      fill.setAlpha(options_.heads.size() > 2 ? 26 : 40);
      painter.setPen(Qt::NoPen);
      painter.setBrush(fill);
      painter.drawPolygon(band);
    }
    if (line.size() > 1) {
      painter.setPen(QPen(colour, 1.8));
      painter.setBrush(Qt::NoBrush);
      painter.drawPolyline(line.constData(), int(line.size()));
    } else if (line.size() == 1) {
      painter.setPen(QPen(colour, 5, Qt::SolidLine, Qt::RoundCap));
      painter.drawPoint(line.front());
    }
  }
  painter.setClipping(false);
  painter.setRenderHint(QPainter::Antialiasing, false);
  painter.setPen(QPen(kText, 1));
  painter.setBrush(Qt::NoBrush);
  painter.drawRect(plot_);

  // Legend above the plot: the maximum curve, then each head.
  QList<std::pair<QString, QColor>> entries;
  entries.append({options_.normalised ? QStringLiteral("maximum (1)") : QStringLiteral("maximum ln min(i+1, W)"),
                  QColor(20, 20, 20)});
  for (int i = 0; i < options_.heads.size(); ++i) entries.append({headLabel(options_.heads[i]), seriesColour(i)});
  if (options_.showBands && run_.bucketWidth > 1 && !options_.normalised) {
    entries.append({QStringLiteral("band: min–max per %1 positions").arg(run_.bucketWidth), QColor(160, 160, 160)});
  }
  qreal x = plot_.left();
  qreal y = 12 + fm.height() + 10;
  painter.setRenderHint(QPainter::Antialiasing, true);
  for (int i = 0; i < entries.size(); ++i) {
    const qreal w = 28 + fm.horizontalAdvance(entries[i].first) + 18;
    if (x + w > plot_.right() && x > plot_.left()) {
      x = plot_.left();
      y += fm.height() + 4;
    }
    const qreal mid = y + fm.height() / 2;
    painter.setPen(QPen(entries[i].second, i == 0 ? 1.6 : 2.2, i == 0 ? Qt::DashLine : Qt::SolidLine));
    painter.drawLine(QPointF(x, mid), QPointF(x + 22, mid));
    painter.setPen(kText);
    painter.drawText(QPointF(x + 28, y + fm.ascent()), entries[i].first);
    x += w;
  }
  painter.restore();
}

}  // namespace sambalens
