// The model and device in the status bar: which model, which backend, the
// GPU's name and memory, or why it runs on the CPU; and "Choose model…".
#pragma once

#include <QWidget>

#include "engine_types.h"

class QLabel;
class QPushButton;

namespace sambalens::ui {

class ElidedLabel;

class ModelStatusWidget : public QWidget {
  Q_OBJECT

 public:
  explicit ModelStatusWidget(QWidget* parent = nullptr);

  void setLoading(const QString& folder);
  void setLoaded(const sambalens::ModelInfo& model);
  void setUnavailable(const QString& message);
  void setChooseEnabled(bool enabled);

  QString text() const;
  QPushButton* chooseButton() const { return choose_; }

  // "samba-lens-default · cuda: NVIDIA H200 (139 GiB)" or
  // "tiny · cpu (2 threads) · on the CPU: no CUDA device found".
  static QString describe(const sambalens::ModelInfo& model);
  // Several lines for the tooltip: size, window, training length...
  static QString details(const sambalens::ModelInfo& model);

 signals:
  void chooseRequested();

 private:
  QLabel* device_;
  ElidedLabel* label_;
  QPushButton* choose_;
};

}  // namespace sambalens::ui
