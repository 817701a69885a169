#include "surprisal_text_view.h"

#include <QAbstractTextDocumentLayout>
#include <QMouseEvent>
#include <QPainter>
#include <QScrollBar>
#include <QTextBlock>
#include <QTextLayout>
#include <QVBoxLayout>
#include <algorithm>
#include <cmath>

#include "colour_scale.h"
#include "tooltip_event.h"

namespace sambalens::ui {

namespace {

// "\r\n" would become one block separator in the document and shift every
// offset after it; a space keeps the offsets of the run's text.
QString displayText(const QString& text) {
  QString s = text;
  for (qsizetype i = 0; i + 1 < s.size(); ++i) {
    if (s[i] == QLatin1Char('\r') && s[i + 1] == QLatin1Char('\n')) s[i] = QLatin1Char(' ');
  }
  return s;
}

double percentileTop(const std::vector<float>& values) {
  if (values.size() < 2) return 1.0;
  std::vector<float> v(values.begin() + 1, values.end());
  const size_t k = std::min(v.size() - 1, size_t(std::floor(0.99 * double(v.size() - 1))));
  std::nth_element(v.begin(), v.begin() + qsizetype(k), v.end());
  return std::max(1.0, std::ceil(double(v[k])));
}

QString visible(QString s) {
  s.replace(QLatin1Char('\n'), QStringLiteral("⏎"));
  s.replace(QLatin1Char('\t'), QStringLiteral("⇥"));
  return s;
}

}  // namespace

SurprisalTextView::SurprisalTextView(QWidget* parent) : QPlainTextEdit(parent) {
  setReadOnly(true);
  setTextInteractionFlags(Qt::TextSelectableByMouse | Qt::TextSelectableByKeyboard);
  setLineWrapMode(QPlainTextEdit::WidgetWidth);
  viewport()->setMouseTracking(true);
  QFont mono(QStringLiteral("monospace"));
  mono.setStyleHint(QFont::TypeWriter);
  mono.setPointSizeF(font().pointSizeF());
  setFont(mono);
}

void SurprisalTextView::setRun(const EntropyRunRecord* run) {
  run_ = run;
  scaleTop_ = run ? percentileTop(run->surprisal) : 1.0;
  setPlainText(run ? displayText(run->text) : QString());
  viewport()->update();
}

QColor SurprisalTextView::tokenColour(int token) const {
  if (!run_ || token < 0 || size_t(token) >= run_->surprisal.size()) return QColor(0, 0, 0, 0);
  return surprisalColour(double(run_->surprisal[size_t(token)]) / scaleTop_);
}

int SurprisalTextView::tokenAt(const QPoint& p) const {
  if (!run_) return -1;
  const QTextCursor cursor = cursorForPosition(p);
  // cursorForPosition gives the nearest gap between characters; the token
  // is the one whose glyphs are under the point.
  const QRect caret = cursorRect(cursor);
  int offset = cursor.position();
  if (p.x() < caret.center().x() && offset > 0) offset -= 1;
  const QTextBlock block = cursor.block();
  const int inBlockEnd = block.position() + block.length() - 1;
  if (offset >= inBlockEnd && block.length() > 1) offset = inBlockEnd - 1;
  return run_->tokenAtCharacter(offset);
}

QString SurprisalTextView::describeToken(int token) const {
  if (!run_ || token < 0 || size_t(token) >= run_->surprisal.size()) return QString();
  const int from = run_->tokenStart[size_t(token)];
  const int to = run_->tokenEnd(token);
  const double s = run_->surprisal[size_t(token)];
  if (token == 0) {
    return tr("token 0 “%1” (characters 0–%2): the first token has no prefix to predict it")
        .arg(visible(run_->text.mid(from, to - from)))
        .arg(to);
  }
  return tr("token %1 “%2” (characters %3–%4): surprisal %5 nats, p = %6")
      .arg(token)
      .arg(visible(run_->text.mid(from, to - from)))
      .arg(from)
      .arg(to)
      .arg(s, 0, 'f', 2)
      .arg(QString::number(std::exp(-s), 'g', 3));
}

void SurprisalTextView::showToken(int token) {
  if (!run_ || token < 0 || size_t(token) >= run_->surprisal.size()) return;
  QTextCursor c(document());
  c.setPosition(run_->tokenStart[size_t(token)]);
  c.setPosition(run_->tokenEnd(token), QTextCursor::KeepAnchor);
  setTextCursor(c);
  centerCursor();
}

void SurprisalTextView::paintEvent(QPaintEvent* event) {
  if (run_ && !run_->tokenStart.empty()) {
    QPainter painter(viewport());
    const QRect area = event->rect();
    const QPointF offset = contentOffset();
    for (QTextBlock block = firstVisibleBlock(); block.isValid(); block = block.next()) {
      const QRectF geometry = blockBoundingGeometry(block).translated(offset);
      if (geometry.top() > area.bottom()) break;
      if (!block.isVisible() || geometry.bottom() < area.top()) continue;
      const QTextLayout* layout = block.layout();
      const int blockFrom = block.position();
      const int blockTo = blockFrom + block.length() - 1;  // without the separator
      int token = std::max(0, run_->tokenAtCharacter(blockFrom));
      for (; size_t(token) < run_->tokenStart.size(); ++token) {
        const int from = std::max(run_->tokenStart[size_t(token)], blockFrom);
        const int to = std::min(run_->tokenEnd(token), blockTo);
        if (run_->tokenStart[size_t(token)] >= blockTo) break;
        if (to <= from) continue;
        const QColor colour = tokenColour(token);
        if (colour.alpha() == 0) continue;
        for (int li = 0; li < layout->lineCount(); ++li) {
          const QTextLine line = layout->lineAt(li);
          const int lineFrom = blockFrom + line.textStart();
          const int lineTo = lineFrom + line.textLength();
          const int a = std::max(from, lineFrom), b = std::min(to, lineTo);
          if (b <= a) continue;
          const qreal x1 = line.cursorToX(a - blockFrom);
          const qreal x2 = line.cursorToX(b - blockFrom);
          const QRectF r(geometry.left() + std::min(x1, x2), geometry.top() + line.y(), std::abs(x2 - x1), line.height());
          painter.fillRect(r, colour);
        }
      }
    }
  }
  QPlainTextEdit::paintEvent(event);  // the text, the selection and the cursor over the colours
}

bool SurprisalTextView::viewportEvent(QEvent* event) {
  // The tooltip request comes to the viewport, in its coordinates.
  if (answerToolTipEvent(event, viewport(), [this](const QPoint& point) { return describeToken(tokenAt(point)); })) {
    return true;
  }
  return QPlainTextEdit::viewportEvent(event);
}

void SurprisalTextView::mouseReleaseEvent(QMouseEvent* event) {
  QPlainTextEdit::mouseReleaseEvent(event);
  if (event->button() != Qt::LeftButton || textCursor().hasSelection()) return;
  const int token = tokenAt(event->position().toPoint());
  if (token >= 0) emit tokenClicked(token);
}

SurprisalLegend::SurprisalLegend(QWidget* parent) : QWidget(parent) {
  setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Fixed);
}

void SurprisalLegend::setScaleTop(double nats) {
  top_ = nats;
  update();
}

QSize SurprisalLegend::sizeHint() const { return QSize(480, fontMetrics().height() * 2 + 12); }

void SurprisalLegend::paintEvent(QPaintEvent*) {
  QPainter painter(this);
  const QFontMetrics fm = fontMetrics();
  const QString title = tr("surprisal −ln p (nats):");
  painter.setPen(palette().color(QPalette::WindowText));
  painter.drawText(QPoint(4, 4 + fm.ascent()), title);
  const int x0 = 4 + fm.horizontalAdvance(title) + 10;
  const int w = std::max(120, std::min(360, width() - x0 - 60));
  const QRect bar(x0, 4, w, fm.height());
  painter.fillRect(bar, Qt::white);
  for (int i = 0; i < w; ++i) {
    painter.fillRect(QRect(bar.left() + i, bar.top(), 1, bar.height()), surprisalColour((i + 0.5) / w));
  }
  painter.setPen(QColor(120, 120, 120));
  painter.drawRect(bar.adjusted(0, 0, -1, -1));
  painter.setPen(palette().color(QPalette::WindowText));
  const int steps = 4;
  for (int k = 0; k <= steps; ++k) {
    const int x = bar.left() + k * (w - 1) / steps;
    const double v = top_ * k / steps;
    const QString label = k == steps ? QStringLiteral("≥ %1").arg(v, 0, 'f', 0) : QString::number(v, 'f', v < 10 ? 1 : 0);
    painter.drawLine(x, bar.bottom(), x, bar.bottom() + 3);
    painter.drawText(QPoint(std::clamp(x - fm.horizontalAdvance(label) / 2, 0, width() - fm.horizontalAdvance(label)),
                            bar.bottom() + 4 + fm.ascent()),
                     label);
  }
}

SurprisalPane::SurprisalPane(QWidget* parent) : QWidget(parent) {
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(0, 0, 0, 0);
  legend_ = new SurprisalLegend(this);
  text_ = new SurprisalTextView(this);
  text_->setObjectName(QStringLiteral("surprisalText"));
  detail_ = new QLabel(tr("Click a token to see its surprisal and position."), this);
  detail_->setObjectName(QStringLiteral("surprisalDetail"));
  detail_->setTextInteractionFlags(Qt::TextSelectableByMouse);
  layout->addWidget(legend_);
  layout->addWidget(text_, 1);
  layout->addWidget(detail_);
  connect(text_, &SurprisalTextView::tokenClicked, this, [this](int token) { detail_->setText(text_->describeToken(token)); });
}

void SurprisalPane::setRun(const EntropyRunRecord* run) {
  run_ = run;
  text_->setRun(run);
  legend_->setScaleTop(text_->scaleTop());
  if (run && run->surprisal.size() > 1) {
    // Point at the most surprising token as a start.
    size_t best = 1;
    for (size_t i = 2; i < run->surprisal.size(); ++i) {
      if (run->surprisal[i] > run->surprisal[best]) best = i;
    }
    detail_->setText(tr("Most surprising: %1. Click any token for its value.").arg(text_->describeToken(int(best))));
  }
}

}  // namespace sambalens::ui
