#include "passkey_comparison_dialog.h"

#include <QDialogButtonBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QPushButton>
#include <QVBoxLayout>

#include "export_file_prompt.h"
#include "insight_export.h"
#include "insight_images.h"
#include "passkey_heatmap_widget.h"

namespace sambalens::ui {

PasskeyComparisonDialog::PasskeyComparisonDialog(const PasskeySweepRecord& left, const PasskeySweepRecord& right,
                                                 QWidget* parent)
    : QDialog(parent) {
  setWindowTitle(tr("Passkey Sweeps Side by Side"));
  setObjectName(QStringLiteral("passkeyComparison"));
  auto* layout = new QVBoxLayout(this);
  if (left.lengths() != right.lengths() || left.depths() != right.depths()) {
    auto* note = new QLabel(tr("The two sweeps used different lengths or depths: compare cells by their labels."), this);
    note->setWordWrap(true);
    layout->addWidget(note);
  }
  auto* row = new QHBoxLayout;
  left_ = new PasskeyHeatmapWidget(this);
  right_ = new PasskeyHeatmapWidget(this);
  left_->setSweep(left);
  right_->setSweep(right);
  row->addWidget(left_, 1);
  row->addWidget(right_, 1);
  layout->addLayout(row, 1);
  auto* buttons = new QDialogButtonBox(QDialogButtonBox::Close, this);
  auto* png = buttons->addButton(tr("Export &PNG…"), QDialogButtonBox::ActionRole);
  auto* csv = buttons->addButton(tr("Export &CSV…"), QDialogButtonBox::ActionRole);
  layout->addWidget(buttons);
  connect(png, &QPushButton::clicked, this, &PasskeyComparisonDialog::exportPng);
  connect(csv, &QPushButton::clicked, this, &PasskeyComparisonDialog::exportCsv);
  connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
  resize(1400, 640);
}

void PasskeyComparisonDialog::exportPng() {
  exportToChosenFile(this, tr("Export Comparison"), QStringLiteral("passkey-comparison.png"), pngFileFilter(),
                     [this](const QString& path, QString* error) {
                       return savePng(renderPasskeyComparison(left_->sweep(), right_->sweep(), font()), path, error);
                     });
}

void PasskeyComparisonDialog::exportCsv() {
  exportToChosenFile(this, tr("Export Comparison"), QStringLiteral("passkey-comparison.csv"), csvFileFilter(),
                     [this](const QString& path, QString* error) {
                       return writeExport(path, passkeyComparisonCsv(left_->sweep(), right_->sweep()), error);
                     });
}

}  // namespace sambalens::ui
