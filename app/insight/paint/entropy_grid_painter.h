// The layer x head grid of mean attention entropy over a range of
// positions: one row per block of the model, top to bottom; SWA rows have a
// cell per head coloured by its mean entropy (raw nats on 0..ln W, or
// normalised H / ln(min(i+1, W)) on 0..1); Mamba rows are greyed and
// labelled "Mamba" (they have no attention). Painted by the widget and,
// onto a QImage, by the headless command.
#pragma once

#include <QFont>
#include <QRectF>
#include <QSizeF>
#include <QString>
#include <optional>

#include "insight_types.h"

class QPainter;

namespace sambalens {

struct EntropyGridOptions {
  qint64 from = 0;   // position range [from, to); to <= 0 means the end
  qint64 to = 0;
  bool normalised = false;
};

struct EntropyGridCell {
  int layer = 0;  // block index (odd)
  int swa = 0;    // index among the SWA layers
  int head = 0;
  double value = 0;  // NaN when no position of the range was measured
};

class EntropyGridPainter {
 public:
  EntropyGridPainter(const EntropyRunRecord& run, const EntropyGridOptions& options, const QSizeF& size,
                     const QFont& font);

  void paint(QPainter& painter) const;

  QRectF plotRect() const { return plot_; }
  QRectF cellRect(int layer, int head) const;  // a Mamba layer's whole row for any head
  std::optional<EntropyGridCell> cellAt(const QPointF& point) const;
  // Tooltip: value, layer, head and range.
  QString describeCell(const EntropyGridCell& cell) const;
  qint64 rangeFrom() const { return from_; }
  qint64 rangeTo() const { return to_; }
  double valueAt(int swa, int head) const;
  double scaleTop() const { return scaleTop_; }

  static QSizeF preferredSize(const EntropyRunRecord& run, const QFont& font);

 private:
  const EntropyRunRecord& run_;
  EntropyGridOptions options_;
  QSizeF size_;
  QFont font_;
  qint64 from_ = 0, to_ = 0;
  double scaleTop_ = 1;
  QRectF plot_;
  QRectF legend_;
};

}  // namespace sambalens
