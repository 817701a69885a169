#include "model_status_widget.h"

#include <QDir>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QLabel>
#include <QPushButton>

#include "common/elided_label.h"
#include "token_budget.h"

namespace sambalens::ui {

ModelStatusWidget::ModelStatusWidget(QWidget* parent) : QWidget(parent) {
  auto* layout = new QHBoxLayout(this);
  layout->setContentsMargins(0, 0, 0, 0);
  device_ = new QLabel(this);
  device_->setObjectName(QStringLiteral("deviceBadge"));
  layout->addWidget(device_);
  label_ = new ElidedLabel(this);
  label_->setObjectName(QStringLiteral("modelStatus"));
  label_->setMinimumWidth(260);
  layout->addWidget(label_, 1);
  choose_ = new QPushButton(tr("Choose model…"), this);
  choose_->setObjectName(QStringLiteral("chooseModel"));
  choose_->setFlat(true);
  choose_->setToolTip(tr("Load a model from a folder (config.json, *.safetensors, tokenizer.model)"));
  layout->addWidget(choose_);
  connect(choose_, &QPushButton::clicked, this, &ModelStatusWidget::chooseRequested);
  setUnavailable(tr("No model loaded"));
}

namespace {
QString badgeStyle(const QString& background) {
  return QStringLiteral("QLabel { background: %1; color: white; border-radius: 3px; padding: 0 5px; font-weight: bold; }")
      .arg(background);
}
}  // namespace

QString ModelStatusWidget::describe(const ModelInfo& m) {
  QString s = QStringLiteral("%1 · %2").arg(m.name, m.backendDescription);
  if (!m.onGpu() && !m.fallbackReason.isEmpty()) s += tr(" · on the CPU: %1").arg(m.fallbackReason);
  return s;
}

QString ModelStatusWidget::details(const ModelInfo& m) {
  QStringList lines;
  lines << QDir::toNativeSeparators(m.folder);
  lines << tr("%1 parameters, %2 layers, d_model %3, vocabulary %4")
               .arg(formatCount(m.parameters))
               .arg(m.layers)
               .arg(m.dModel)
               .arg(formatCount(m.vocabSize));
  lines << tr("attention window %1 tokens; trained on %2")
               .arg(formatCount(m.window))
               .arg(m.trainLength > 0 ? tr("%1-token sequences").arg(formatCount(m.trainLength)) : tr("unknown lengths"));
  lines << tr("saved reading (model state): %1 KiB, whatever the document's length").arg(formatCount(qint64(m.stateBytes / 1024)));
  lines << tr("backend: %1").arg(m.backendDescription);
  if (!m.fallbackReason.isEmpty()) lines << tr("not on the GPU because: %1").arg(m.fallbackReason);
  return lines.join(QLatin1Char('\n'));
}

void ModelStatusWidget::setLoading(const QString& folder) {
  device_->setText(tr("…"));
  device_->setStyleSheet(badgeStyle(QStringLiteral("#888")));
  label_->setFullText(tr("Loading model %1…").arg(QFileInfo(folder).fileName()));
  label_->setToolTip(QDir::toNativeSeparators(folder));
}

void ModelStatusWidget::setLoaded(const ModelInfo& model) {
  device_->setText(model.onGpu() ? tr("GPU") : tr("CPU"));
  device_->setStyleSheet(badgeStyle(model.onGpu() ? QStringLiteral("#2e7d32") : QStringLiteral("#6d6d6d")));
  label_->setFullText(describe(model));
  label_->setToolTip(details(model));
  device_->setToolTip(details(model));
}

void ModelStatusWidget::setUnavailable(const QString& message) {
  device_->setText(tr("no model"));
  device_->setStyleSheet(badgeStyle(QStringLiteral("#b02020")));
  label_->setFullText(message);
}

void ModelStatusWidget::setChooseEnabled(bool enabled) { choose_->setEnabled(enabled); }

QString ModelStatusWidget::text() const { return label_->fullText(); }

}  // namespace sambalens::ui
