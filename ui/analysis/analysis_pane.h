// The analysis pane: the token budget of the selection, the prompt presets
// (Summarize, Explain code, Review code...) and a free question with Ask,
// the Stop button, the run's progress, and the conversation with the answer
// streaming in. It asks the window to run; it never talks to the engine.
#pragma once

#include <QList>
#include <QWidget>
#include <functional>

#include "engine_types.h"
#include "session_store.h"

class QLabel;
class QLineEdit;
class QPushButton;

namespace sambalens::ui {

class RunProgress;
class TokenBudgetMeter;
class TranscriptView;

class AnalysisPane : public QWidget {
  Q_OBJECT

 public:
  explicit AnalysisPane(std::function<qint64()> tokensSoFar, QWidget* parent = nullptr);

  TokenBudgetMeter* budgetMeter() const { return budget_; }
  TranscriptView* transcript() const { return transcript_; }
  RunProgress* progress() const { return progress_; }
  QPushButton* stopButton() const { return stop_; }
  QPushButton* askButton() const { return ask_; }
  QPushButton* presetButton(const QString& presetId) const;
  QLineEdit* questionField() const { return question_; }

  // Whether a run can start now; `reason` says why not (shown as a hint
  // and as the buttons' tooltip).
  void setReady(bool ready, const QString& reason);
  void setRunning(bool running);
  bool isRunning() const { return running_; }

 public slots:
  // Ask the question in the field (Ctrl+Enter); an empty field gets focus.
  void ask();
  void focusQuestion();

 signals:
  void runRequested(const QString& presetId, const QString& question);
  void stopRequested();

 private:
  void updateEnabled();

  TokenBudgetMeter* budget_;
  QList<QPair<QString, QPushButton*>> presetButtons_;
  QLineEdit* question_;
  QPushButton* ask_;
  QPushButton* stop_;
  QLabel* hint_;
  RunProgress* progress_;
  TranscriptView* transcript_;
  QString askPresetId_;
  bool ready_ = false;
  bool running_ = false;
  QString notReadyReason_;
};

}  // namespace sambalens::ui
