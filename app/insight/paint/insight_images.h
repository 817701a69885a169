// The charts as images (PNG export in the window and in the headless
// commands): the same painters the widgets use, onto a QImage.
#pragma once

#include <QFont>
#include <QImage>
#include <QString>

#include "entropy_grid_painter.h"
#include "entropy_position_painter.h"
#include "insight_types.h"

namespace sambalens {

// A font for images made without a window (13 px, the application's family).
QFont defaultChartFont();

QImage renderPasskeyHeatmap(const PasskeySweepRecord& sweep, const QFont& font = defaultChartFont());
// Two sweeps side by side (e.g. two models), each with its own title.
QImage renderPasskeyComparison(const PasskeySweepRecord& left, const PasskeySweepRecord& right,
                               const QFont& font = defaultChartFont());
// The layer x head grid above the entropy-against-position chart.
QImage renderEntropyOverview(const EntropyRunRecord& run, const EntropyGridOptions& grid,
                             const EntropyPositionOptions& positions, const QFont& font = defaultChartFont());

// Saves as PNG; false and `error` naming the file.
bool savePng(const QImage& image, const QString& path, QString* error);

}  // namespace sambalens
