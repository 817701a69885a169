// What an importer produces: the text of one document split into sections
// (PDF pages, files of a code folder, one section for plain text), plus what
// it left out and why. The app composes the model's input from the sections
// with markers ("[page 3]", "File: src/main.cpp") so answers can cite them.
#pragma once

#include <QJsonObject>
#include <QList>
#include <QMetaType>
#include <QString>
#include <QStringList>

namespace sambalens {

// One page of a PDF, one file of a code folder, or the whole of a text file.
struct DocumentSection {
  int page = 0;          // 1-based PDF page number; 0 when not a page
  QString relativePath;  // path inside a code folder; empty otherwise
  QString text;
  qint64 bytes = 0;      // size of the source of this section (file bytes)

  // The marker that introduces this section in the model's input.
  QString marker() const;
};

// A file or folder the importer saw but did not read, with the reason
// (".gitignore: build/", "binary file", "larger than 1 MiB"...).
struct ExcludedEntry {
  QString relativePath;
  bool isDirectory = false;
  QString reason;
};

struct ImportedDocument {
  QString path;          // absolute path of the file or folder
  QString kind;          // "pdf", "code", "text"
  QString importerId;    // plugin that produced it
  QString contentHash;   // hex SHA-256 of the file's bytes (folders: of their files)
  qint64 bytes = 0;      // bytes read
  int pageCount = 0;     // PDF pages (0 for other kinds)
  QList<DocumentSection> sections;
  QList<ExcludedEntry> excluded;
  QStringList warnings;  // imported, but something is worth telling the user
  QString error;         // non-empty: this file could not be imported

  bool ok() const { return error.isEmpty(); }
  // File or folder name shown to the user.
  QString displayName() const;
  // The document as the model reads it: each section after its marker line,
  // sections separated by a blank line. Deterministic, so equal documents
  // give equal prompts (and equal model-state snapshot keys).
  QString modelText() const;
  qint64 characterCount() const;

  QJsonObject toJson() const;
  static ImportedDocument fromJson(const QJsonObject& object);
};

// Model input for several documents: each document's modelText() under a
// "[document i of n: name]" line when there is more than one.
QString composeModelText(const QList<ImportedDocument>& documents);

}  // namespace sambalens

Q_DECLARE_METATYPE(sambalens::ImportedDocument)
