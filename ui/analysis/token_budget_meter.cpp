#include "token_budget_meter.h"

#include <QLabel>
#include <QPainter>
#include <QVBoxLayout>

namespace sambalens::ui {

TokenBudgetBar::TokenBudgetBar(QWidget* parent) : QWidget(parent) {
  setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Fixed);
}

QSize TokenBudgetBar::sizeHint() const { return {240, fontMetrics().height() + 8}; }
QSize TokenBudgetBar::minimumSizeHint() const { return {80, fontMetrics().height() + 8}; }

void TokenBudgetBar::setBudget(double fraction, TokenBudget::Level level, const QString& text) {
  fraction_ = fraction;
  level_ = level;
  text_ = text;
  update();
}

void TokenBudgetBar::paintEvent(QPaintEvent*) {
  QPainter p(this);
  p.setRenderHint(QPainter::Antialiasing);
  const QRectF r = QRectF(rect()).adjusted(0.5, 0.5, -0.5, -0.5);
  p.setPen(QColor(0xb8, 0xb8, 0xb8));
  p.setBrush(QColor(0xf2, 0xf2, 0xf2));
  p.drawRoundedRect(r, 4, 4);
  if (level_ != TokenBudget::Level::Empty && fraction_ > 0) {
    // Within the budget the bar fills up to it; past it the bar is full and
    // a mark shows where the comfortable length ends.
    const bool over = level_ == TokenBudget::Level::Long;
    const double fill = over ? 1.0 : qBound(0.02, fraction_, 1.0);
    QRectF filled = r;
    filled.setWidth(r.width() * fill);
    p.setPen(Qt::NoPen);
    p.setBrush(over ? QColor(0xf0, 0xb4, 0x4c) : QColor(0x8c, 0xc6, 0x8f));
    p.drawRoundedRect(filled, 4, 4);
    if (over) {
      const double mark = r.left() + r.width() / fraction_;
      p.setPen(QPen(QColor(0x80, 0x50, 0x00), 2));
      p.drawLine(QPointF(mark, r.top() + 1), QPointF(mark, r.bottom() - 1));
    }
  }
  p.setPen(palette().color(QPalette::WindowText));
  p.drawText(rect().adjusted(6, 0, -6, 0), Qt::AlignVCenter | Qt::AlignLeft,
             fontMetrics().elidedText(text_, Qt::ElideRight, width() - 12));
}

TokenBudgetMeter::TokenBudgetMeter(QWidget* parent) : QWidget(parent) {
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(0, 0, 0, 0);
  layout->setSpacing(2);
  bar_ = new TokenBudgetBar(this);
  bar_->setObjectName(QStringLiteral("tokenBudgetBar"));
  layout->addWidget(bar_);
  detail_ = new QLabel(this);
  detail_->setObjectName(QStringLiteral("tokenBudgetDetail"));
  detail_->setWordWrap(true);
  detail_->setStyleSheet(QStringLiteral("color: #7a4d00;"));
  detail_->hide();
  layout->addWidget(detail_);
  setPending(tr("no documents selected"));
}

void TokenBudgetMeter::setBudget(const TokenBudget& budget) {
  budget_ = budget;
  QString summary = budget.summary;
  if (budget.level == TokenBudget::Level::Long) {
    summary = tr("%1 tokens, %2× the %3 it handles well")
                  .arg(formatCount(budget.tokens))
                  .arg(budget.fraction, 0, 'f', budget.fraction < 10 ? 1 : 0)
                  .arg(formatCount(budget.comfortable));
  }
  bar_->setBudget(budget.fraction, budget.level, tr("Token budget: %1").arg(summary));
  bar_->setToolTip(budget.detail);
  setToolTip(budget.detail);
  // Past the comfortable length the consequence is spelled out, not hidden in a tooltip.
  detail_->setText(budget.detail);
  detail_->setVisible(budget.level == TokenBudget::Level::Long);
}

void TokenBudgetMeter::setPending(const QString& reason) {
  budget_ = TokenBudget();
  budget_.summary = reason;
  bar_->setBudget(0, TokenBudget::Level::Empty, tr("Token budget: %1").arg(reason));
  bar_->setToolTip(reason);
  setToolTip(reason);
  detail_->hide();
}

QString TokenBudgetMeter::summaryText() const { return budget_.summary; }

QString TokenBudgetMeter::detailText() const { return detail_->isVisible() ? detail_->text() : QString(); }

}  // namespace sambalens::ui
