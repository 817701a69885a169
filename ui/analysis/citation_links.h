// Turns what an answer points to into links the transcript can follow:
// PDF pages ("[page 3]", "page 3", "pages 4-5", "p. 7") and files of a code
// folder ("src/a.cpp", "a.cpp:42", "`src/a.cpp` lines 10-20"), found by the
// app's citation rules (app/analysis/citations.h findCitationSpans), so the
// links and the citations stored with a message always agree. Text inside
// fenced code blocks is left alone.
#pragma once

#include <QList>
#include <QString>
#include <QUrl>
#include <optional>

#include "imported_document.h"

namespace sambalens::ui {

struct CitationTarget {
  enum class Kind { Page, File };
  Kind kind = Kind::Page;
  QString documentPath;   // the PDF or code folder, absolute
  int page = 0;           // Page: 1-based
  QString relativePath;   // File: inside the folder
  int firstLine = 0;      // File: 1-based, 0 = no line given
  int lastLine = 0;

  // "sambalens:page?doc=...&page=3", "sambalens:file?doc=...&path=...&line=4&to=9"
  QUrl toUrl() const;
  static std::optional<CitationTarget> fromUrl(const QUrl& url);
  bool operator==(const CitationTarget& other) const;
};

// `markdown` with each citation made a Markdown link to its target; the
// targets found, in order, go to `found` when given.
QString linkifyCitations(const QString& markdown, const QList<sambalens::ImportedDocument>& documents,
                         QList<CitationTarget>* found = nullptr);

}  // namespace sambalens::ui
