// The insight views' answer to Qt's tooltip request: the text depends on the
// point under the mouse (a cell, a curve's point, a token), so each view
// answers QEvent::ToolTip itself instead of setting a fixed toolTip().
#pragma once

#include <QString>
#include <functional>

class QEvent;
class QPoint;
class QWidget;

namespace sambalens::ui {

// If `event` is a QEvent::ToolTip, shows textAt(the point) as the tooltip of
// `owner` (or hides the tooltip when the text is empty, so a stale one from
// the previous cell does not linger) and returns true: the event is used up
// either way. Any other event: returns false, for the caller's base class.
bool answerToolTipEvent(QEvent* event, QWidget* owner, const std::function<QString(const QPoint&)>& textAt);

}  // namespace sambalens::ui
