#include "entropy_run_view.h"

#include <QCheckBox>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QLabel>
#include <QPushButton>
#include <QSpinBox>
#include <QTabWidget>
#include <QVBoxLayout>

#include "entropy_grid_widget.h"
#include "entropy_position_widget.h"
#include "export_file_prompt.h"
#include "insight_export.h"
#include "insight_images.h"
#include "surprisal_text_view.h"

namespace sambalens::ui {

EntropyRunView::EntropyRunView(QWidget* parent) : QWidget(parent) {
  auto* layout = new QVBoxLayout(this);
  summary_ = new QLabel(this);
  summary_->setObjectName(QStringLiteral("entropySummary"));
  summary_->setWordWrap(true);
  layout->addWidget(summary_);

  auto* controls = new QHBoxLayout;
  controls->addWidget(new QLabel(tr("Grid over positions"), this));
  from_ = new QSpinBox(this);
  from_->setObjectName(QStringLiteral("rangeFrom"));
  to_ = new QSpinBox(this);
  to_->setObjectName(QStringLiteral("rangeTo"));
  controls->addWidget(from_);
  controls->addWidget(new QLabel(tr("to"), this));
  controls->addWidget(to_);
  normalised_ = new QCheckBox(tr("Normalised (H / ln min(i+1, W))"), this);
  normalised_->setObjectName(QStringLiteral("normalised"));
  logX_ = new QCheckBox(tr("Log position axis"), this);
  logX_->setObjectName(QStringLiteral("logPositions"));
  logX_->setChecked(true);
  bands_ = new QCheckBox(tr("Min–max bands"), this);
  bands_->setChecked(true);
  controls->addWidget(normalised_);
  controls->addWidget(logX_);
  controls->addWidget(bands_);
  controls->addStretch(1);
  auto* resetHeads = new QPushButton(tr("Default Heads"), this);
  resetHeads->setToolTip(tr("The most focused heads and the most uniform one"));
  auto* png = new QPushButton(tr("Export PNG…"), this);
  auto* csv = new QPushButton(tr("Export CSV…"), this);
  auto* surprisalCsv = new QPushButton(tr("Export Surprisal CSV…"), this);
  controls->addWidget(resetHeads);
  controls->addWidget(png);
  controls->addWidget(csv);
  controls->addWidget(surprisalCsv);
  layout->addLayout(controls);

  tabs_ = new QTabWidget(this);
  grid_ = new EntropyGridWidget(this);
  grid_->setObjectName(QStringLiteral("entropyGrid"));
  positions_ = new EntropyPositionWidget(this);
  positions_->setObjectName(QStringLiteral("entropyPositions"));
  surprisal_ = new SurprisalPane(this);
  tabs_->addTab(grid_, tr("Layer × Head"));
  tabs_->addTab(positions_, tr("By Position"));
  tabs_->addTab(surprisal_, tr("Surprisal over the Text"));
  layout->addWidget(tabs_, 1);

  connect(from_, &QSpinBox::valueChanged, this, [this](int v) {
    if (to_->value() <= v) to_->setValue(v + 1);
    applyOptions();
  });
  connect(to_, &QSpinBox::valueChanged, this, [this](int v) {
    if (from_->value() >= v) from_->setValue(v - 1);
    applyOptions();
  });
  connect(normalised_, &QCheckBox::toggled, this, &EntropyRunView::applyOptions);
  connect(logX_, &QCheckBox::toggled, this, &EntropyRunView::applyOptions);
  connect(bands_, &QCheckBox::toggled, this, &EntropyRunView::applyOptions);
  connect(resetHeads, &QPushButton::clicked, this,
          [this] { setHeads(EntropyPositionPainter::extremeHeads(run_, 3)); });
  connect(png, &QPushButton::clicked, this, &EntropyRunView::exportPng);
  connect(csv, &QPushButton::clicked, this, &EntropyRunView::exportCsv);
  connect(surprisalCsv, &QPushButton::clicked, this, &EntropyRunView::exportSurprisalCsv);
  connect(grid_, &EntropyGridWidget::headClicked, this, &EntropyRunView::toggleHead);
}

void EntropyRunView::setRun(const EntropyRunRecord& run) {
  run_ = run;
  const int tokens = int(std::min<qint64>(run_.tokens(), std::numeric_limits<int>::max()));
  {
    const QSignalBlocker a(from_), b(to_);
    from_->setRange(0, std::max(0, tokens - 1));
    to_->setRange(1, std::max(1, tokens));
    from_->setValue(0);
    to_->setValue(tokens);
  }
  summary_->setText(tr("<b>%1</b><br>%2 tokens, window %3, %4 SWA layers × %5 heads; entropy kept in buckets of %6 "
                       "position(s); read in %7 s on %8; %9")
                        .arg(run_.title().toHtmlEscaped())
                        .arg(run_.tokens())
                        .arg(run_.model.window)
                        .arg(run_.model.swaLayers())
                        .arg(run_.model.heads)
                        .arg(run_.bucketWidth)
                        .arg(run_.seconds, 0, 'f', 1)
                        .arg(run_.model.backend.isEmpty() ? tr("this machine") : run_.model.backend.toHtmlEscaped())
                        .arg(QLocale().toString(run_.createdAt.toLocalTime(), QLocale::ShortFormat)));
  heads_ = EntropyPositionPainter::extremeHeads(run_, 3);
  grid_->setRun(&run_);
  positions_->setRun(&run_);
  surprisal_->setRun(&run_);
  applyOptions();
}

void EntropyRunView::setRange(qint64 from, qint64 to) {
  const QSignalBlocker a(from_), b(to_);
  from_->setValue(int(from));
  to_->setValue(int(to));
  applyOptions();
}

void EntropyRunView::setNormalised(bool on) { normalised_->setChecked(on); }
void EntropyRunView::setLogPositions(bool on) { logX_->setChecked(on); }

void EntropyRunView::setHeads(const QList<EntropyHead>& heads) {
  heads_ = heads;
  applyOptions();
}

void EntropyRunView::toggleHead(int swa, int head) {
  const EntropyHead h{swa, head};
  if (heads_.contains(h)) {
    heads_.removeAll(h);
  } else {
    heads_.append(h);
  }
  applyOptions();
  tabs_->setCurrentWidget(positions_);
}

void EntropyRunView::applyOptions() {
  EntropyGridOptions grid;
  grid.from = from_->value();
  grid.to = to_->value();
  grid.normalised = normalised_->isChecked();
  grid_->setOptions(grid);
  EntropyPositionOptions positions;
  positions.heads = heads_;
  positions.logX = logX_->isChecked();
  positions.normalised = normalised_->isChecked();
  positions.showBands = bands_->isChecked();
  positions_->setOptions(positions);
}

void EntropyRunView::exportPng() {
  exportToChosenFile(this, tr("Export Entropy Charts"), QStringLiteral("entropy.png"), pngFileFilter(),
                     [this](const QString& path, QString* error) {
                       return savePng(renderEntropyOverview(run_, grid_->options(), positions_->options(), font()),
                                      path, error);
                     });
}

void EntropyRunView::exportCsv() {
  exportToChosenFile(this, tr("Export Entropy CSV"), QStringLiteral("entropy.csv"), csvFileFilter(),
                     [this](const QString& path, QString* error) {
                       return writeExport(path, entropyCsv(run_), error);
                     });
}

void EntropyRunView::exportSurprisalCsv() {
  exportToChosenFile(this, tr("Export Surprisal CSV"), QStringLiteral("surprisal.csv"), csvFileFilter(),
                     [this](const QString& path, QString* error) {
                       return writeExport(path, surprisalCsv(run_), error);
                     });
}

}  // namespace sambalens::ui
