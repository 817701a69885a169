// The saved insight runs (passkey sweeps and entropy runs), newest first:
// open one, compare two sweeps side by side, export, delete.
#pragma once

#include <QDialog>

#include "insight_types.h"

class QLabel;
class QPushButton;
class QTreeWidget;

namespace sambalens {
class InsightStore;
}

namespace sambalens::ui {

class InsightHub;

class InsightRunsDialog : public QDialog {
  Q_OBJECT

 public:
  explicit InsightRunsDialog(InsightHub* hub, QWidget* parent = nullptr);
  QTreeWidget* list() const { return list_; }

 public slots:
  void refresh();
  void openSelected();
  void compareSelected();
  void exportSelected(const QString& format);  // "png" or "csv"
  void deleteSelected();

 private:
  QList<sambalens::InsightRunSummary> selected() const;
  void updateButtons();
  // Reads one saved run from `store` and writes it to `path` as a PNG or a
  // CSV; false with `error` set (never empty) when it cannot.
  bool writeRun(sambalens::InsightStore& store, const sambalens::InsightRunSummary& summary, bool png,
                const QString& path, QString* error);

  InsightHub* hub_;
  QList<sambalens::InsightRunSummary> runs_;
  QTreeWidget* list_;
  QLabel* note_;
  QPushButton* open_;
  QPushButton* compare_;
  QPushButton* png_;
  QPushButton* csv_;
  QPushButton* delete_;
};

}  // namespace sambalens::ui
