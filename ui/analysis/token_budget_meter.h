// The token budget: the selected documents' tokens against what the loaded
// model handles well, as a bar with a one-line summary. Past that length it
// says in words what will happen (SAMBA reads everything; nothing is cut),
// so a long input is never silently truncated or silently degraded.
#pragma once

#include <QWidget>

#include "token_budget.h"

class QLabel;

namespace sambalens::ui {

class TokenBudgetBar : public QWidget {
  Q_OBJECT

 public:
  explicit TokenBudgetBar(QWidget* parent = nullptr);
  void setBudget(double fraction, sambalens::TokenBudget::Level level, const QString& text);
  QSize sizeHint() const override;
  QSize minimumSizeHint() const override;

 protected:
  void paintEvent(QPaintEvent* event) override;

 private:
  double fraction_ = 0;
  sambalens::TokenBudget::Level level_ = sambalens::TokenBudget::Level::Empty;
  QString text_;
};

class TokenBudgetMeter : public QWidget {
  Q_OBJECT

 public:
  explicit TokenBudgetMeter(QWidget* parent = nullptr);

  void setBudget(const sambalens::TokenBudget& budget);
  // While the selection's tokens are being counted, or when they cannot be
  // (no model loaded): says so instead of showing a number.
  void setPending(const QString& reason);

  const sambalens::TokenBudget& budget() const { return budget_; }
  QString summaryText() const;
  QString detailText() const;

 private:
  TokenBudgetBar* bar_;
  QLabel* detail_;
  sambalens::TokenBudget budget_;
};

}  // namespace sambalens::ui
