#include "colour_scale.h"

#include <QFontMetricsF>
#include <QLinearGradient>
#include <QPainter>
#include <algorithm>
#include <cmath>

namespace sambalens {

namespace {

struct Stop {
  double t;
  int r, g, b;
};

QColor interpolate(const Stop* stops, int n, double t) {
  if (!(t >= 0)) t = 0;  // NaN too
  t = std::min(t, 1.0);
  for (int i = 1; i < n; ++i) {
    if (t <= stops[i].t) {
      const Stop& a = stops[i - 1];
      const Stop& b = stops[i];
      const double f = (t - a.t) / (b.t - a.t);
      return QColor(int(std::lround(a.r + f * (b.r - a.r))), int(std::lround(a.g + f * (b.g - a.g))),
                    int(std::lround(a.b + f * (b.b - a.b))));
    }
  }
  return QColor(stops[n - 1].r, stops[n - 1].g, stops[n - 1].b);
}

}  // namespace

QColor accuracyColour(double accuracy) {
  // ColorBrewer RdYlGn end points and middle.
  static const Stop stops[] = {{0.0, 215, 48, 39}, {0.25, 244, 109, 67}, {0.5, 254, 224, 139},
                               {0.75, 145, 207, 96}, {1.0, 26, 152, 80}};
  return interpolate(stops, 5, accuracy);
}

QColor entropyColour(double t) {
  // Samples of matplotlib's viridis.
  static const Stop stops[] = {{0.0, 68, 1, 84},     {0.25, 59, 82, 139}, {0.5, 33, 145, 140},
                               {0.75, 94, 201, 98},  {1.0, 253, 231, 37}};
  return interpolate(stops, 5, t);
}

QColor surprisalColour(double t) {
  if (!(t > 0)) return QColor(0, 0, 0, 0);
  static const Stop stops[] = {{0.0, 255, 247, 188}, {0.4, 254, 196, 79}, {0.7, 236, 112, 20}, {1.0, 204, 20, 20}};
  QColor c = interpolate(stops, 4, t);
  c.setAlpha(int(std::lround(60 + 150 * std::min(t, 1.0))));
  return c;
}

QColor notApplicableColour() { return QColor(222, 222, 222); }

QString shortTokenCount(qint64 tokens) {
  if (tokens >= (qint64(1) << 20) && tokens % (qint64(1) << 20) == 0) return QStringLiteral("%1M").arg(tokens >> 20);
  if (tokens >= 1024 && tokens % 1024 == 0) return QStringLiteral("%1K").arg(tokens >> 10);
  return QString::number(tokens);
}

static QString legendLabel(const LegendSpec& spec, double value) {
  const QString number = QString::number(value * spec.tickScale, 'f', spec.decimals);
  return spec.format.isEmpty() ? number : spec.format.arg(number);
}

qreal legendLabelWidth(const LegendSpec& spec, const QFont& font) {
  const QFontMetricsF fm(font);
  qreal w = 0;
  for (int i = 0; i < spec.ticks; ++i) {
    const double v = spec.bottom + (spec.top - spec.bottom) * i / std::max(1, spec.ticks - 1);
    w = std::max(w, fm.horizontalAdvance(legendLabel(spec, v)));
  }
  return w + 8;
}

qreal legendWidth(const LegendSpec& spec, const QFont& font, qreal barWidth) {
  return std::max(barWidth + legendLabelWidth(spec, font), QFontMetricsF(font).horizontalAdvance(spec.title) + 4);
}

void paintLegend(QPainter& painter, const QRectF& bar, const LegendSpec& spec, const QFont& font, const QColor& text) {
  painter.save();
  // The ramp, drawn as thin bands (exactly the colour function, no
  // gradient interpolation of our own).
  const int steps = std::max(2, int(bar.height()));
  for (int i = 0; i < steps; ++i) {
    const double t = 1.0 - (i + 0.5) / steps;
    const QRectF band(bar.left(), bar.top() + bar.height() * i / steps, bar.width(), bar.height() / steps + 0.6);
    painter.fillRect(band, spec.colour(t));
  }
  painter.setPen(QPen(text, 1));
  painter.setBrush(Qt::NoBrush);
  painter.drawRect(bar);
  painter.setFont(font);
  const QFontMetricsF fm(font);
  for (int i = 0; i < spec.ticks; ++i) {
    const double f = double(i) / std::max(1, spec.ticks - 1);
    const double v = spec.bottom + (spec.top - spec.bottom) * f;
    const qreal y = bar.bottom() - f * bar.height();
    painter.drawLine(QPointF(bar.right(), y), QPointF(bar.right() + 4, y));
    painter.drawText(QPointF(bar.right() + 7, y + fm.ascent() / 2 - 1), legendLabel(spec, v));
  }
  if (!spec.title.isEmpty()) {
    // Centred over the bar and its labels, never left of the bar.
    const qreal w = fm.horizontalAdvance(spec.title);
    const qreal column = bar.width() + legendLabelWidth(spec, font);
    const qreal x = bar.left() + std::max<qreal>(0, (column - w) / 2);
    painter.drawText(QPointF(x, bar.top() - fm.descent() - 6), spec.title);
  }
  painter.restore();
}

}  // namespace sambalens
