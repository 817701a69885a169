// Parsing the sweep settings people type, in the dialog and on the command
// line: lengths like "512, 1K, 4k, 1M" and depths like "0, 0.25, 50%, 1".
#pragma once

#include <QList>
#include <QString>

namespace sambalens {

// Comma- or space-separated token counts; K = 1024, M = 1048576.
// On error returns an empty list and sets `error` naming the bad item.
QList<qint64> parseLengths(const QString& text, QString* error);
// Comma- or space-separated fractions 0..1, or percentages ("25%").
QList<double> parseDepths(const QString& text, QString* error);
// Back to text, in the forms above ("512, 1K, 2K"; "0%, 25%, 100%").
QString formatLengths(const QList<qint64>& lengths);
QString formatDepths(const QList<double>& depths);

}  // namespace sambalens
