// The layer x head entropy grid on screen (EntropyGridPainter), with a
// hover tooltip (value, layer, head, range); a click on a head's cell
// toggles it in the entropy-against-position chart.
#pragma once

#include <optional>

#include "entropy_grid_painter.h"
#include "insight_chart_widget.h"
#include "insight_types.h"

namespace sambalens::ui {

class EntropyGridWidget : public InsightChartWidget {
  Q_OBJECT

 public:
  explicit EntropyGridWidget(QWidget* parent = nullptr);

  // The run must outlive the widget's use of it (the view owns both).
  void setRun(const sambalens::EntropyRunRecord* run);
  void setOptions(const sambalens::EntropyGridOptions& options);
  const sambalens::EntropyGridOptions& options() const { return options_; }

  QRectF cellRect(int layer, int head) const;
  std::optional<sambalens::EntropyGridCell> cellAt(const QPoint& point) const;
  QString toolTipAt(const QPoint& point) const override;

  QSize sizeHint() const override;
  QSize minimumSizeHint() const override { return QSize(420, 260); }

 signals:
  void headClicked(int swa, int head);

 protected:
  bool hasChart() const override { return run_ != nullptr; }
  void paintChart(QPainter& painter) override;
  void chartClicked(const QPoint& point) override;

 private:
  const sambalens::EntropyRunRecord* run_ = nullptr;
  sambalens::EntropyGridOptions options_;
};

}  // namespace sambalens::ui
