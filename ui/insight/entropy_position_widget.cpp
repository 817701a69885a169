#include "entropy_position_widget.h"

#include <QHelpEvent>
#include <QPainter>
#include <QToolTip>

namespace sambalens::ui {

EntropyPositionWidget::EntropyPositionWidget(QWidget* parent) : QWidget(parent) {
  setMouseTracking(true);
  setAttribute(Qt::WA_OpaquePaintEvent);
  setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Expanding);
}

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

void EntropyPositionWidget::paintEvent(QPaintEvent*) {
  QPainter painter(this);
  if (!run_) {
    painter.fillRect(rect(), palette().base());
    return;
  }
  EntropyPositionPainter(*run_, options_, size(), font()).paint(painter);
  if (options_.heads.isEmpty()) {
    painter.setPen(QColor(90, 90, 90));
    painter.drawText(rect().adjusted(0, 0, 0, -40), Qt::AlignCenter, tr("Click heads in the grid to draw them here."));
  }
}

bool EntropyPositionWidget::event(QEvent* event) {
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

}  // namespace sambalens::ui
