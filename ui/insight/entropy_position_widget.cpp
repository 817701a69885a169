#include "entropy_position_widget.h"

#include <QPainter>

namespace sambalens::ui {

EntropyPositionWidget::EntropyPositionWidget(QWidget* parent) : InsightChartWidget(parent) {}

void EntropyPositionWidget::setRun(const EntropyRunRecord* run) {
  run_ = run;
  update();
}

void EntropyPositionWidget::setOptions(const EntropyPositionOptions& options) {
  options_ = options;
  update();
}

QString EntropyPositionWidget::toolTipAt(const QPoint& point) const {
  if (!run_) return QString();
  const EntropyPositionPainter chart(*run_, options_, size(), font());
  const auto hit = chart.hitAt(point);
  return hit ? chart.describeHit(*hit) : QString();
}

void EntropyPositionWidget::paintChart(QPainter& painter) {
  EntropyPositionPainter(*run_, options_, size(), font()).paint(painter);
  if (options_.heads.isEmpty()) {
    painter.setPen(QColor(90, 90, 90));
    painter.drawText(rect().adjusted(0, 0, 0, -40), Qt::AlignCenter, tr("Click heads in the grid to draw them here."));
  }
}

}  // namespace sambalens::ui
