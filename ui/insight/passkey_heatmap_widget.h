// The passkey heatmap on screen: PasskeyHeatmapPainter at the widget's
// size, with a tooltip per cell (accuracy, trials, the wrong answers).
#pragma once

#include <optional>

#include "insight_chart_widget.h"
#include "insight_types.h"

namespace sambalens::ui {

class PasskeyHeatmapWidget : public InsightChartWidget {
  Q_OBJECT

 public:
  explicit PasskeyHeatmapWidget(QWidget* parent = nullptr);

  void setSweep(const sambalens::PasskeySweepRecord& sweep);
  void clear();
  bool hasSweep() const { return has_; }
  const sambalens::PasskeySweepRecord& sweep() const { return sweep_; }
  // The chart's layout at the current size (for tests: where a cell is).
  QRectF cellRect(qint64 length, double depth) const;
  std::optional<sambalens::PasskeyCellSummary> cellAt(const QPoint& point) const;
  QString toolTipAt(const QPoint& point) const override;

  QSize sizeHint() const override;
  QSize minimumSizeHint() const override { return QSize(420, 280); }

 signals:
  void cellClicked(const sambalens::PasskeyCellSummary& cell);

 protected:
  bool hasChart() const override { return has_; }
  void paintChart(QPainter& painter) override;
  // The base colour and a line that says how to get a sweep.
  void paintEmpty(QPainter& painter) override;
  void chartClicked(const QPoint& point) override;

 private:
  sambalens::PasskeySweepRecord sweep_;
  bool has_ = false;
};

}  // namespace sambalens::ui
