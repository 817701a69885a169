// Token surprisal painted over the document's text: each token's span gets
// a background colour from its -ln p (white = expected, red = surprising),
// over the text exactly as the model's tokens spell it. Hovering or
// clicking a token shows its value and position. A QPlainTextEdit (it lays
// out only what is visible, so long documents scroll smoothly) whose
// viewport is painted with the token colours before the text.
#pragma once

#include <QLabel>
#include <QPlainTextEdit>
#include <QWidget>

#include "insight_types.h"

namespace sambalens::ui {

class SurprisalTextView : public QPlainTextEdit {
  Q_OBJECT

 public:
  explicit SurprisalTextView(QWidget* parent = nullptr);

  void setRun(const sambalens::EntropyRunRecord* run);
  // Values at or above this many nats get the strongest colour: the 99th
  // percentile of the run, rounded up (at least 1).
  double scaleTop() const { return scaleTop_; }
  QColor tokenColour(int token) const;
  // The token under a viewport point, or -1.
  int tokenAt(const QPoint& viewportPoint) const;
  QString describeToken(int token) const;
  // Scrolls to and selects a token.
  void showToken(int token);

 signals:
  void tokenClicked(int token);

 protected:
  void paintEvent(QPaintEvent* event) override;
  bool viewportEvent(QEvent* event) override;
  void mouseReleaseEvent(QMouseEvent* event) override;

 private:
  const sambalens::EntropyRunRecord* run_ = nullptr;
  double scaleTop_ = 1;
};

// The colour key for the surprisal view: a horizontal ramp, 0 .. scale top.
class SurprisalLegend : public QWidget {
  Q_OBJECT

 public:
  explicit SurprisalLegend(QWidget* parent = nullptr);
  void setScaleTop(double nats);
  QSize sizeHint() const override;

 protected:
  void paintEvent(QPaintEvent* event) override;

 private:
  double top_ = 1;
};

// The legend, the text and a line that tells what was clicked.
class SurprisalPane : public QWidget {
  Q_OBJECT

 public:
  explicit SurprisalPane(QWidget* parent = nullptr);
  void setRun(const sambalens::EntropyRunRecord* run);
  SurprisalTextView* textView() const { return text_; }
  QLabel* detailLabel() const { return detail_; }

 private:
  SurprisalLegend* legend_;
  SurprisalTextView* text_;
  QLabel* detail_;
  const sambalens::EntropyRunRecord* run_ = nullptr;
};

}  // namespace sambalens::ui
