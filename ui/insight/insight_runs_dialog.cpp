#include "insight_runs_dialog.h"

#include <QDialogButtonBox>
#include <QHeaderView>
#include <QLabel>
#include <QMessageBox>
#include <QPushButton>
#include <QTreeWidget>
#include <QVBoxLayout>

#include "export_file_prompt.h"
#include "insight_export.h"
#include "insight_hub.h"
#include "insight_images.h"
#include "insight_store.h"

namespace sambalens::ui {

InsightRunsDialog::InsightRunsDialog(InsightHub* hub, QWidget* parent) : QDialog(parent), hub_(hub) {
  setWindowTitle(tr("Saved Insight Runs"));
  setObjectName(QStringLiteral("insightRuns"));
  auto* layout = new QVBoxLayout(this);
  list_ = new QTreeWidget(this);
  list_->setObjectName(QStringLiteral("runList"));
  list_->setColumnCount(4);
  list_->setHeaderLabels({tr("Kind"), tr("Model"), tr("Settings"), tr("Date")});
  list_->setRootIsDecorated(false);
  list_->setSelectionMode(QAbstractItemView::ExtendedSelection);
  list_->header()->setSectionResizeMode(2, QHeaderView::Stretch);
  layout->addWidget(list_, 1);
  note_ = new QLabel(tr("Select two passkey sweeps (Ctrl+click) to compare them side by side."), this);
  note_->setWordWrap(true);
  layout->addWidget(note_);
  auto* buttons = new QDialogButtonBox(QDialogButtonBox::Close, this);
  open_ = buttons->addButton(tr("&Open"), QDialogButtonBox::ActionRole);
  compare_ = buttons->addButton(tr("&Compare"), QDialogButtonBox::ActionRole);
  png_ = buttons->addButton(tr("Export &PNG…"), QDialogButtonBox::ActionRole);
  csv_ = buttons->addButton(tr("Export &CSV…"), QDialogButtonBox::ActionRole);
  delete_ = buttons->addButton(tr("&Delete…"), QDialogButtonBox::ActionRole);
  layout->addWidget(buttons);
  connect(open_, &QPushButton::clicked, this, &InsightRunsDialog::openSelected);
  connect(compare_, &QPushButton::clicked, this, &InsightRunsDialog::compareSelected);
  connect(png_, &QPushButton::clicked, this, [this] { exportSelected(QStringLiteral("png")); });
  connect(csv_, &QPushButton::clicked, this, [this] { exportSelected(QStringLiteral("csv")); });
  connect(delete_, &QPushButton::clicked, this, &InsightRunsDialog::deleteSelected);
  connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
  connect(list_, &QTreeWidget::itemSelectionChanged, this, &InsightRunsDialog::updateButtons);
  connect(list_, &QTreeWidget::itemActivated, this, &InsightRunsDialog::openSelected);
  connect(hub_, &InsightHub::runSaved, this, &InsightRunsDialog::refresh);
  refresh();
  resize(900, 480);
}

void InsightRunsDialog::refresh() {
  list_->clear();
  InsightStore* store = hub_->store();
  runs_ = store ? store->runs() : QList<InsightRunSummary>();
  if (!store) note_->setText(tr("The runs database cannot be opened: %1").arg(hub_->storeError()));
  for (qsizetype i = 0; i < runs_.size(); ++i) {
    const InsightRunSummary& r = runs_[i];
    auto* item = new QTreeWidgetItem(list_);
    item->setText(0, r.kind == InsightRunSummary::Kind::Passkey ? tr("Passkey sweep") : tr("Entropy"));
    item->setText(1, r.modelName.isEmpty() ? r.modelFolder : r.modelName);
    item->setToolTip(1, r.modelFolder);
    item->setText(2, r.description);
    item->setText(3, QLocale().toString(r.createdAt.toLocalTime(), QLocale::ShortFormat));
    item->setData(0, Qt::UserRole, int(i));
  }
  for (int c = 0; c < 4; ++c) {
    if (c != 2) list_->resizeColumnToContents(c);
  }
  if (list_->topLevelItemCount() > 0) list_->setCurrentItem(list_->topLevelItem(0));
  updateButtons();
}

QList<InsightRunSummary> InsightRunsDialog::selected() const {
  QList<InsightRunSummary> out;
  for (QTreeWidgetItem* item : list_->selectedItems()) out.append(runs_[item->data(0, Qt::UserRole).toInt()]);
  return out;
}

void InsightRunsDialog::updateButtons() {
  const QList<InsightRunSummary> s = selected();
  open_->setEnabled(s.size() == 1);
  png_->setEnabled(s.size() == 1);
  csv_->setEnabled(s.size() == 1);
  delete_->setEnabled(!s.isEmpty());
  compare_->setEnabled(s.size() == 2 && s[0].kind == InsightRunSummary::Kind::Passkey &&
                       s[1].kind == InsightRunSummary::Kind::Passkey);
}

void InsightRunsDialog::openSelected() {
  const QList<InsightRunSummary> s = selected();
  if (s.size() == 1) hub_->openRun(s[0].kind, s[0].id);
}

void InsightRunsDialog::compareSelected() {
  QList<InsightRunSummary> s = selected();
  if (s.size() != 2) return;
  // Older on the left.
  if (s[0].createdAt > s[1].createdAt) std::swap(s[0], s[1]);
  hub_->compareSweeps(s[0].id, s[1].id);
}

void InsightRunsDialog::exportSelected(const QString& format) {
  const QList<InsightRunSummary> s = selected();
  InsightStore* store = hub_->store();
  if (s.size() != 1 || !store) return;
  const bool passkey = s[0].kind == InsightRunSummary::Kind::Passkey;
  const QString name = QStringLiteral("%1-%2.%3").arg(passkey ? QStringLiteral("passkey") : QStringLiteral("entropy")).arg(s[0].id).arg(format);
  const bool png = format == QLatin1String("png");
  exportToChosenFile(this, tr("Export Run"), name, png ? pngFileFilter() : csvFileFilter(),
                     [&](const QString& path, QString* error) { return writeRun(*store, s[0], png, path, error); });
}

bool InsightRunsDialog::writeRun(InsightStore& store, const InsightRunSummary& summary, bool png, const QString& path,
                                 QString* error) {
  bool ok = false;
  if (summary.kind == InsightRunSummary::Kind::Passkey) {
    const auto sweep = store.passkeySweep(summary.id);
    if (!sweep) *error = store.lastError();
    else if (png) ok = savePng(renderPasskeyHeatmap(*sweep, font()), path, error);
    else ok = writeExport(path, passkeyCsv(*sweep), error);
  } else {
    const auto run = store.entropyRun(summary.id);
    if (!run) {
      *error = store.lastError();
    } else if (png) {
      EntropyPositionOptions positions;
      positions.heads = EntropyPositionPainter::extremeHeads(*run, 3);
      ok = savePng(renderEntropyOverview(*run, EntropyGridOptions{}, positions, font()), path, error);
    } else {
      ok = writeExport(path, entropyCsv(*run), error);
    }
  }
  if (!ok && error->isEmpty()) *error = tr("The run could not be read.");
  return ok;
}

void InsightRunsDialog::deleteSelected() {
  const QList<InsightRunSummary> s = selected();
  InsightStore* store = hub_->store();
  if (s.isEmpty() || !store) return;
  if (QMessageBox::question(this, tr("Delete Runs"), tr("Delete %n saved run(s)? This cannot be undone.", nullptr, int(s.size()))) !=
      QMessageBox::Yes) {
    return;
  }
  for (const InsightRunSummary& r : s) store->deleteRun(r.kind, r.id);
  refresh();
}

}  // namespace sambalens::ui
