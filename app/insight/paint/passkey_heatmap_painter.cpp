#include "passkey_heatmap_painter.h"

#include <QFontMetricsF>
#include <QPainter>
#include <QPainterPath>
#include <cmath>

#include "colour_scale.h"

namespace sambalens {

namespace {

const QColor kText(40, 40, 40);
const QColor kWindowColour(30, 90, 200);
const QColor kTrainColour(120, 40, 160);

QString depthLabel(double depth) { return QStringLiteral("%1%").arg(QString::number(depth * 100.0, 'g', 4)); }

LegendSpec accuracyLegend() {
  LegendSpec spec;
  spec.colour = accuracyColour;
  spec.title = QStringLiteral("accuracy");
  spec.format = QStringLiteral("%1%");
  spec.tickScale = 100;
  spec.decimals = 0;
  return spec;
}

}  // namespace

QSizeF PasskeyHeatmapPainter::preferredSize(const PasskeySweepRecord& sweep, const QFont& font) {
  const QFontMetricsF fm(font);
  const qreal cellW = std::max<qreal>(64, fm.horizontalAdvance(QStringLiteral("100%")) * 2.2);
  const qreal cellH = std::max<qreal>(30, fm.height() * 2.0);
  const qreal w = 90 + cellW * std::max<qsizetype>(1, sweep.lengths().size()) + 120;
  const qreal h = 70 + cellH * std::max<qsizetype>(1, sweep.depths().size()) + 80;
  return QSizeF(std::max<qreal>(w, 520), std::max<qreal>(h, 320));
}

PasskeyHeatmapPainter::PasskeyHeatmapPainter(const PasskeySweepRecord& sweep, const QSizeF& size, const QFont& font,
                                             const QString& title)
    : sweep_(sweep), size_(size), font_(font), title_(title.isEmpty() ? sweep.title() : title) {
  lengths_ = sweep.lengths();
  depths_ = sweep.depths();
  // Columns on a log2 axis: each length's column spans half-way to its
  // neighbours (equal widths for powers of two); lone columns span one octave.
  QList<double> x;
  for (qint64 l : lengths_) x.append(std::log2(double(std::max<qint64>(l, 1))));
  if (!x.isEmpty()) {
    columnEdges_.append(x.size() > 1 ? x[0] - (x[1] - x[0]) / 2 : x[0] - 0.5);
    for (qsizetype i = 1; i < x.size(); ++i) columnEdges_.append((x[i - 1] + x[i]) / 2);
    columnEdges_.append(x.size() > 1 ? x.back() + (x.back() - x[x.size() - 2]) / 2 : x.back() + 0.5);
    axisFrom_ = columnEdges_.front();
    axisTo_ = columnEdges_.back();
  }
  const QFontMetricsF fm(font_);
  const LegendSpec legend = accuracyLegend();
  const qreal legendW = legendWidth(legend, font_, 16);
  qreal labelW = 0;
  for (double d : depths_) labelW = std::max(labelW, fm.horizontalAdvance(depthLabel(d)));
  const qreal left = 14 + fm.height() + 8 + labelW + 8;  // axis title, labels
  const qreal top = 14 + fm.height() * 3 + 16;             // title, two marker labels
  const qreal bottom = 10 + fm.height() * 2 + 14;          // tick labels, axis title
  const qreal right = 24 + legendW + 12;
  plot_ = QRectF(left, top, std::max<qreal>(40, size_.width() - left - right),
                 std::max<qreal>(40, size_.height() - top - bottom));
  legend_ = QRectF(plot_.right() + 24, plot_.top() + fm.height() + 6, 16,
                   std::max<qreal>(40, plot_.height() - fm.height() - 6));
}

qreal PasskeyHeatmapPainter::xOfLength(double tokens) const {
  const double x = std::log2(std::max(tokens, 1.0));
  const double span = axisTo_ - axisFrom_;
  return plot_.left() + (span > 0 ? (x - axisFrom_) / span : 0.5) * plot_.width();
}

QRectF PasskeyHeatmapPainter::cellRect(int li, int di) const {
  if (li < 0 || di < 0 || li >= lengths_.size() || di >= depths_.size()) return QRectF();
  const double span = axisTo_ - axisFrom_;
  const qreal x0 = plot_.left() + (columnEdges_[li] - axisFrom_) / span * plot_.width();
  const qreal x1 = plot_.left() + (columnEdges_[li + 1] - axisFrom_) / span * plot_.width();
  const qreal h = plot_.height() / depths_.size();
  // Depth rows ascending from the top: 0% is the first row.
  return QRectF(x0, plot_.top() + di * h, x1 - x0, h);
}

std::optional<PasskeyCellSummary> PasskeyHeatmapPainter::cellAt(const QPointF& p) const {
  for (int li = 0; li < lengths_.size(); ++li) {
    for (int di = 0; di < depths_.size(); ++di) {
      if (cellRect(li, di).contains(p)) return sweep_.cell(lengths_[li], depths_[di]);
    }
  }
  return std::nullopt;
}

QString PasskeyHeatmapPainter::describeCell(const PasskeyCellSummary& c) {
  QString s = QStringLiteral("length %1 tokens, depth %2\naccuracy %3% (%4 of %5 trials correct)")
                  .arg(c.length)
                  .arg(depthLabel(c.depth))
                  .arg(QString::number(c.accuracy() * 100.0, 'f', 0))
                  .arg(c.correct)
                  .arg(c.trials);
  if (!c.wrongAnswers.isEmpty()) {
    s += QStringLiteral("\nwrong answers:");
    for (const QString& a : c.wrongAnswers) s += QStringLiteral("\n  “%1”").arg(a.left(60));
  }
  return s;
}

void PasskeyHeatmapPainter::paintMarker(QPainter& painter, double tokens, const QString& label, const QColor& colour,
                                        int slot) const {
  const QFontMetricsF fm(font_);
  const qreal x = xOfLength(tokens);
  const qreal labelY = plot_.top() - 6 - slot * (fm.height() + 2);
  painter.setPen(QPen(colour, 1));
  if (x < plot_.left() - 0.5 || x > plot_.right() + 0.5) {
    // Off the axis: say where it is at the edge it lies beyond.
    const bool right = x > plot_.right();
    const QString text = right ? label + QStringLiteral(" →") : QStringLiteral("← ") + label;
    const qreal w = fm.horizontalAdvance(text);
    painter.drawText(QPointF(right ? plot_.right() - w : plot_.left(), labelY - fm.descent()), text);
    return;
  }
  QPen dashed(colour, 2.5, Qt::DashLine);
  painter.setPen(dashed);
  painter.drawLine(QPointF(x, plot_.top() - 3), QPointF(x, plot_.bottom() + 3));
  painter.setPen(QPen(colour, 1));
  const qreal w = fm.horizontalAdvance(label);
  const qreal lx = std::clamp(x - w / 2, 0.0, size_.width() - w);
  painter.drawText(QPointF(lx, labelY - fm.descent()), label);
}

void PasskeyHeatmapPainter::paint(QPainter& painter) const {
  painter.save();
  painter.setRenderHint(QPainter::Antialiasing, false);
  painter.fillRect(QRectF(QPointF(0, 0), size_), Qt::white);
  painter.setFont(font_);
  const QFontMetricsF fm(font_);

  QFont titleFont = font_;
  titleFont.setBold(true);
  painter.setFont(titleFont);
  painter.setPen(kText);
  painter.drawText(QRectF(0, 8, size_.width(), QFontMetricsF(titleFont).height()), Qt::AlignHCenter | Qt::AlignTop,
                   QFontMetricsF(titleFont).elidedText(title_, Qt::ElideRight, size_.width() - 16));
  painter.setFont(font_);

  if (lengths_.isEmpty() || depths_.isEmpty()) {
    painter.drawText(plot_, Qt::AlignCenter, QStringLiteral("no trials"));
    painter.restore();
    return;
  }

  // Cells, then the window / training-length lines, then the cell labels
  // on top so the lines never hide a value.
  for (int li = 0; li < lengths_.size(); ++li) {
    for (int di = 0; di < depths_.size(); ++di) {
      const QRectF r = cellRect(li, di);
      const auto cell = sweep_.cell(lengths_[li], depths_[di]);
      painter.fillRect(r, cell ? QBrush(accuracyColour(cell->accuracy())) : QBrush(notApplicableColour(), Qt::BDiagPattern));
    }
  }
  painter.setPen(QPen(Qt::white, 1));
  for (int li = 1; li < lengths_.size(); ++li) {
    const qreal x = cellRect(li, 0).left();
    painter.drawLine(QPointF(x, plot_.top()), QPointF(x, plot_.bottom()));
  }
  for (int di = 1; di < depths_.size(); ++di) {
    const qreal y = cellRect(0, di).top();
    painter.drawLine(QPointF(plot_.left(), y), QPointF(plot_.right(), y));
  }
  painter.setRenderHint(QPainter::Antialiasing, true);
  int slot = 0;
  if (sweep_.model.window > 0) {
    paintMarker(painter, sweep_.model.window, QStringLiteral("window %1").arg(shortTokenCount(sweep_.model.window)),
                kWindowColour, slot++);
  }
  if (sweep_.model.trainLength > 0) {
    paintMarker(painter, sweep_.model.trainLength,
                QStringLiteral("training length %1").arg(shortTokenCount(sweep_.model.trainLength)), kTrainColour,
                slot++);
  }
  painter.setRenderHint(QPainter::Antialiasing, false);
  for (int li = 0; li < lengths_.size(); ++li) {
    for (int di = 0; di < depths_.size(); ++di) {
      const QRectF r = cellRect(li, di);
      const auto cell = sweep_.cell(lengths_[li], depths_[di]);
      if (!cell || r.width() <= fm.horizontalAdvance(QStringLiteral("100%")) + 6 || r.height() <= fm.height()) continue;
      const QString text = QStringLiteral("%1%").arg(QString::number(cell->accuracy() * 100, 'f', 0));
      const QColor c = accuracyColour(cell->accuracy());
      // A small plate behind the text keeps it readable over a marker line.
      QRectF plate = QFontMetricsF(font_).boundingRect(text);
      plate.moveCenter(r.center());
      plate.adjust(-3, -1, 3, 1);
      painter.fillRect(plate, c);
      painter.setPen(c.lightness() < 110 ? Qt::white : QColor(30, 30, 30));
      painter.drawText(r, Qt::AlignCenter, text);
    }
  }
  painter.setPen(QPen(kText, 1));
  painter.drawRect(plot_);

  // Axes: depth labels on the left (0% at the top), lengths below.
  for (int di = 0; di < depths_.size(); ++di) {
    const QRectF r = cellRect(0, di);
    const QString label = depthLabel(depths_[di]);
    painter.drawText(QPointF(plot_.left() - 8 - fm.horizontalAdvance(label), r.center().y() + fm.ascent() / 2 - 1), label);
  }
  for (int li = 0; li < lengths_.size(); ++li) {
    const qreal x = xOfLength(double(lengths_[li]));
    const QString label = shortTokenCount(lengths_[li]);
    painter.drawLine(QPointF(x, plot_.bottom()), QPointF(x, plot_.bottom() + 4));
    painter.drawText(QPointF(x - fm.horizontalAdvance(label) / 2, plot_.bottom() + 6 + fm.ascent()), label);
  }
  const QString xTitle = QStringLiteral("context length (tokens, log₂ scale)");
  painter.drawText(QPointF(plot_.center().x() - fm.horizontalAdvance(xTitle) / 2,
                           plot_.bottom() + 12 + fm.height() + fm.ascent()),
                   xTitle);
  painter.save();
  painter.translate(14 + fm.ascent(), plot_.center().y());
  painter.rotate(-90);
  const QString yTitle = QStringLiteral("needle depth (0% = start)");
  painter.drawText(QPointF(-fm.horizontalAdvance(yTitle) / 2, 0), yTitle);
  painter.restore();

  paintLegend(painter, legend_, accuracyLegend(), font_, kText);
  painter.restore();
}

}  // namespace sambalens
