// Two saved passkey sweeps side by side (typically two models on the same
// lengths and depths), with PNG and CSV export of both.
#pragma once

#include <QDialog>

#include "insight_types.h"

namespace sambalens::ui {

class PasskeyHeatmapWidget;

class PasskeyComparisonDialog : public QDialog {
  Q_OBJECT

 public:
  PasskeyComparisonDialog(const sambalens::PasskeySweepRecord& left, const sambalens::PasskeySweepRecord& right,
                          QWidget* parent = nullptr);
  PasskeyHeatmapWidget* left() const { return left_; }
  PasskeyHeatmapWidget* right() const { return right_; }

 public slots:
  void exportPng();
  void exportCsv();

 private:
  PasskeyHeatmapWidget* left_;
  PasskeyHeatmapWidget* right_;
};

}  // namespace sambalens::ui
