#include "insight_chart_widget.h"

#include <QMouseEvent>
#include <QPainter>

#include "tooltip_event.h"

namespace sambalens::ui {

InsightChartWidget::InsightChartWidget(QWidget* parent) : QWidget(parent) {
  setMouseTracking(true);  // tooltips follow the mouse from cell to cell
  setAttribute(Qt::WA_OpaquePaintEvent);  // the painters fill the whole rect
  setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Expanding);
}

void InsightChartWidget::paintEmpty(QPainter& painter) { painter.fillRect(rect(), palette().base()); }

void InsightChartWidget::chartClicked(const QPoint&) {}

void InsightChartWidget::paintEvent(QPaintEvent*) {
  QPainter painter(this);
  if (hasChart()) {
    paintChart(painter);
  } else {
    paintEmpty(painter);
  }
}

bool InsightChartWidget::event(QEvent* event) {
  if (answerToolTipEvent(event, this, [this](const QPoint& point) { return toolTipAt(point); })) return true;
  return QWidget::event(event);
}

void InsightChartWidget::mouseReleaseEvent(QMouseEvent* event) {
  if (event->button() == Qt::LeftButton) chartClicked(event->position().toPoint());
  QWidget::mouseReleaseEvent(event);
}

}  // namespace sambalens::ui
