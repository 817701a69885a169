// Code and text with line numbers in a margin (after Qt's Code Editor
// example), read-only, with the lines an answer points to highlighted and
// a way to scroll to one of them.
#pragma once

#include <QList>
#include <QPair>
#include <QPlainTextEdit>

namespace sambalens::ui {

class CodeHighlighter;

class CodeView : public QPlainTextEdit {
  Q_OBJECT

 public:
  explicit CodeView(QWidget* parent = nullptr);

  // Shows `text`; `fileName` picks the syntax colouring (by suffix).
  void setDocumentText(const QString& text, const QString& fileName = QString());
  // Highlights 1-based, inclusive line ranges (replacing earlier ones).
  void setHighlightedLines(const QList<QPair<int, int>>& ranges);
  const QList<QPair<int, int>>& highlightedLines() const { return highlighted_; }
  // Scrolls so that 1-based `line` is near the top and puts the cursor there.
  void showLine(int line);
  int firstVisibleLine() const;  // 1-based

  int lineNumberAreaWidth() const;
  void paintLineNumbers(QPaintEvent* event);

 protected:
  void resizeEvent(QResizeEvent* event) override;

 private:
  void updateLineNumberAreaWidth();
  void updateLineNumberArea(const QRect& rect, int dy);
  void applyHighlights();

  QWidget* lineNumberArea_;
  CodeHighlighter* highlighter_;
  QList<QPair<int, int>> highlighted_;
};

}  // namespace sambalens::ui
