// Finds what an answer points to: PDF pages ("[page 3]", "page 3",
// "pages 4-5", "p. 7") and files of a code folder (their paths, a path
// given from above the folder, or a file name that is unique across the
// folders; with lines as "a.cpp:42", "a.cpp:10-20" or "a.cpp lines 10-20").
// One set of rules serves the store (extractCitations) and the transcript's
// links (findCitationSpans, used by ui/analysis/citation_links).
#pragma once

#include <QJsonArray>
#include <QList>

#include "imported_document.h"

namespace sambalens {

// One citation and where it stands in the text.
struct CitationSpan {
  qsizetype start = 0;
  qsizetype end = 0;        // exclusive
  QString documentPath;     // the PDF or code folder
  int page = 0;             // PDF: first page cited (1-based); 0 for a file
  int lastPage = 0;         // PDF: last page of a range ("pages 4-7"), else == page
  QString relativePath;     // file inside the folder
  int firstLine = 0;        // file: 1-based, 0 = no line given
  int lastLine = 0;
  bool isPage() const { return page > 0; }
};

// Every citation in `text`, in order of position (overlapping matches are
// all kept; callers that link text skip overlaps). A page is attributed to
// the PDF named closest before it, else to the first PDF that has that
// page; pages no document has are dropped.
QList<CitationSpan> findCitationSpans(const QString& text, const QList<ImportedDocument>& documents);

// Citations in order of first mention, without duplicates, each
// {"document": path, "page": n} or {"document": path, "file": relative path};
// a page range cites each page of it (up to 20).
QJsonArray extractCitations(const QString& answer, const QList<ImportedDocument>& documents);

}  // namespace sambalens
