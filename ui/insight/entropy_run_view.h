// One entropy run shown three ways: the layer x head grid over a chosen
// range of positions, entropy against position for the selected heads
// (click grid cells to pick them), and the surprisal over the text; with
// the normalised, log-axis and band options and PNG / CSV export.
#pragma once

#include <QWidget>

#include "entropy_position_painter.h"
#include "insight_types.h"

class QCheckBox;
class QSpinBox;
class QTabWidget;
class QLabel;

namespace sambalens::ui {

class EntropyGridWidget;
class EntropyPositionWidget;
class SurprisalPane;

class EntropyRunView : public QWidget {
  Q_OBJECT

 public:
  explicit EntropyRunView(QWidget* parent = nullptr);

  void setRun(const sambalens::EntropyRunRecord& run);
  const sambalens::EntropyRunRecord& run() const { return run_; }

  EntropyGridWidget* grid() const { return grid_; }
  EntropyPositionWidget* positions() const { return positions_; }
  SurprisalPane* surprisal() const { return surprisal_; }
  QTabWidget* tabs() const { return tabs_; }
  // Range and options (the controls' values).
  void setRange(qint64 from, qint64 to);
  void setNormalised(bool on);
  void setLogPositions(bool on);
  void setHeads(const QList<sambalens::EntropyHead>& heads);
  QList<sambalens::EntropyHead> heads() const { return heads_; }

 public slots:
  void exportPng();
  void exportCsv();
  void exportSurprisalCsv();

 private:
  void applyOptions();
  void toggleHead(int swa, int head);

  sambalens::EntropyRunRecord run_;
  QList<sambalens::EntropyHead> heads_;
  QLabel* summary_;
  QSpinBox* from_;
  QSpinBox* to_;
  QCheckBox* normalised_;
  QCheckBox* logX_;
  QCheckBox* bands_;
  QTabWidget* tabs_;
  EntropyGridWidget* grid_;
  EntropyPositionWidget* positions_;
  SurprisalPane* surprisal_;
};

}  // namespace sambalens::ui
