#include "citations.h"

#include <QFileInfo>
#include <QHash>
#include <QJsonObject>
#include <QRegularExpression>
#include <QSet>
#include <algorithm>

namespace sambalens {

namespace {

// The PDF whose name appears last before `position`, if any.
const ImportedDocument* pdfNamedBefore(const QString& text, qsizetype position,
                                       const QList<const ImportedDocument*>& pdfs) {
  const ImportedDocument* best = nullptr;
  qsizetype bestAt = -1;
  for (const ImportedDocument* d : pdfs) {
    const qsizetype at = position > 0 ? text.lastIndexOf(d->displayName(), position - 1) : -1;
    if (at >= 0 && at > bestAt) {
      best = d;
      bestAt = at;
    }
  }
  return best;
}

void findPages(const QString& text, const QList<const ImportedDocument*>& pdfs, QList<CitationSpan>& out) {
  if (pdfs.isEmpty()) return;
  static const QRegularExpression re(
      QStringLiteral(R"((?:\[page\s+(\d+)\])|(?:\bpages?\s+(\d+)(?:\s*(?:-|–|to|and|,)\s*(\d+))?)|(?:\bp\.\s?(\d+)))"),
      QRegularExpression::CaseInsensitiveOption);
  for (auto it = re.globalMatch(text); it.hasNext();) {
    const QRegularExpressionMatch m = it.next();
    int page = 0;
    for (int group : {1, 2, 4}) {
      if (!m.captured(group).isEmpty()) page = m.captured(group).toInt();
    }
    const ImportedDocument* doc = pdfNamedBefore(text, m.capturedStart(), pdfs);
    if (doc && page > doc->pageCount) doc = nullptr;
    if (!doc) {
      for (const ImportedDocument* d : pdfs) {
        if (page >= 1 && page <= d->pageCount) {
          doc = d;
          break;
        }
      }
    }
    if (!doc || page < 1) continue;
    CitationSpan span;
    span.start = m.capturedStart();
    span.end = m.capturedEnd();
    span.documentPath = doc->path;
    span.page = page;
    // "pages 4-7" cites each page; a long range is more likely a typo.
    const int last = m.captured(3).isEmpty() ? page : m.captured(3).toInt();
    span.lastPage = last > page && last - page < 20 ? std::min(last, doc->pageCount) : page;
    out.append(span);
  }
}

void findFiles(const QString& text, const QList<const ImportedDocument*>& folders, QList<CitationSpan>& out) {
  if (folders.isEmpty()) return;
  // Every file by its path; a file name that is unique across the folders
  // also by its name alone.
  QHash<QString, QPair<const ImportedDocument*, QString>> byPath;
  QHash<QString, QList<QPair<const ImportedDocument*, QString>>> byName;
  for (const ImportedDocument* d : folders) {
    for (const DocumentSection& s : d->sections) {
      if (s.relativePath.isEmpty()) continue;
      byPath.insert(s.relativePath, {d, s.relativePath});
      byName[QFileInfo(s.relativePath).fileName()].append({d, s.relativePath});
    }
  }
  static const QRegularExpression token(
      QStringLiteral(R"((?<![\w/.\-])(?:\./)?((?:[\w+\-.]+/)*[\w+\-]+\.[A-Za-z0-9]+)(?::(\d+)(?:\s*[-–]\s*(\d+))?)?)"));
  static const QRegularExpression linesAfter(
      QStringLiteral(R"(^`?(?:,|\s)\s*\(?(?:at\s+)?lines?\s+(\d+)(?:\s*(?:-|–|to)\s*(\d+))?\)?)"),
      QRegularExpression::CaseInsensitiveOption);
  for (auto it = token.globalMatch(text); it.hasNext();) {
    const QRegularExpressionMatch m = it.next();
    const QString name = m.captured(1);
    QPair<const ImportedDocument*, QString> hit{nullptr, QString()};
    if (byPath.contains(name)) {
      hit = byPath.value(name);
    } else if (!name.contains(QLatin1Char('/')) && byName.value(name).size() == 1) {
      hit = byName.value(name).front();
    } else {
      // A path given from above the folder ("myproject/src/a.cpp").
      for (auto p = byPath.cbegin(); p != byPath.cend(); ++p) {
        if (name.endsWith(QLatin1Char('/') + p.key())) {
          hit = p.value();
          break;
        }
      }
    }
    if (!hit.first) continue;
    CitationSpan span;
    span.start = m.capturedStart();
    span.end = m.capturedEnd();
    span.documentPath = hit.first->path;
    span.relativePath = hit.second;
    if (!m.captured(2).isEmpty()) {
      span.firstLine = m.captured(2).toInt();
      span.lastLine = m.captured(3).isEmpty() ? span.firstLine : m.captured(3).toInt();
    } else {
      const QRegularExpressionMatch lines = linesAfter.match(text.mid(span.end, 40));
      if (lines.hasMatch()) {
        span.firstLine = lines.captured(1).toInt();
        span.lastLine = lines.captured(2).isEmpty() ? span.firstLine : lines.captured(2).toInt();
      }
    }
    if (span.lastLine < span.firstLine || span.lastLine - span.firstLine > 2000) span.lastLine = span.firstLine;
    out.append(span);
  }
}

}  // namespace

QList<CitationSpan> findCitationSpans(const QString& text, const QList<ImportedDocument>& documents) {
  QList<const ImportedDocument*> pdfs, folders;
  for (const ImportedDocument& d : documents) {
    if (d.kind == QLatin1String("pdf") && d.pageCount > 0) pdfs.append(&d);
    if (d.kind == QLatin1String("code")) folders.append(&d);
  }
  QList<CitationSpan> spans;
  findPages(text, pdfs, spans);
  findFiles(text, folders, spans);
  std::stable_sort(spans.begin(), spans.end(),
                   [](const CitationSpan& a, const CitationSpan& b) { return a.start < b.start; });
  return spans;
}

QJsonArray extractCitations(const QString& answer, const QList<ImportedDocument>& documents) {
  QJsonArray out;
  QSet<QString> seen;
  auto add = [&](const QJsonObject& citation) {
    const QString key = citation.value("document").toString() + QLatin1Char('\n') +
                        QString::number(citation.value("page").toInt()) + QLatin1Char('\n') +
                        citation.value("file").toString();
    if (seen.contains(key)) return;
    seen.insert(key);
    out.append(citation);
  };
  for (const CitationSpan& span : findCitationSpans(answer, documents)) {
    if (span.isPage()) {
      for (int page = span.page; page <= span.lastPage; ++page)
        add(QJsonObject{{"document", span.documentPath}, {"page", page}});
    } else {
      add(QJsonObject{{"document", span.documentPath}, {"file", span.relativePath}});
    }
  }
  return out;
}

}  // namespace sambalens
