#include "elided_label.h"

#include <QResizeEvent>

namespace sambalens::ui {

ElidedLabel::ElidedLabel(QWidget* parent) : QLabel(parent) {
  setSizePolicy(QSizePolicy::Ignored, QSizePolicy::Preferred);
}

void ElidedLabel::setFullText(const QString& text) {
  full_ = text;
  setToolTip(text);
  updateElision();
}

QSize ElidedLabel::minimumSizeHint() const { return {fontMetrics().averageCharWidth() * 8, QLabel::minimumSizeHint().height()}; }

void ElidedLabel::resizeEvent(QResizeEvent* event) {
  QLabel::resizeEvent(event);
  updateElision();
}

void ElidedLabel::updateElision() { setText(fontMetrics().elidedText(full_, Qt::ElideMiddle, qMax(0, width() - 2))); }

}  // namespace sambalens::ui
