// Entropy against position for selected heads: each head's bucket means as
// a line with its min/max band, and the maximum ln(min(i+1, W)) (uniform
// attention over the visible window) as a dashed curve; linear or log x.
#pragma once

#include <QColor>
#include <QFont>
#include <QList>
#include <QRectF>
#include <QSizeF>
#include <optional>

#include "insight_types.h"

class QPainter;

namespace sambalens {

struct EntropyHead {
  int swa = 0;   // index among the SWA layers
  int head = 0;
  bool operator==(const EntropyHead& o) const { return swa == o.swa && head == o.head; }
};

struct EntropyPositionOptions {
  QList<EntropyHead> heads;
  bool logX = true;
  bool normalised = false;  // H / ln(min(i+1, W)) on 0..1 instead of nats
  bool showBands = true;
};

// Distinct colours for up to ~10 series, then repeating.
QColor seriesColour(int index);
QString headLabel(const EntropyHead& head);  // "L3 h2" (L = block index)

struct EntropyPositionHit {
  EntropyHead head;
  int bucket = 0;
  double value = 0;
};

class EntropyPositionPainter {
 public:
  EntropyPositionPainter(const EntropyRunRecord& run, const EntropyPositionOptions& options, const QSizeF& size,
                         const QFont& font);
  void paint(QPainter& painter) const;

  QRectF plotRect() const { return plot_; }
  qreal xOf(double position) const;
  qreal yOf(double value) const;
  // The series point nearest to `point` within a few pixels.
  std::optional<EntropyPositionHit> hitAt(const QPointF& point) const;
  QString describeHit(const EntropyPositionHit& hit) const;

  // The lowest- and highest-entropy heads over the whole run (up to `count`
  // in all), a sensible default selection.
  static QList<EntropyHead> extremeHeads(const EntropyRunRecord& run, int count);

 private:
  double seriesValue(const EntropyHead& head, int bucket) const;
  double bucketCentre(int bucket) const;

  const EntropyRunRecord& run_;
  EntropyPositionOptions options_;
  QSizeF size_;
  QFont font_;
  QRectF plot_;
  double xFrom_ = 0, xTo_ = 1, yTop_ = 1;
};

}  // namespace sambalens
