// A window for one entropy run: while it reads, progress and Stop; then the
// run's views (EntropyRunView). Also reopens a saved run.
#pragma once

#include <QDialog>

#include "insight_types.h"

class QLabel;
class QProgressBar;
class QPushButton;
class QStackedWidget;

namespace sambalens::ui {

class EntropyRunView;
class InsightHub;

class EntropyRunWindow : public QDialog {
  Q_OBJECT

 public:
  explicit EntropyRunWindow(InsightHub* hub, QWidget* parent = nullptr);

  // Starts reading `text`; false (with the reason shown) if it cannot start.
  bool start(const QString& text, const QString& document);
  void showRun(const sambalens::EntropyRunRecord& run);
  EntropyRunView* view() const { return view_; }
  bool isRunning() const { return running_; }

 signals:
  void runShown(const sambalens::EntropyRunRecord& run);

 private:
  void finishRunning(const QString& message);

  InsightHub* hub_;
  QStackedWidget* pages_;
  QLabel* status_;
  QProgressBar* progress_;
  QPushButton* stop_;
  EntropyRunView* view_;
  bool running_ = false;
};

}  // namespace sambalens::ui
