// The passkey sweep: model, lengths, depths, trials (and seed); Run with
// progress and Stop; the heatmap of the result, saved at once and
// exportable as PNG and CSV. Also reopens a saved sweep (showSweep).
#pragma once

#include <QDialog>

#include "insight_types.h"

class QComboBox;
class QLabel;
class QLineEdit;
class QProgressBar;
class QPushButton;
class QSpinBox;

namespace sambalens::ui {

class InsightHub;
class PasskeyHeatmapWidget;

class PasskeySweepDialog : public QDialog {
  Q_OBJECT

 public:
  explicit PasskeySweepDialog(InsightHub* hub, QWidget* parent = nullptr);

  void showSweep(const sambalens::PasskeySweepRecord& sweep);
  PasskeyHeatmapWidget* heatmap() const { return heatmap_; }
  // The form's settings (empty lists and `error` set when a field is invalid).
  sambalens::PasskeySettings settings(QString* error) const;
  void setSettings(const sambalens::PasskeySettings& settings);
  bool isRunning() const { return running_; }

 public slots:
  bool run();
  void stop();
  void exportPng();
  void exportCsv();

 signals:
  void sweepShown(const sambalens::PasskeySweepRecord& sweep);

 private:
  void setRunning(bool running);
  void chooseModel();
  void describeLoadedModel();

  InsightHub* hub_;
  QLineEdit* model_;
  QComboBox* backend_;
  QLineEdit* lengths_;
  QLineEdit* depths_;
  QSpinBox* trials_;
  QSpinBox* seed_;
  QPushButton* runButton_;
  QPushButton* stopButton_;
  QPushButton* pngButton_;
  QPushButton* csvButton_;
  QProgressBar* progress_;
  QLabel* status_;
  PasskeyHeatmapWidget* heatmap_;
  bool running_ = false;
};

}  // namespace sambalens::ui
