// The bold, centred, elided title line at the top of the entropy charts.
#pragma once

#include <QColor>
#include <QFont>
#include <QSizeF>
#include <QString>

class QPainter;

namespace sambalens {

// Draws `title` in bold `font` centred across `size` 8 px from the top,
// elided in the middle to fit, in `colour`; leaves the painter's font at `font`.
void paintChartTitle(QPainter& painter, const QFont& font, const QSizeF& size, const QString& title,
                     const QColor& colour);

}  // namespace sambalens
