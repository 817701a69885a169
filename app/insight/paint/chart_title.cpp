#include "chart_title.h"

#include <QFontMetricsF>
#include <QPainter>
#include <QRectF>

namespace sambalens {

void paintChartTitle(QPainter& painter, const QFont& font, const QSizeF& size, const QString& title,
                     const QColor& colour) {
  const QFontMetricsF fm(font);
  QFont titleFont = font;
  titleFont.setBold(true);
  painter.setFont(titleFont);
  painter.setPen(colour);
  painter.drawText(QRectF(0, 8, size.width(), fm.height() + 2), Qt::AlignHCenter | Qt::AlignTop,
                   QFontMetricsF(titleFont).elidedText(title, Qt::ElideMiddle, size.width() - 16));
  painter.setFont(font);
}

}  // namespace sambalens
