#include "code_view.h"

#include <QFontDatabase>
#include <QPainter>
#include <QScrollBar>
#include <QTextBlock>

#include "code_highlighter.h"

namespace sambalens::ui {

namespace {
class LineNumberArea : public QWidget {
 public:
  explicit LineNumberArea(CodeView* view) : QWidget(view), view_(view) {}
  QSize sizeHint() const override { return {view_->lineNumberAreaWidth(), 0}; }

 protected:
  void paintEvent(QPaintEvent* event) override { view_->paintLineNumbers(event); }

 private:
  CodeView* view_;
};
}  // namespace

CodeView::CodeView(QWidget* parent)
    : QPlainTextEdit(parent), lineNumberArea_(new LineNumberArea(this)), highlighter_(new CodeHighlighter(document())) {
  setReadOnly(true);
  setLineWrapMode(QPlainTextEdit::NoWrap);
  setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
  setTextInteractionFlags(Qt::TextSelectableByMouse | Qt::TextSelectableByKeyboard);
  connect(this, &QPlainTextEdit::blockCountChanged, this, &CodeView::updateLineNumberAreaWidth);
  connect(this, &QPlainTextEdit::updateRequest, this, &CodeView::updateLineNumberArea);
  updateLineNumberAreaWidth();
}

void CodeView::setDocumentText(const QString& text, const QString& fileName) {
  highlighter_->setLanguageFor(fileName);
  setPlainText(text);
  highlighted_.clear();
  applyHighlights();
}

int CodeView::lineNumberAreaWidth() const {
  int digits = 1;
  for (int max = qMax(1, blockCount()); max >= 10; max /= 10) ++digits;
  return 10 + fontMetrics().horizontalAdvance(QLatin1Char('9')) * qMax(3, digits);
}

void CodeView::updateLineNumberAreaWidth() { setViewportMargins(lineNumberAreaWidth(), 0, 0, 0); }

void CodeView::updateLineNumberArea(const QRect& rect, int dy) {
  if (dy) {
    lineNumberArea_->scroll(0, dy);
  } else {
    lineNumberArea_->update(0, rect.y(), lineNumberArea_->width(), rect.height());
  }
  if (rect.contains(viewport()->rect())) updateLineNumberAreaWidth();
}

void CodeView::resizeEvent(QResizeEvent* event) {
  QPlainTextEdit::resizeEvent(event);
  const QRect cr = contentsRect();
  lineNumberArea_->setGeometry(QRect(cr.left(), cr.top(), lineNumberAreaWidth(), cr.height()));
}

void CodeView::paintLineNumbers(QPaintEvent* event) {
  QPainter painter(lineNumberArea_);
  painter.fillRect(event->rect(), QColor(0xf3, 0xf3, 0xf3));
  QTextBlock block = firstVisibleBlock();
  int number = block.blockNumber() + 1;
  int top = qRound(blockBoundingGeometry(block).translated(contentOffset()).top());
  int bottom = top + qRound(blockBoundingRect(block).height());
  const auto isHighlighted = [this](int line) {
    for (const auto& [first, last] : highlighted_) {
      if (line >= first && line <= last) return true;
    }
    return false;
  };
  while (block.isValid() && top <= event->rect().bottom()) {
    if (block.isVisible() && bottom >= event->rect().top()) {
      const bool marked = isHighlighted(number);
      painter.setPen(marked ? QColor(0x9a, 0x5b, 0x00) : QColor(0x99, 0x99, 0x99));
      QFont f = font();
      f.setBold(marked);
      painter.setFont(f);
      painter.drawText(0, top, lineNumberArea_->width() - 5, fontMetrics().height(), Qt::AlignRight,
                       QString::number(number));
    }
    block = block.next();
    top = bottom;
    bottom = top + qRound(blockBoundingRect(block).height());
    ++number;
  }
}

void CodeView::setHighlightedLines(const QList<QPair<int, int>>& ranges) {
  highlighted_ = ranges;
  applyHighlights();
}

void CodeView::applyHighlights() {
  QList<QTextEdit::ExtraSelection> selections;
  QTextCharFormat format;
  format.setBackground(QColor(0xff, 0xf1, 0xb8));
  format.setProperty(QTextFormat::FullWidthSelection, true);
  for (const auto& [first, last] : highlighted_) {
    for (int line = qMax(1, first); line <= qMin(last, blockCount()); ++line) {
      QTextEdit::ExtraSelection selection;
      selection.format = format;
      selection.cursor = QTextCursor(document()->findBlockByNumber(line - 1));
      selection.cursor.clearSelection();
      selections.append(selection);
    }
  }
  setExtraSelections(selections);
  lineNumberArea_->update();
}

void CodeView::showLine(int line) {
  const QTextBlock block = document()->findBlockByNumber(qBound(1, line, blockCount()) - 1);
  QTextCursor cursor(block);
  setTextCursor(cursor);
  // Put the line near the top with a little context above it.
  verticalScrollBar()->setValue(qMax(0, block.blockNumber() - 3));
}

int CodeView::firstVisibleLine() const { return firstVisibleBlock().blockNumber() + 1; }

}  // namespace sambalens::ui
