#include "entropy_grid_painter.h"

#include <QFontMetricsF>
#include <QPainter>
#include <cmath>

#include "chart_title.h"
#include "colour_scale.h"
#include "entropy_math.h"

namespace sambalens {

namespace {

const QColor kText(40, 40, 40);

QString rowLabel(int layer, bool mamba) {
  return mamba ? QStringLiteral("%1 Mamba").arg(layer) : QStringLiteral("%1 SWA").arg(layer);
}

LegendSpec gridLegend(bool normalised, double top) {
  LegendSpec spec;
  spec.colour = entropyColour;
  spec.bottom = 0;
  spec.top = top;
  spec.title = normalised ? QStringLiteral("H / ln min(i+1,W)") : QStringLiteral("entropy (nats)");
  spec.decimals = normalised ? 2 : 1;
  return spec;
}

}  // namespace

QSizeF EntropyGridPainter::preferredSize(const EntropyRunRecord& run, const QFont& font) {
  const QFontMetricsF fm(font);
  const qreal cellW = std::max<qreal>(46, fm.horizontalAdvance(QStringLiteral("0.000")) + 12);
  const qreal cellH = std::max<qreal>(28, fm.height() + 10);
  return QSizeF(std::max<qreal>(560, 130 + cellW * std::max(1, run.model.heads) + 150),
                std::max<qreal>(300, 90 + cellH * std::max(1, run.model.layers) + 50));
}

EntropyGridPainter::EntropyGridPainter(const EntropyRunRecord& run, const EntropyGridOptions& options,
                                       const QSizeF& size, const QFont& font)
    : run_(run), options_(options), size_(size), font_(font) {
  from_ = std::clamp<qint64>(options.from, 0, std::max<qint64>(run.tokens() - 1, 0));
  to_ = options.to <= 0 ? run.tokens() : std::clamp<qint64>(options.to, from_ + 1, std::max<qint64>(run.tokens(), 1));
  scaleTop_ = scaleMaximum(run, options.normalised);
  const QFontMetricsF fm(font_);
  const LegendSpec legend = gridLegend(options.normalised, scaleTop_);
  qreal labelW = 0;
  for (int l = 0; l < std::max(1, run.model.layers); ++l) labelW = std::max(labelW, fm.horizontalAdvance(rowLabel(l, true)));
  const qreal left = 14 + fm.height() + 8 + labelW + 8;
  const qreal top = 12 + fm.height() * 2 + 12 + fm.height() + 6;  // title, range line, head labels
  const qreal right = 24 + legendWidth(legend, font_, 16) + 14;
  const qreal bottom = 16;
  plot_ = QRectF(left, top, std::max<qreal>(40, size_.width() - left - right),
                 std::max<qreal>(40, size_.height() - top - bottom));
  legend_ = QRectF(plot_.right() + 24, plot_.top() + fm.height() + 6, 16,
                   std::max<qreal>(40, plot_.height() - fm.height() - 6));
}

QRectF EntropyGridPainter::cellRect(int layer, int head) const {
  const int rows = std::max(1, run_.model.layers);
  const int cols = std::max(1, run_.model.heads);
  const qreal h = plot_.height() / rows;
  const qreal w = plot_.width() / cols;
  if (run_.model.isMambaLayer(layer)) return QRectF(plot_.left(), plot_.top() + layer * h, plot_.width(), h);
  return QRectF(plot_.left() + head * w, plot_.top() + layer * h, w, h);
}

double EntropyGridPainter::valueAt(int swa, int head) const {
  return rangeMean(run_, swa, head, from_, to_, options_.normalised);
}

std::optional<EntropyGridCell> EntropyGridPainter::cellAt(const QPointF& p) const {
  if (!plot_.contains(p) || run_.model.layers <= 0 || run_.model.heads <= 0) return std::nullopt;
  const int layer = std::min(run_.model.layers - 1, int((p.y() - plot_.top()) / (plot_.height() / run_.model.layers)));
  if (run_.model.isMambaLayer(layer)) return std::nullopt;
  const int head = std::min(run_.model.heads - 1, int((p.x() - plot_.left()) / (plot_.width() / run_.model.heads)));
  EntropyGridCell c;
  c.layer = layer;
  c.swa = layer / 2;
  c.head = head;
  c.value = valueAt(c.swa, head);
  return c;
}

QString EntropyGridPainter::describeCell(const EntropyGridCell& c) const {
  const QString value = std::isnan(c.value) ? QStringLiteral("no value")
                        : options_.normalised
                            ? QStringLiteral("%1 of the maximum").arg(QString::number(c.value, 'f', 3))
                            : QStringLiteral("%1 nats (%2 bits)")
                                  .arg(QString::number(c.value, 'f', 3), QString::number(c.value / std::log(2.0), 'f', 3));
  return QStringLiteral("layer %1 (SWA), head %2\nmean entropy %3\npositions %4–%5 (window %6)")
      .arg(c.layer)
      .arg(c.head)
      .arg(value)
      .arg(from_)
      .arg(to_ - 1)
      .arg(run_.model.window);
}

void EntropyGridPainter::paint(QPainter& painter) const {
  painter.save();
  painter.fillRect(QRectF(QPointF(0, 0), size_), Qt::white);
  const QFontMetricsF fm(font_);
  paintChartTitle(painter, font_, size_, QStringLiteral("Mean attention entropy per layer and head — %1").arg(run_.title()),
                  kText);
  const QString range = QStringLiteral("positions %1–%2 of %3, window %4%5")
                            .arg(from_)
                            .arg(to_ - 1)
                            .arg(run_.tokens())
                            .arg(run_.model.window)
                            .arg(options_.normalised ? QStringLiteral(", normalised by ln min(i+1, W)") : QString());
  painter.drawText(QRectF(0, 12 + fm.height(), size_.width(), fm.height() + 2), Qt::AlignHCenter | Qt::AlignTop, range);

  const int layers = run_.model.layers;
  const int heads = run_.model.heads;
  for (int layer = 0; layer < layers; ++layer) {
    if (run_.model.isMambaLayer(layer)) {
      const QRectF r = cellRect(layer, 0);
      painter.fillRect(r, notApplicableColour());
      painter.setPen(QColor(120, 120, 120));
      painter.drawText(r, Qt::AlignCenter, QStringLiteral("Mamba (no attention)"));
      continue;
    }
    for (int head = 0; head < heads; ++head) {
      const QRectF r = cellRect(layer, head);
      const double v = valueAt(layer / 2, head);
      if (std::isnan(v)) {
        painter.fillRect(r, QBrush(notApplicableColour(), Qt::BDiagPattern));
        continue;
      }
      const QColor c = entropyColour(v / scaleTop_);
      painter.fillRect(r, c);
      const QString text = QString::number(v, 'f', options_.normalised ? 2 : 2);
      if (r.width() > fm.horizontalAdvance(text) + 6 && r.height() > fm.height()) {
        painter.setPen(c.lightness() < 120 ? Qt::white : QColor(20, 20, 20));
        painter.drawText(r, Qt::AlignCenter, text);
      }
    }
  }
  // Separators, frame, labels.
  painter.setPen(QPen(Qt::white, 1));
  for (int layer = 1; layer < layers; ++layer) {
    const qreal y = cellRect(layer, 0).top();
    painter.drawLine(QPointF(plot_.left(), y), QPointF(plot_.right(), y));
  }
  for (int layer = 1; layer < layers; layer += 2) {
    for (int head = 1; head < heads; ++head) {
      const QRectF r = cellRect(layer, head);
      painter.drawLine(r.topLeft(), r.bottomLeft());
    }
  }
  painter.setPen(QPen(kText, 1));
  painter.drawRect(plot_);
  for (int layer = 0; layer < layers; ++layer) {
    const QRectF r = cellRect(layer, 0);
    const QString label = rowLabel(layer, run_.model.isMambaLayer(layer));
    painter.setPen(run_.model.isMambaLayer(layer) ? QColor(130, 130, 130) : kText);
    painter.drawText(QPointF(plot_.left() - 8 - fm.horizontalAdvance(label), r.center().y() + fm.ascent() / 2 - 1), label);
  }
  painter.setPen(kText);
  for (int head = 0; head < heads; ++head) {
    const QRectF r = cellRect(1, head);
    const QString label = QStringLiteral("h%1").arg(head);
    painter.drawText(QPointF(r.center().x() - fm.horizontalAdvance(label) / 2, plot_.top() - 6), label);
  }
  painter.save();
  painter.translate(14 + fm.ascent(), plot_.center().y());
  painter.rotate(-90);
  const QString yTitle = QStringLiteral("layer (top = first)");
  painter.drawText(QPointF(-fm.horizontalAdvance(yTitle) / 2, 0), yTitle);
  painter.restore();

  paintLegend(painter, legend_, gridLegend(options_.normalised, scaleTop_), font_, kText);
  painter.restore();
}

}  // namespace sambalens
