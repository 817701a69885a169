// What the current run is doing, in one line and a bar: while the model
// reads the input, tokens read / total, tokens per second and time left;
// that a saved reading was reused; while it writes, the live speed; after
// it, time to first token and tokens per second.
#pragma once

#include <QElapsedTimer>
#include <QTimer>
#include <QWidget>
#include <functional>

#include "engine_types.h"

class QLabel;
class QProgressBar;

namespace sambalens::ui {

class RunProgress : public QWidget {
  Q_OBJECT

 public:
  // `tokensSoFar` reports the tokens generated so far (any thread safe call).
  explicit RunProgress(std::function<qint64()> tokensSoFar, QWidget* parent = nullptr);

  // Back to nothing shown (another session was opened).
  void reset();
  void begin();
  void reused(qint64 tokens);
  void prefill(const sambalens::PrefillProgress& progress);
  // The first text of the answer arrived.
  void writing();
  void finish(const sambalens::GenerationStats& stats);
  void fail(const QString& message);

  QString text() const;
  bool isReading() const { return phase_ == Phase::Reading; }
  const QProgressBar* bar() const { return bar_; }

 private:
  enum class Phase { Idle, Reading, Writing, Done };
  void tick();

  std::function<qint64()> tokensSoFar_;
  QProgressBar* bar_;
  QLabel* label_;
  QLabel* reuse_;
  QTimer ticker_;  // refreshes the live speed while writing
  QElapsedTimer sinceFirstToken_;
  qint64 tokensAtFirst_ = 0;
  Phase phase_ = Phase::Idle;
};

}  // namespace sambalens::ui
