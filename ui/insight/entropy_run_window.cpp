#include "entropy_run_window.h"

#include <QDialogButtonBox>
#include <QLabel>
#include <QProgressBar>
#include <QPushButton>
#include <QStackedWidget>
#include <QVBoxLayout>

#include "entropy_run_view.h"
#include "insight_controller.h"
#include "insight_hub.h"
#include "token_budget.h"

namespace sambalens::ui {

EntropyRunWindow::EntropyRunWindow(InsightHub* hub, QWidget* parent) : QDialog(parent), hub_(hub) {
  setWindowTitle(tr("Attention Entropy and Surprisal"));
  setObjectName(QStringLiteral("entropyRunWindow"));
  auto* layout = new QVBoxLayout(this);
  pages_ = new QStackedWidget(this);

  auto* running = new QWidget(this);
  auto* runningLayout = new QVBoxLayout(running);
  runningLayout->addStretch(1);
  status_ = new QLabel(running);
  status_->setObjectName(QStringLiteral("entropyStatus"));
  status_->setWordWrap(true);
  status_->setAlignment(Qt::AlignCenter);
  progress_ = new QProgressBar(running);
  stop_ = new QPushButton(tr("&Stop"), running);
  runningLayout->addWidget(status_);
  runningLayout->addWidget(progress_);
  runningLayout->addWidget(stop_, 0, Qt::AlignHCenter);
  runningLayout->addStretch(2);
  pages_->addWidget(running);

  view_ = new EntropyRunView(this);
  pages_->addWidget(view_);
  layout->addWidget(pages_, 1);
  auto* buttons = new QDialogButtonBox(QDialogButtonBox::Close, this);
  layout->addWidget(buttons);
  connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
  connect(stop_, &QPushButton::clicked, this, [this] {
    if (running_) hub_->controller()->cancel();
  });

  InsightController* insight = hub_->controller();
  connect(insight, &InsightController::progress, this, [this](const InsightProgress& p) {
    if (!running_) return;
    progress_->setRange(0, int(std::max<qint64>(p.total, 1)));
    progress_->setValue(int(p.done));
    QString text = tr("Reading with the entropy probe: %1 of %2 tokens").arg(formatCount(p.done), formatCount(p.total));
    if (p.etaSeconds >= 0) text += tr(", about %1 left").arg(formatDuration(p.etaSeconds));
    status_->setText(text);
  });
  connect(insight, &InsightController::entropyFinished, this, [this](const EntropyRunRecord& result) {
    if (!running_) return;
    running_ = false;
    EntropyRunRecord run = result;
    hub_->save(run);
    showRun(run);
  });
  connect(insight, &InsightController::stopped, this, [this] { finishRunning(tr("Stopped: nothing was kept.")); });
  connect(insight, &InsightController::failed, this, [this](const QString& message) {
    finishRunning(tr("The run failed: %1").arg(message));
  });
  resize(1200, 820);
}

void EntropyRunWindow::finishRunning(const QString& message) {
  if (!running_) return;
  running_ = false;
  stop_->setEnabled(false);
  status_->setText(message);
}

bool EntropyRunWindow::start(const QString& text, const QString& document) {
  if (running_) return false;
  pages_->setCurrentIndex(0);
  setWindowTitle(tr("Attention Entropy and Surprisal — %1").arg(document));
  if (!hub_->controller()->startEntropy(text, document)) {
    stop_->setEnabled(false);
    progress_->setRange(0, 1);
    status_->setText(tr("The run cannot start: %1").arg(hub_->controller()->lastError()));
    return false;
  }
  running_ = true;
  stop_->setEnabled(true);
  progress_->setRange(0, 0);
  status_->setText(tr("Starting on %1…").arg(document));
  return true;
}

void EntropyRunWindow::showRun(const EntropyRunRecord& run) {
  view_->setRun(run);
  pages_->setCurrentWidget(view_);
  setWindowTitle(tr("Attention Entropy and Surprisal — %1").arg(run.title()));
  emit runShown(run);
}

}  // namespace sambalens::ui
