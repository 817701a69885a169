#include "citations.h"

#include <QFileInfo>
#include <QHash>
#include <QJsonObject>
#include <QRegularExpression>
#include <QSet>
#include <algorithm>

namespace sambalens {

namespace {

struct Found {
  qsizetype position;
  QJsonObject citation;
};

// The PDF whose name appears last before `position`, if any.
const ImportedDocument* pdfNamedBefore(const QString& answer, qsizetype position,
                                       const QList<const ImportedDocument*>& pdfs) {
  const ImportedDocument* best = nullptr;
  qsizetype bestAt = -1;
  for (const ImportedDocument* d : pdfs) {
    const qsizetype at = answer.lastIndexOf(d->displayName(), position);
    if (at >= 0 && at > bestAt) {
      best = d;
      bestAt = at;
    }
  }
  return best;
}

void findPages(const QString& answer, const QList<const ImportedDocument*>& pdfs, QList<Found>& out) {
  if (pdfs.isEmpty()) return;
  static const QRegularExpression re(
      QStringLiteral(R"((?:\[page\s+(\d+)\])|(?:\bpages?\s+(\d+)(?:\s*(?:-|–|to|and|,)\s*(\d+))?)|(?:\bp\.\s?(\d+)))"),
      QRegularExpression::CaseInsensitiveOption);
  auto it = re.globalMatch(answer);
  while (it.hasNext()) {
    const QRegularExpressionMatch m = it.next();
    QList<int> pages;
    for (int group : {1, 2, 4}) {
      if (!m.captured(group).isEmpty()) pages.append(m.captured(group).toInt());
    }
    if (!m.captured(3).isEmpty() && !pages.isEmpty()) {
      const int first = pages.front();
      const int last = m.captured(3).toInt();
      // "pages 4-7" cites each page; a long range is more likely a typo.
      for (int p = first + 1; p <= last && p - first < 20; ++p) pages.append(p);
    }
    for (int page : pages) {
      const ImportedDocument* doc = pdfNamedBefore(answer, m.capturedStart(), pdfs);
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
      out.append(Found{m.capturedStart(), QJsonObject{{"document", doc->path}, {"page", page}}});
    }
  }
}

void findFiles(const QString& answer, const ImportedDocument& doc, QList<Found>& out) {
  // File names that occur once in the folder can be cited by name alone.
  QHash<QString, int> nameCount;
  for (const DocumentSection& s : doc.sections) ++nameCount[QFileInfo(s.relativePath).fileName()];
  for (const DocumentSection& s : doc.sections) {
    if (s.relativePath.isEmpty()) continue;
    qsizetype at = answer.indexOf(s.relativePath);
    if (at < 0) {
      const QString name = QFileInfo(s.relativePath).fileName();
      if (nameCount.value(name) == 1 && name.size() >= 4 && name.contains(QLatin1Char('.'))) {
        static const QRegularExpression boundary(QStringLiteral("[\\w./-]"));
        for (qsizetype from = 0; (at = answer.indexOf(name, from)) >= 0; from = at + 1) {
          const bool startOk = at == 0 || !boundary.match(answer.mid(at - 1, 1)).hasMatch();
          const qsizetype end = at + name.size();
          const bool endOk = end >= answer.size() || !answer.at(end).isLetterOrNumber();
          if (startOk && endOk) break;
        }
      }
    }
    if (at >= 0) out.append(Found{at, QJsonObject{{"document", doc.path}, {"file", s.relativePath}}});
  }
}

}  // namespace

QJsonArray extractCitations(const QString& answer, const QList<ImportedDocument>& documents) {
  QList<const ImportedDocument*> pdfs;
  for (const ImportedDocument& d : documents) {
    if (d.kind == QLatin1String("pdf") && d.pageCount > 0) pdfs.append(&d);
  }
  QList<Found> found;
  findPages(answer, pdfs, found);
  for (const ImportedDocument& d : documents) {
    if (d.kind == QLatin1String("code")) findFiles(answer, d, found);
  }
  std::stable_sort(found.begin(), found.end(),
                   [](const Found& a, const Found& b) { return a.position < b.position; });
  QJsonArray out;
  QSet<QString> seen;
  for (const Found& f : found) {
    const QString key = f.citation.value("document").toString() + QLatin1Char('\n') +
                        QString::number(f.citation.value("page").toInt()) + QLatin1Char('\n') +
                        f.citation.value("file").toString();
    if (seen.contains(key)) continue;
    seen.insert(key);
    out.append(f.citation);
  }
  return out;
}

}  // namespace sambalens
