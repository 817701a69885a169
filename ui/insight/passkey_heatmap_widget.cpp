#include "passkey_heatmap_widget.h"

#include <QPainter>
#include <cmath>

#include "passkey_heatmap_painter.h"

namespace sambalens::ui {

PasskeyHeatmapWidget::PasskeyHeatmapWidget(QWidget* parent) : InsightChartWidget(parent) {}

void PasskeyHeatmapWidget::setSweep(const PasskeySweepRecord& sweep) {
  sweep_ = sweep;
  has_ = true;
  updateGeometry();
  update();
}

void PasskeyHeatmapWidget::clear() {
  sweep_ = PasskeySweepRecord();
  has_ = false;
  update();
}

QSize PasskeyHeatmapWidget::sizeHint() const {
  return PasskeyHeatmapPainter::preferredSize(sweep_, font()).toSize().expandedTo(QSize(560, 360));
}

QRectF PasskeyHeatmapWidget::cellRect(qint64 length, double depth) const {
  const PasskeyHeatmapPainter chart(sweep_, size(), font());
  const int li = int(chart.lengths().indexOf(length));
  int di = -1;
  for (int i = 0; i < chart.depths().size(); ++i) {
    if (std::abs(chart.depths()[i] - depth) < 1e-9) di = i;
  }
  return chart.cellRect(li, di);
}

std::optional<PasskeyCellSummary> PasskeyHeatmapWidget::cellAt(const QPoint& point) const {
  if (!has_) return std::nullopt;
  return PasskeyHeatmapPainter(sweep_, size(), font()).cellAt(point);
}

QString PasskeyHeatmapWidget::toolTipAt(const QPoint& point) const {
  const auto cell = cellAt(point);
  return cell ? PasskeyHeatmapPainter::describeCell(*cell) : QString();
}

void PasskeyHeatmapWidget::paintChart(QPainter& painter) {
  PasskeyHeatmapPainter(sweep_, size(), font()).paint(painter);
}

void PasskeyHeatmapWidget::paintEmpty(QPainter& painter) {
  InsightChartWidget::paintEmpty(painter);
  painter.setPen(palette().color(QPalette::PlaceholderText));
  painter.drawText(rect(), Qt::AlignCenter, tr("No sweep yet: set lengths, depths and trials, then Run."));
}

void PasskeyHeatmapWidget::chartClicked(const QPoint& point) {
  if (const auto cell = cellAt(point)) emit cellClicked(*cell);
}

}  // namespace sambalens::ui
