#include "message_bar.h"

#include <QHBoxLayout>
#include <QLabel>
#include <QTimer>
#include <QToolButton>
#include <QVBoxLayout>

namespace sambalens::ui {

namespace {
const char* kTextProperty = "sambalensMessageText";

QString styleFor(MessageBar::Kind kind) {
  switch (kind) {
    case MessageBar::Kind::Error:
      return QStringLiteral("QFrame#message { background: #fdecea; border: 1px solid #e0a39e; border-radius: 4px; }");
    case MessageBar::Kind::Warning:
      return QStringLiteral("QFrame#message { background: #fff6e0; border: 1px solid #e5c97a; border-radius: 4px; }");
    case MessageBar::Kind::Note:
      break;
  }
  return QStringLiteral("QFrame#message { background: #e8f1fb; border: 1px solid #a9c6e8; border-radius: 4px; }");
}

QString prefixFor(MessageBar::Kind kind) {
  switch (kind) {
    case MessageBar::Kind::Error: return QStringLiteral("<b>Error:</b> ");
    case MessageBar::Kind::Warning: return QStringLiteral("<b>Warning:</b> ");
    case MessageBar::Kind::Note: break;
  }
  return {};
}
}  // namespace

MessageBar::MessageBar(QWidget* parent) : QWidget(parent), layout_(new QVBoxLayout(this)) {
  layout_->setContentsMargins(6, 4, 6, 0);
  layout_->setSpacing(4);
  setVisible(false);
}

void MessageBar::show(Kind kind, const QString& text) {
  for (QFrame* item : items_) {
    if (item->property(kTextProperty).toString() == text) return;
  }
  while (items_.size() >= kMaxShown) remove(items_.front());

  auto* item = new QFrame(this);
  item->setObjectName(QStringLiteral("message"));
  item->setProperty(kTextProperty, text);
  item->setStyleSheet(styleFor(kind));
  auto* row = new QHBoxLayout(item);
  row->setContentsMargins(8, 4, 4, 4);
  auto* label = new QLabel(prefixFor(kind) + text.toHtmlEscaped(), item);
  label->setWordWrap(true);
  label->setTextInteractionFlags(Qt::TextSelectableByMouse);
  row->addWidget(label, 1);
  auto* close = new QToolButton(item);
  close->setText(QStringLiteral("✕"));
  close->setAutoRaise(true);
  close->setToolTip(tr("Dismiss"));
  row->addWidget(close, 0, Qt::AlignTop);
  connect(close, &QToolButton::clicked, this, [this, item] { remove(item); });
  if (kind == Kind::Note && noteTimeoutMs_ > 0) {
    QTimer::singleShot(noteTimeoutMs_, item, [this, item] { remove(item); });
  }
  items_.append(item);
  layout_->addWidget(item);
  setVisible(true);
  emit messageShown(kind, text);
}

void MessageBar::remove(QFrame* item) {
  if (!items_.removeOne(item)) return;
  item->hide();
  item->deleteLater();
  if (items_.isEmpty()) setVisible(false);
}

void MessageBar::clearAll() {
  const QList<QFrame*> all = items_;
  for (QFrame* item : all) remove(item);
}

QStringList MessageBar::texts() const {
  QStringList out;
  for (const QFrame* item : items_) out.append(item->property(kTextProperty).toString());
  return out;
}

int MessageBar::count() const { return int(items_.size()); }

}  // namespace sambalens::ui
