#include "tooltip_event.h"

#include <QHelpEvent>
#include <QToolTip>
#include <QWidget>

namespace sambalens::ui {

bool answerToolTipEvent(QEvent* event, QWidget* owner, const std::function<QString(const QPoint&)>& textAt) {
  if (event->type() != QEvent::ToolTip) return false;
  auto* help = static_cast<QHelpEvent*>(event);
  const QString text = textAt(help->pos());
  if (text.isEmpty()) {
    QToolTip::hideText();
  } else {
    QToolTip::showText(help->globalPos(), text, owner);
  }
  return true;
}

}  // namespace sambalens::ui
