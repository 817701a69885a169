#include "analysis_pane.h"

#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QVBoxLayout>

#include "prompt_presets.h"
#include "run_progress.h"
#include "token_budget_meter.h"
#include "transcript_view.h"

namespace sambalens::ui {

AnalysisPane::AnalysisPane(std::function<qint64()> tokensSoFar, QWidget* parent) : QWidget(parent) {
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(6, 6, 6, 6);
  layout->setSpacing(6);

  budget_ = new TokenBudgetMeter(this);
  layout->addWidget(budget_);

  // Presets that need no question are one click each; the ones that take
  // a question ("Ask") go with the question field.
  auto* presets = new QHBoxLayout;
  presets->setSpacing(4);
  for (const PromptPreset& preset : promptPresets()) {
    if (preset.needsQuestion()) {
      if (askPresetId_.isEmpty()) askPresetId_ = preset.id;
      continue;
    }
    auto* button = new QPushButton(preset.title, this);
    button->setObjectName(QStringLiteral("preset_") + preset.id);
    connect(button, &QPushButton::clicked, this, [this, id = preset.id] { emit runRequested(id, QString()); });
    presets->addWidget(button);
    presetButtons_.append({preset.id, button});
  }
  presets->addStretch(1);
  layout->addLayout(presets);

  auto* askRow = new QHBoxLayout;
  question_ = new QLineEdit(this);
  question_->setObjectName(QStringLiteral("question"));
  question_->setPlaceholderText(tr("Ask about the selected documents…"));
  question_->setClearButtonEnabled(true);
  askRow->addWidget(question_, 1);
  ask_ = new QPushButton(tr("Ask"), this);
  ask_->setObjectName(QStringLiteral("ask"));
  ask_->setToolTip(tr("Ask the question (Ctrl+Enter)"));
  askRow->addWidget(ask_);
  stop_ = new QPushButton(tr("Stop"), this);
  stop_->setObjectName(QStringLiteral("stop"));
  stop_->setToolTip(tr("Stop the answer (Esc); what was written is kept"));
  askRow->addWidget(stop_);
  layout->addLayout(askRow);
  connect(ask_, &QPushButton::clicked, this, &AnalysisPane::ask);
  connect(question_, &QLineEdit::returnPressed, this, &AnalysisPane::ask);
  connect(question_, &QLineEdit::textChanged, this, &AnalysisPane::updateEnabled);
  connect(stop_, &QPushButton::clicked, this, &AnalysisPane::stopRequested);

  hint_ = new QLabel(this);
  hint_->setObjectName(QStringLiteral("runHint"));
  hint_->setWordWrap(true);
  hint_->setStyleSheet(QStringLiteral("color: #777;"));
  layout->addWidget(hint_);

  progress_ = new RunProgress(std::move(tokensSoFar), this);
  layout->addWidget(progress_);

  transcript_ = new TranscriptView(this);
  transcript_->setObjectName(QStringLiteral("transcript"));
  layout->addWidget(transcript_, 1);
  updateEnabled();
}

QPushButton* AnalysisPane::presetButton(const QString& presetId) const {
  for (const auto& [id, button] : presetButtons_) {
    if (id == presetId) return button;
  }
  return presetId == askPresetId_ ? ask_ : nullptr;
}

void AnalysisPane::setReady(bool ready, const QString& reason) {
  ready_ = ready;
  notReadyReason_ = reason;
  updateEnabled();
}

void AnalysisPane::setRunning(bool running) {
  running_ = running;
  updateEnabled();
}

void AnalysisPane::updateEnabled() {
  const bool canStart = ready_ && !running_;
  for (const auto& [id, button] : presetButtons_) {
    button->setEnabled(canStart);
    button->setToolTip(canStart ? QString() : notReadyReason_);
  }
  ask_->setEnabled(canStart && !askPresetId_.isEmpty() && !question_->text().trimmed().isEmpty());
  stop_->setEnabled(running_);
  hint_->setText(running_ || ready_ ? QString() : notReadyReason_);
  hint_->setVisible(!hint_->text().isEmpty());
}

void AnalysisPane::ask() {
  const QString question = question_->text().trimmed();
  if (question.isEmpty()) {
    focusQuestion();
    return;
  }
  if (!ready_ || running_ || askPresetId_.isEmpty()) return;
  emit runRequested(askPresetId_, question);
}

void AnalysisPane::focusQuestion() {
  question_->setFocus(Qt::ShortcutFocusReason);
  question_->selectAll();
}

}  // namespace sambalens::ui
