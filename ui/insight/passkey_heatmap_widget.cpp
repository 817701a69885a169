#include "passkey_heatmap_widget.h"

#include <QHelpEvent>
#include <QMouseEvent>
#include <QPainter>
#include <QToolTip>
#include <cmath>

#include "passkey_heatmap_painter.h"

namespace sambalens::ui {

PasskeyHeatmapWidget::PasskeyHeatmapWidget(QWidget* parent) : QWidget(parent) {
  setMouseTracking(true);
  setAttribute(Qt::WA_OpaquePaintEvent);
  setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Expanding);
}

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

void PasskeyHeatmapWidget::paintEvent(QPaintEvent*) {
  QPainter painter(this);
  if (!has_) {
    painter.fillRect(rect(), palette().base());
    painter.setPen(palette().color(QPalette::PlaceholderText));
    painter.drawText(rect(), Qt::AlignCenter, tr("No sweep yet: set lengths, depths and trials, then Run."));
    return;
  }
  PasskeyHeatmapPainter(sweep_, size(), font()).paint(painter);
}

bool PasskeyHeatmapWidget::event(QEvent* event) {
  if (event->type() == QEvent::ToolTip) {
    auto* help = static_cast<QHelpEvent*>(event);
    const QString text = toolTipAt(help->pos());
    if (text.isEmpty()) {
      QToolTip::hideText();
    } else {
      QToolTip::showText(help->globalPos(), text, this);
    }
    return true;
  }
  return QWidget::event(event);
}

void PasskeyHeatmapWidget::mouseReleaseEvent(QMouseEvent* event) {
  if (event->button() == Qt::LeftButton) {
    if (const auto cell = cellAt(event->position().toPoint())) emit cellClicked(*cell);
  }
  QWidget::mouseReleaseEvent(event);
}

}  // namespace sambalens::ui
