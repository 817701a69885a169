// The frame shared by the painted insight charts (passkey heatmap, entropy
// grid, entropy against position). The painting itself is the app's chart
// painters (app/insight/paint, shared with the headless PNGs); what every
// chart widget adds around them is the same and lives here: it grows with
// the window, paints every pixel (opaque), tracks the mouse for per-point
// tooltips, shows an empty state until it has data, and turns a left click
// into chartClicked() at that point.
#pragma once

#include <QWidget>

namespace sambalens::ui {

class InsightChartWidget : public QWidget {
  Q_OBJECT

 public:
  // The tooltip for a point of the widget; empty where there is nothing to say.
  virtual QString toolTipAt(const QPoint& point) const = 0;

 protected:
  explicit InsightChartWidget(QWidget* parent = nullptr);

  // Whether there is data to chart (else paintEmpty()).
  virtual bool hasChart() const = 0;
  // Paints the chart over the whole widget (it is opaque).
  virtual void paintChart(QPainter& painter) = 0;
  // Before there is data: the palette's base colour; override to add a hint.
  virtual void paintEmpty(QPainter& painter);
  // A left click released at `point` (widget coordinates); nothing by default.
  virtual void chartClicked(const QPoint& point);

  void paintEvent(QPaintEvent* event) override;
  bool event(QEvent* event) override;
  void mouseReleaseEvent(QMouseEvent* event) override;
};

}  // namespace sambalens::ui
