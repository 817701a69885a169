#include "entropy_grid_widget.h"

#include <QHelpEvent>
#include <QMouseEvent>
#include <QPainter>
#include <QToolTip>

namespace sambalens::ui {

EntropyGridWidget::EntropyGridWidget(QWidget* parent) : QWidget(parent) {
  setMouseTracking(true);
  setAttribute(Qt::WA_OpaquePaintEvent);
  setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Expanding);
}

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

void EntropyGridWidget::paintEvent(QPaintEvent*) {
  QPainter painter(this);
  if (!run_) {
    painter.fillRect(rect(), palette().base());
    return;
  }
  EntropyGridPainter(*run_, options_, size(), font()).paint(painter);
}

bool EntropyGridWidget::event(QEvent* event) {
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

void EntropyGridWidget::mouseReleaseEvent(QMouseEvent* event) {
  if (event->button() == Qt::LeftButton) {
    if (const auto cell = cellAt(event->position().toPoint())) emit headClicked(cell->swa, cell->head);
  }
  QWidget::mouseReleaseEvent(event);
}

}  // namespace sambalens::ui
