#include "passkey_sweep_dialog.h"

#include <QComboBox>
#include <QDialogButtonBox>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QLocale>
#include <QProgressBar>
#include <QPushButton>
#include <QSpinBox>
#include <QVBoxLayout>

#include "engine_controller.h"
#include "export_file_prompt.h"
#include "insight_controller.h"
#include "insight_export.h"
#include "insight_hub.h"
#include "insight_images.h"
#include "insight_parse.h"
#include "passkey_heatmap_widget.h"
#include "token_budget.h"

namespace sambalens::ui {

PasskeySweepDialog::PasskeySweepDialog(InsightHub* hub, QWidget* parent) : QDialog(parent), hub_(hub) {
  setWindowTitle(tr("Passkey Retrieval Sweep"));
  setObjectName(QStringLiteral("passkeySweepDialog"));
  auto* layout = new QVBoxLayout(this);
  auto* intro = new QLabel(
      tr("A pass key is hidden at a given depth of filler text; the model must repeat it. Each cell is the share of "
         "trials answered exactly. Trials of one length share their filler, so its prefix is read once."),
      this);
  intro->setWordWrap(true);
  layout->addWidget(intro);

  auto* form = new QFormLayout;
  auto* modelRow = new QHBoxLayout;
  model_ = new QLineEdit(this);
  model_->setObjectName(QStringLiteral("modelFolder"));
  auto* browse = new QPushButton(tr("Browse…"), this);
  backend_ = new QComboBox(this);
  backend_->addItems({QStringLiteral("auto"), QStringLiteral("cpu"), QStringLiteral("cuda")});
  backend_->setToolTip(tr("Backend for a model other than the loaded one"));
  modelRow->addWidget(model_, 1);
  modelRow->addWidget(browse);
  modelRow->addWidget(backend_);
  auto* modelLabel = new QLabel(tr("&Model:"), this);
  modelLabel->setBuddy(model_);
  form->addRow(modelLabel, modelRow);
  lengths_ = new QLineEdit(QStringLiteral("1K, 2K, 4K"), this);
  lengths_->setObjectName(QStringLiteral("lengths"));
  lengths_->setToolTip(tr("Prompt lengths in tokens, e.g. 512, 1K, 4K, 1M (K = 1024)"));
  form->addRow(tr("&Lengths (tokens):"), lengths_);
  depths_ = new QLineEdit(QStringLiteral("0%, 25%, 50%, 75%, 100%"), this);
  depths_->setObjectName(QStringLiteral("depths"));
  depths_->setToolTip(tr("Where the needle sits in the filler: 0% = start, 100% = end"));
  form->addRow(tr("&Depths:"), depths_);
  auto* numbers = new QHBoxLayout;
  trials_ = new QSpinBox(this);
  trials_->setObjectName(QStringLiteral("trials"));
  trials_->setRange(1, 1000);
  trials_->setValue(3);
  seed_ = new QSpinBox(this);
  seed_->setRange(0, 1000000);
  seed_->setValue(1);
  numbers->addWidget(trials_);
  numbers->addWidget(new QLabel(tr("seed"), this));
  numbers->addWidget(seed_);
  numbers->addStretch(1);
  auto* trialsLabel = new QLabel(tr("&Trials per cell:"), this);
  trialsLabel->setBuddy(trials_);
  form->addRow(trialsLabel, numbers);
  layout->addLayout(form);

  auto* runRow = new QHBoxLayout;
  runButton_ = new QPushButton(tr("&Run"), this);
  runButton_->setObjectName(QStringLiteral("runSweep"));
  runButton_->setDefault(true);
  stopButton_ = new QPushButton(tr("&Stop"), this);
  stopButton_->setEnabled(false);
  progress_ = new QProgressBar(this);
  progress_->setObjectName(QStringLiteral("sweepProgress"));
  progress_->setRange(0, 1);
  progress_->setValue(0);
  progress_->setVisible(false);  // only while a sweep runs
  runRow->addWidget(runButton_);
  runRow->addWidget(stopButton_);
  runRow->addWidget(progress_, 1);
  runRow->addStretch(0);  // takes the room while the progress bar is hidden
  layout->addLayout(runRow);
  status_ = new QLabel(this);
  status_->setObjectName(QStringLiteral("sweepStatus"));
  status_->setWordWrap(true);
  layout->addWidget(status_);

  heatmap_ = new PasskeyHeatmapWidget(this);
  heatmap_->setObjectName(QStringLiteral("passkeyHeatmap"));
  layout->addWidget(heatmap_, 1);

  auto* buttons = new QDialogButtonBox(QDialogButtonBox::Close, this);
  pngButton_ = buttons->addButton(tr("Export &PNG…"), QDialogButtonBox::ActionRole);
  csvButton_ = buttons->addButton(tr("Export &CSV…"), QDialogButtonBox::ActionRole);
  pngButton_->setEnabled(false);
  csvButton_->setEnabled(false);
  layout->addWidget(buttons);

  connect(browse, &QPushButton::clicked, this, &PasskeySweepDialog::chooseModel);
  connect(runButton_, &QPushButton::clicked, this, &PasskeySweepDialog::run);
  connect(stopButton_, &QPushButton::clicked, this, &PasskeySweepDialog::stop);
  connect(pngButton_, &QPushButton::clicked, this, &PasskeySweepDialog::exportPng);
  connect(csvButton_, &QPushButton::clicked, this, &PasskeySweepDialog::exportCsv);
  connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);

  InsightController* insight = hub_->controller();
  connect(insight, &InsightController::progress, this, [this](const InsightProgress& p) {
    if (!running_) return;
    progress_->setRange(0, int(std::max<qint64>(p.total, 1)));
    progress_->setValue(int(p.done));
    QString text = tr("trial %1 of %2 (%3); %4 tokens read").arg(p.done).arg(p.total).arg(p.detail, formatCount(p.tokensRead));
    if (p.etaSeconds >= 0) text += tr("; about %1 left").arg(formatDuration(p.etaSeconds));
    status_->setText(text);
  });
  connect(insight, &InsightController::passkeyFinished, this, [this](const PasskeySweepRecord& result) {
    if (!running_) return;
    setRunning(false);
    PasskeySweepRecord sweep = result;
    const qint64 id = hub_->save(sweep);
    showSweep(sweep);
    if (id > 0) status_->setText(status_->text() + tr(" Saved (Insight ▸ Saved Runs)."));
  });
  connect(insight, &InsightController::stopped, this, [this] {
    if (!running_) return;
    setRunning(false);
    status_->setText(tr("Stopped before the first length finished; nothing to show."));
  });
  connect(insight, &InsightController::failed, this, [this](const QString& message) {
    if (!running_) return;
    setRunning(false);
    status_->setText(tr("The sweep failed: %1").arg(message));
  });
  connect(hub_->engine(), &EngineController::modelLoaded, this, &PasskeySweepDialog::describeLoadedModel);
  describeLoadedModel();
  resize(900, 720);
}

void PasskeySweepDialog::describeLoadedModel() {
  const EngineController* engine = hub_->engine();
  model_->setPlaceholderText(engine->isModelLoaded()
                                 ? tr("the loaded model: %1 (window %2, trained on %3)")
                                       .arg(engine->model().name)
                                       .arg(engine->model().window)
                                       .arg(engine->model().trainLength > 0 ? QString::number(engine->model().trainLength)
                                                                            : tr("unknown length"))
                                 : tr("no model loaded: choose a model folder"));
}

void PasskeySweepDialog::chooseModel() {
  const QString folder = QFileDialog::getExistingDirectory(this, tr("Model Folder"), model_->text());
  if (!folder.isEmpty()) model_->setText(folder);
}

PasskeySettings PasskeySweepDialog::settings(QString* error) const {
  PasskeySettings s;
  s.modelFolder = model_->text().trimmed();
  s.backend = backend_->currentText();
  QString why;
  s.lengths = parseLengths(lengths_->text(), &why);
  if (s.lengths.isEmpty()) {
    if (error) *error = tr("Lengths: %1").arg(why);
    return s;
  }
  s.depths = parseDepths(depths_->text(), &why);
  if (s.depths.isEmpty()) {
    if (error) *error = tr("Depths: %1").arg(why);
    return s;
  }
  s.trials = trials_->value();
  s.seed = quint64(seed_->value());
  const QString invalid = validatePasskeySettings(s);
  if (!invalid.isEmpty() && error) *error = invalid;
  return s;
}

void PasskeySweepDialog::setSettings(const PasskeySettings& s) {
  model_->setText(s.modelFolder);
  backend_->setCurrentText(s.backend);
  lengths_->setText(formatLengths(s.lengths));
  depths_->setText(formatDepths(s.depths));
  trials_->setValue(s.trials);
  seed_->setValue(int(s.seed));
}

bool PasskeySweepDialog::run() {
  if (running_) return false;
  QString error;
  const PasskeySettings s = settings(&error);
  if (!error.isEmpty()) {
    status_->setText(error);
    return false;
  }
  if (!hub_->controller()->startPasskey(s)) {
    status_->setText(tr("The sweep cannot start: %1").arg(hub_->controller()->lastError()));
    return false;
  }
  setRunning(true);
  progress_->setRange(0, s.totalTrials());
  progress_->setValue(0);
  status_->setText(tr("Starting: %1 lengths × %2 depths × %3 trials…").arg(s.lengths.size()).arg(s.depths.size()).arg(s.trials));
  return true;
}

void PasskeySweepDialog::stop() {
  if (running_) hub_->controller()->cancel();
}

void PasskeySweepDialog::setRunning(bool running) {
  running_ = running;
  runButton_->setEnabled(!running);
  stopButton_->setEnabled(running);
  progress_->setVisible(running);
  for (QWidget* w : std::initializer_list<QWidget*>{model_, backend_, lengths_, depths_, trials_, seed_}) w->setEnabled(!running);
}

void PasskeySweepDialog::showSweep(const PasskeySweepRecord& sweep) {
  heatmap_->setSweep(sweep);
  setSettings(sweep.settings);
  if (sweep.model.folder == hub_->engine()->model().folder) model_->clear();
  pngButton_->setEnabled(true);
  csvButton_->setEnabled(true);
  setWindowTitle(tr("Passkey Retrieval Sweep — %1").arg(sweep.title()));
  status_->setText(tr("%1 on %2, %3: %4 trials in %5; %6 tokens read for %7 tokens of prompts.%8 "
                      "Hover a cell for its trials and wrong answers.")
                       .arg(sweep.model.name.isEmpty() ? sweep.model.folder : sweep.model.name)
                       .arg(sweep.model.backend.isEmpty() ? tr("this machine") : sweep.model.backend)
                       .arg(QLocale().toString(sweep.createdAt.toLocalTime(), QLocale::ShortFormat))
                       .arg(sweep.trials.size())
                       .arg(formatDuration(sweep.seconds))
                       .arg(formatCount(sweep.tokensRead), formatCount(sweep.tokensInPrompts))
                       .arg(sweep.complete ? QString() : tr(" Stopped early: the lengths that finished are shown.")));
  emit sweepShown(sweep);
}

void PasskeySweepDialog::exportPng() {
  if (!heatmap_->hasSweep()) return;
  exportToChosenFile(this, tr("Export Heatmap"), QStringLiteral("passkey-heatmap.png"), pngFileFilter(),
                     [this](const QString& path, QString* error) {
                       return savePng(renderPasskeyHeatmap(heatmap_->sweep(), font()), path, error);
                     });
}

void PasskeySweepDialog::exportCsv() {
  if (!heatmap_->hasSweep()) return;
  exportToChosenFile(this, tr("Export Sweep"), QStringLiteral("passkey.csv"), csvFileFilter(),
                     [this](const QString& path, QString* error) {
                       return writeExport(path, passkeyCsv(heatmap_->sweep()), error);
                     });
}

}  // namespace sambalens::ui
