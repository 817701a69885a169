#include "entropy_grid_widget.h"

#include <QPainter>

namespace sambalens::ui {

EntropyGridWidget::EntropyGridWidget(QWidget* parent) : InsightChartWidget(parent) {}

void EntropyGridWidget::setRun(const EntropyRunRecord* run) {
  run_ = run;
  updateGeometry();
  update();
}

void EntropyGridWidget::setOptions(const EntropyGridOptions& options) {
  options_ = options;
  update();
}

QSize EntropyGridWidget::sizeHint() const {
  if (!run_) return QSize(600, 400);
  return EntropyGridPainter::preferredSize(*run_, font()).toSize();
}

QRectF EntropyGridWidget::cellRect(int layer, int head) const {
  if (!run_) return QRectF();
  return EntropyGridPainter(*run_, options_, size(), font()).cellRect(layer, head);
}

std::optional<EntropyGridCell> EntropyGridWidget::cellAt(const QPoint& point) const {
  if (!run_) return std::nullopt;
  return EntropyGridPainter(*run_, options_, size(), font()).cellAt(point);
}

QString EntropyGridWidget::toolTipAt(const QPoint& point) const {
  if (!run_) return QString();
  const EntropyGridPainter chart(*run_, options_, size(), font());
  const auto cell = chart.cellAt(point);
  if (!cell) return QString();
  return chart.describeCell(*cell) + tr("\nclick: show this head against position");
}

void EntropyGridWidget::paintChart(QPainter& painter) {
  EntropyGridPainter(*run_, options_, size(), font()).paint(painter);
}

void EntropyGridWidget::chartClicked(const QPoint& point) {
  if (const auto cell = cellAt(point)) emit headClicked(cell->swa, cell->head);
}

}  // namespace sambalens::ui
