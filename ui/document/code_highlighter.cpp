#include "code_highlighter.h"

#include <QFileInfo>
#include <QSet>

namespace sambalens::ui {

namespace {
enum class Family { None, CLike, Hash, Markdown };

Family familyOf(const QString& fileName) {
  static const QSet<QString> cLike = {"c",  "cc", "cpp", "cxx", "h",  "hh",   "hpp",   "hxx",  "inl", "cu",
                                      "cuh", "java", "js", "mjs", "cjs", "ts", "tsx",  "jsx",  "go",  "rs",
                                      "cs", "swift", "kt", "kts", "scala", "dart", "php", "proto", "zig", "qml", "css", "scss"};
  static const QSet<QString> hash = {"py", "pyi", "sh", "bash", "zsh", "rb", "pl", "pm", "r", "cmake", "toml",
                                     "yaml", "yml", "jl", "nim", "ex", "exs", "tcl", "fish", "ps1"};
  const QFileInfo info(fileName);
  const QString suffix = info.suffix().toLower();
  if (info.fileName() == QLatin1String("CMakeLists.txt") || info.fileName() == QLatin1String("Makefile")) return Family::Hash;
  if (cLike.contains(suffix)) return Family::CLike;
  if (hash.contains(suffix)) return Family::Hash;
  if (suffix == QLatin1String("md") || suffix == QLatin1String("markdown")) return Family::Markdown;
  return Family::None;
}

QTextCharFormat colour(const QColor& c, bool bold = false, bool italic = false) {
  QTextCharFormat f;
  f.setForeground(c);
  if (bold) f.setFontWeight(QFont::Bold);
  f.setFontItalic(italic);
  return f;
}
}  // namespace

CodeHighlighter::CodeHighlighter(QTextDocument* document) : QSyntaxHighlighter(document) {
  commentFormat_ = colour(QColor(0x6a, 0x73, 0x7d), false, true);
}

void CodeHighlighter::setLanguageFor(const QString& fileName) {
  rules_.clear();
  blockComments_ = false;
  const Family family = familyOf(fileName);
  const QTextCharFormat keyword = colour(QColor(0x00, 0x33, 0xb3), true);
  const QTextCharFormat string = colour(QColor(0x06, 0x7d, 0x17));
  const QTextCharFormat number = colour(QColor(0x17, 0x50, 0xeb));
  if (family == Family::CLike || family == Family::Hash) {
    const QString words =
        family == Family::CLike
            ? QStringLiteral("auto|bool|break|case|catch|char|class|const|constexpr|continue|default|delete|do|double|"
                             "else|enum|explicit|export|extends|false|final|float|fn|for|func|function|if|impl|import|"
                             "inline|int|interface|let|long|match|mut|namespace|new|nullptr|null|override|package|"
                             "private|protected|pub|public|return|self|short|signed|sizeof|static|struct|super|switch|"
                             "template|this|throw|trait|true|try|typedef|typename|unsigned|use|using|var|virtual|void|"
                             "volatile|while|yield|#include|#define|#pragma|#if|#ifdef|#ifndef|#endif|#else")
            : QStringLiteral("and|as|assert|async|await|break|class|continue|def|del|elif|else|except|False|finally|"
                             "for|from|function|global|if|import|in|is|lambda|local|None|nonlocal|not|or|pass|raise|"
                             "return|then|fi|do|done|esac|case|True|try|while|with|yield|set|endif|endfunction|"
                             "foreach|endforeach|macro|endmacro|add_library|add_executable|target_link_libraries");
    rules_.append(Rule{QRegularExpression(QStringLiteral("(?<![\\w#])(?:%1)\\b").arg(words)), keyword});
    rules_.append(Rule{QRegularExpression(QStringLiteral("\\b\\d[\\d_.xXa-fA-F]*\\b")), number});
    rules_.append(Rule{QRegularExpression(QStringLiteral(R"("(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')")), string});
    rules_.append(Rule{QRegularExpression(family == Family::CLike ? QStringLiteral("//[^\n]*") : QStringLiteral("(?<![\\w$])#(?!include|define|pragma|if|endif|else)[^\n]*")),
                       commentFormat_});
    blockComments_ = family == Family::CLike;
  } else if (family == Family::Markdown) {
    rules_.append(Rule{QRegularExpression(QStringLiteral("^#{1,6} .*")), colour(QColor(0x00, 0x33, 0xb3), true)});
    rules_.append(Rule{QRegularExpression(QStringLiteral("`[^`]+`")), string});
  }
  rehighlight();
}

void CodeHighlighter::highlightBlock(const QString& text) {
  for (const Rule& rule : rules_) {
    auto it = rule.pattern.globalMatch(text);
    while (it.hasNext()) {
      const QRegularExpressionMatch m = it.next();
      setFormat(int(m.capturedStart()), int(m.capturedLength()), rule.format);
    }
  }
  setCurrentBlockState(0);
  if (!blockComments_) return;
  // /* ... */ across lines: state 1 = inside a comment at the end of the block.
  int start = previousBlockState() == 1 ? 0 : int(text.indexOf(QLatin1String("/*")));
  while (start >= 0) {
    const int end = int(text.indexOf(QLatin1String("*/"), start + (previousBlockState() == 1 && start == 0 ? 0 : 2)));
    int length;
    if (end < 0) {
      setCurrentBlockState(1);
      length = int(text.size()) - start;
    } else {
      length = end - start + 2;
    }
    setFormat(start, length, commentFormat_);
    start = end < 0 ? -1 : int(text.indexOf(QLatin1String("/*"), start + length));
  }
}

}  // namespace sambalens::ui
