// Finds what an answer points to: PDF pages ("[page 3]", "page 3",
// "pages 4-5", "p. 7") and files of a code folder (their paths, or a file
// name that is unique in the folder), so the UI can link them and the store
// can keep them with the message.
#pragma once

#include <QJsonArray>
#include <QList>

#include "imported_document.h"

namespace sambalens {

// Citations in order of first mention, without duplicates, each
// {"document": path, "page": n} or {"document": path, "file": relative path}.
// A page is attributed to the PDF named closest before it in the answer,
// else to the first PDF that has that page; pages no document has are
// dropped.
QJsonArray extractCitations(const QString& answer, const QList<ImportedDocument>& documents);

}  // namespace sambalens
