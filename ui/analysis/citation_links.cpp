#include "citation_links.h"

#include "citations.h"

#include <QRegularExpression>
#include <QUrlQuery>
#include <algorithm>

namespace sambalens::ui {

QUrl CitationTarget::toUrl() const {
  QUrl url;
  url.setScheme(QStringLiteral("sambalens"));
  QUrlQuery query;
  query.addQueryItem(QStringLiteral("doc"), documentPath);
  if (kind == Kind::Page) {
    url.setPath(QStringLiteral("page"));
    query.addQueryItem(QStringLiteral("page"), QString::number(page));
  } else {
    url.setPath(QStringLiteral("file"));
    query.addQueryItem(QStringLiteral("path"), relativePath);
    if (firstLine > 0) query.addQueryItem(QStringLiteral("line"), QString::number(firstLine));
    if (lastLine > firstLine) query.addQueryItem(QStringLiteral("to"), QString::number(lastLine));
  }
  url.setQuery(query);
  return url;
}

std::optional<CitationTarget> CitationTarget::fromUrl(const QUrl& url) {
  if (url.scheme() != QLatin1String("sambalens")) return std::nullopt;
  const QUrlQuery query(url);
  CitationTarget t;
  t.documentPath = query.queryItemValue(QStringLiteral("doc"), QUrl::FullyDecoded);
  if (t.documentPath.isEmpty()) return std::nullopt;
  if (url.path() == QLatin1String("page")) {
    t.kind = Kind::Page;
    t.page = query.queryItemValue(QStringLiteral("page")).toInt();
    if (t.page < 1) return std::nullopt;
    return t;
  }
  if (url.path() == QLatin1String("file")) {
    t.kind = Kind::File;
    t.relativePath = query.queryItemValue(QStringLiteral("path"), QUrl::FullyDecoded);
    t.firstLine = query.queryItemValue(QStringLiteral("line")).toInt();
    t.lastLine = std::max(t.firstLine, query.queryItemValue(QStringLiteral("to")).toInt());
    if (t.relativePath.isEmpty()) return std::nullopt;
    return t;
  }
  return std::nullopt;
}

bool CitationTarget::operator==(const CitationTarget& o) const {
  return kind == o.kind && documentPath == o.documentPath && page == o.page && relativePath == o.relativePath &&
         firstLine == o.firstLine && lastLine == o.lastLine;
}

namespace {

struct Match {
  qsizetype start = 0;
  qsizetype end = 0;  // exclusive
  CitationTarget target;
};

// Markdown link destination: the URL with the characters that would end or
// unbalance it encoded.
QString destination(const CitationTarget& target) {
  QString s = QString::fromLatin1(target.toUrl().toEncoded());
  s.replace(QLatin1Char('('), QLatin1String("%28")).replace(QLatin1Char(')'), QLatin1String("%29"));
  s.replace(QLatin1Char(' '), QLatin1String("%20"));
  return s;
}

QString escapeLinkText(QString text) {
  text.replace(QLatin1Char('['), QLatin1String("\\[")).replace(QLatin1Char(']'), QLatin1String("\\]"));
  return text;
}

// Ranges of `text` not to touch: fenced code blocks, and the destinations of
// links already there ("](...)").
QList<QPair<qsizetype, qsizetype>> protectedRanges(const QString& text) {
  QList<QPair<qsizetype, qsizetype>> ranges;
  static const QRegularExpression fence(QStringLiteral(R"(^ {0,3}(```|~~~)[^\n]*\n[\s\S]*?(?:^ {0,3}\1[^\n]*$|\z))"),
                                        QRegularExpression::MultilineOption);
  for (auto it = fence.globalMatch(text); it.hasNext();) {
    const QRegularExpressionMatch m = it.next();
    ranges.append({m.capturedStart(), m.capturedEnd()});
  }
  static const QRegularExpression linkDest(QStringLiteral(R"(\]\([^)\s]*\))"));
  for (auto it = linkDest.globalMatch(text); it.hasNext();) {
    const QRegularExpressionMatch m = it.next();
    ranges.append({m.capturedStart(), m.capturedEnd()});
  }
  return ranges;
}

// The inline code span (`...`) around [start, end), if the match is inside one.
std::optional<QPair<qsizetype, qsizetype>> codeSpanAround(const QString& text, qsizetype start, qsizetype end) {
  const qsizetype lineStart = text.lastIndexOf(QLatin1Char('\n'), start > 0 ? start - 1 : 0) + 1;
  const qsizetype open = text.lastIndexOf(QLatin1Char('`'), start - 1);
  if (open < lineStart || start == 0) return std::nullopt;
  // An odd number of backticks before the match on its line: inside a span.
  const qsizetype ticks = text.mid(lineStart, start - lineStart).count(QLatin1Char('`'));
  if (ticks % 2 == 0) return std::nullopt;
  const qsizetype close = text.indexOf(QLatin1Char('`'), end);
  const qsizetype lineEnd = text.indexOf(QLatin1Char('\n'), end);
  if (close < 0 || (lineEnd >= 0 && close > lineEnd)) return std::nullopt;
  return QPair<qsizetype, qsizetype>{open, close + 1};
}

}  // namespace

QString linkifyCitations(const QString& markdown, const QList<ImportedDocument>& documents, QList<CitationTarget>* found) {
  QList<Match> matches;
  for (const CitationSpan& span : findCitationSpans(markdown, documents)) {
    CitationTarget t;
    t.documentPath = span.documentPath;
    if (span.isPage()) {
      t.kind = CitationTarget::Kind::Page;
      t.page = span.page;
    } else {
      t.kind = CitationTarget::Kind::File;
      t.relativePath = span.relativePath;
      t.firstLine = span.firstLine;
      t.lastLine = span.lastLine;
    }
    matches.append(Match{span.start, span.end, t});
  }
  if (matches.isEmpty()) return markdown;

  const QList<QPair<qsizetype, qsizetype>> keepOut = protectedRanges(markdown);
  for (Match& m : matches) {
    if (const auto span = codeSpanAround(markdown, m.start, m.end)) {
      m.start = span->first;  // the link takes the whole `code span`
      m.end = span->second;
    }
  }
  std::sort(matches.begin(), matches.end(), [](const Match& a, const Match& b) {
    return a.start != b.start ? a.start < b.start : a.end > b.end;
  });
  QString out;
  qsizetype at = 0;
  for (const Match& m : matches) {
    if (m.start < at) continue;  // overlaps one already linked
    const bool inside = std::any_of(keepOut.begin(), keepOut.end(), [&](const auto& r) {
      return m.start < r.second && m.end > r.first;
    });
    if (inside) continue;
    out += markdown.mid(at, m.start - at);
    out += QLatin1Char('[') + escapeLinkText(markdown.mid(m.start, m.end - m.start)) + QStringLiteral("](") +
           destination(m.target) + QLatin1Char(')');
    at = m.end;
    if (found) found->append(m.target);
  }
  out += markdown.mid(at);
  return out;
}

}  // namespace sambalens::ui
