// Entropy against position for the selected heads on screen
// (EntropyPositionPainter), with a tooltip on the nearest point.
#pragma once

#include "entropy_position_painter.h"
#include "insight_chart_widget.h"
#include "insight_types.h"

namespace sambalens::ui {

class EntropyPositionWidget : public InsightChartWidget {
  Q_OBJECT

 public:
  explicit EntropyPositionWidget(QWidget* parent = nullptr);

  void setRun(const sambalens::EntropyRunRecord* run);
  void setOptions(const sambalens::EntropyPositionOptions& options);
  const sambalens::EntropyPositionOptions& options() const { return options_; }
  QString toolTipAt(const QPoint& point) const override;

  QSize sizeHint() const override { return QSize(860, 440); }
  QSize minimumSizeHint() const override { return QSize(420, 260); }

 protected:
  bool hasChart() const override { return run_ != nullptr; }
  void paintChart(QPainter& painter) override;

 private:
  const sambalens::EntropyRunRecord* run_ = nullptr;
  sambalens::EntropyPositionOptions options_;
};

}  // namespace sambalens::ui
