// The passkey heatmap, laid out for a given size and painted with QPainter:
// context length on a log2 x axis (shortest at the left), needle depth on
// y with 0% at the TOP, accuracy as colour (red -> green) with a legend, and
// the model's training length and attention window as vertical lines. The
// widget paints it on screen, the headless command onto a QImage.
#pragma once

#include <QFont>
#include <QRectF>
#include <QSizeF>
#include <QString>
#include <optional>

#include "insight_types.h"

class QPainter;

namespace sambalens {

class PasskeyHeatmapPainter {
 public:
  PasskeyHeatmapPainter(const PasskeySweepRecord& sweep, const QSizeF& size, const QFont& font,
                        const QString& title = QString());

  void paint(QPainter& painter) const;

  // Layout, for hit tests and the tests' colour checks.
  const QList<qint64>& lengths() const { return lengths_; }
  const QList<double>& depths() const { return depths_; }
  QRectF plotRect() const { return plot_; }
  QRectF cellRect(int lengthIndex, int depthIndex) const;
  // x of a length on the log2 axis (may be outside the plot).
  qreal xOfLength(double tokens) const;
  // The cell under `point`, if any.
  std::optional<PasskeyCellSummary> cellAt(const QPointF& point) const;
  // Tooltip text for a cell: length, depth, accuracy, trials, wrong answers.
  static QString describeCell(const PasskeyCellSummary& cell);

  // The size this chart reads best at for `sweep`.
  static QSizeF preferredSize(const PasskeySweepRecord& sweep, const QFont& font);

 private:
  void paintMarker(QPainter& painter, double tokens, const QString& label, const QColor& colour, int slot) const;

  const PasskeySweepRecord& sweep_;
  QSizeF size_;
  QFont font_;
  QString title_;
  QList<qint64> lengths_;
  QList<double> depths_;
  QList<double> columnEdges_;  // log2 boundaries, lengths_.size() + 1
  double axisFrom_ = 0, axisTo_ = 1;
  QRectF plot_;
  QRectF legend_;
};

}  // namespace sambalens
