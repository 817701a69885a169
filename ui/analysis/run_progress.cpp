#include "run_progress.h"

#include <QLabel>
#include <QProgressBar>
#include <QVBoxLayout>

#include "token_budget.h"

namespace sambalens::ui {

RunProgress::RunProgress(std::function<qint64()> tokensSoFar, QWidget* parent)
    : QWidget(parent), tokensSoFar_(std::move(tokensSoFar)) {
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(0, 0, 0, 0);
  layout->setSpacing(2);
  bar_ = new QProgressBar(this);
  bar_->setObjectName(QStringLiteral("prefillProgress"));
  bar_->setTextVisible(false);
  bar_->setMaximumHeight(8);
  bar_->hide();
  layout->addWidget(bar_);
  label_ = new QLabel(this);
  label_->setObjectName(QStringLiteral("runStatus"));
  label_->setStyleSheet(QStringLiteral("color: #555;"));
  layout->addWidget(label_);
  reuse_ = new QLabel(this);
  reuse_->setObjectName(QStringLiteral("reuseNote"));
  reuse_->setStyleSheet(QStringLiteral("color: #2e6b30;"));
  reuse_->setWordWrap(true);
  reuse_->hide();
  layout->addWidget(reuse_);
  ticker_.setInterval(250);
  connect(&ticker_, &QTimer::timeout, this, &RunProgress::tick);
}

void RunProgress::reset() {
  phase_ = Phase::Idle;
  ticker_.stop();
  bar_->hide();
  reuse_->hide();
  label_->clear();
}

void RunProgress::begin() {
  phase_ = Phase::Reading;
  bar_->setRange(0, 0);  // busy until the first progress report
  bar_->show();
  reuse_->hide();
  label_->setText(tr("Starting…"));
  ticker_.stop();
}

void RunProgress::reused(qint64 tokens) {
  reuse_->setText(tr("Reused the saved reading of this document: %1 tokens not read again.").arg(formatCount(tokens)));
  reuse_->show();
}

void RunProgress::prefill(const PrefillProgress& p) {
  if (phase_ != Phase::Reading) return;
  if (p.total > 0) {
    // QProgressBar takes int: scale a 1M+ token input down if needed.
    const double scale = p.total > 1000000000 ? 1000.0 : 1.0;
    bar_->setRange(0, int(p.total / scale));
    bar_->setValue(int(p.done / scale));
  }
  QString text = tr("Reading %1 / %2 tokens").arg(formatCount(p.done), formatCount(p.total));
  if (p.tokensPerSecond > 0) text += tr(" · %1 tokens/s").arg(formatCount(qRound64(p.tokensPerSecond)));
  if (p.etaSeconds >= 0) text += tr(" · %1 left").arg(formatDuration(p.etaSeconds));
  label_->setText(text);
}

void RunProgress::writing() {
  if (phase_ == Phase::Writing) return;
  phase_ = Phase::Writing;
  bar_->hide();
  sinceFirstToken_.start();
  tokensAtFirst_ = tokensSoFar_ ? tokensSoFar_() : 0;
  label_->setText(tr("Writing…"));
  ticker_.start();
}

void RunProgress::tick() {
  if (phase_ != Phase::Writing || !tokensSoFar_) return;
  const qint64 tokens = tokensSoFar_();
  const double seconds = sinceFirstToken_.elapsed() / 1000.0;
  QString text = tr("Writing · %1 tokens").arg(formatCount(tokens));
  if (seconds > 0.5 && tokens > tokensAtFirst_) {
    text += tr(" · %1 tokens/s").arg((tokens - tokensAtFirst_) / seconds, 0, 'f', 1);
  }
  label_->setText(text);
}

void RunProgress::finish(const GenerationStats& s) {
  phase_ = Phase::Done;
  ticker_.stop();
  bar_->hide();
  QStringList parts;
  if (s.cancelled) parts << tr("Stopped");
  parts << tr("first token after %1").arg(formatDuration(s.firstTokenSeconds));
  if (s.decodeTokensPerSecond > 0) parts << tr("%1 tokens/s").arg(s.decodeTokensPerSecond, 0, 'f', 1);
  parts << (s.outputTokens == 1 ? tr("1 token") : tr("%1 tokens").arg(formatCount(s.outputTokens)));
  if (s.prefillTokensPerSecond > 0) {
    parts << tr("read %1 tokens at %2 tokens/s")
                 .arg(formatCount(s.promptTokens() - s.reusedTokens))
                 .arg(formatCount(qRound64(s.prefillTokensPerSecond)));
  }
  QString text = parts.join(QStringLiteral(" · "));
  text[0] = text[0].toUpper();
  label_->setText(text);
}

void RunProgress::fail(const QString& message) {
  phase_ = Phase::Done;
  ticker_.stop();
  bar_->hide();
  label_->setText(tr("Failed: %1").arg(message));
}

QString RunProgress::text() const { return label_->text(); }

}  // namespace sambalens::ui
