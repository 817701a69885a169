// A one-line label that elides its text to the space it has (file paths,
// model descriptions in the status bar) and shows the whole text as a tooltip.
#pragma once

#include <QLabel>

namespace sambalens::ui {

class ElidedLabel : public QLabel {
  Q_OBJECT

 public:
  explicit ElidedLabel(QWidget* parent = nullptr);
  void setFullText(const QString& text);
  const QString& fullText() const { return full_; }
  QSize minimumSizeHint() const override;

 protected:
  void resizeEvent(QResizeEvent* event) override;

 private:
  void updateElision();
  QString full_;
};

}  // namespace sambalens::ui
