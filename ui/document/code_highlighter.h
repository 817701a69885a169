// Light syntax colouring for the code view: comments, strings, numbers and
// the keywords of the common language families, chosen by file suffix.
// Enough to read code comfortably; not a parser.
#pragma once

#include <QList>
#include <QRegularExpression>
#include <QSyntaxHighlighter>
#include <QTextCharFormat>

namespace sambalens::ui {

class CodeHighlighter : public QSyntaxHighlighter {
  Q_OBJECT

 public:
  explicit CodeHighlighter(QTextDocument* document);
  // Picks the rules for `fileName` (none for unknown suffixes and plain text).
  void setLanguageFor(const QString& fileName);

 protected:
  void highlightBlock(const QString& text) override;

 private:
  struct Rule {
    QRegularExpression pattern;
    QTextCharFormat format;
  };
  QList<Rule> rules_;
  bool blockComments_ = false;  // /* ... */
  QTextCharFormat commentFormat_;
};

}  // namespace sambalens::ui
