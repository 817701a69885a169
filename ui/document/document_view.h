// The document view: a PDF's pages, a text file, or a code folder (its
// files in a tree beside the code), with line numbers. Files and lines that
// an answer points to are marked, and a followed citation opens the page or
// the file at its lines.
#pragma once

#include <QHash>
#include <QList>
#include <QPair>
#include <QWidget>

#include "imported_document.h"

class QLabel;
class QStackedWidget;
class QToolButton;
class QTreeWidget;
class QTreeWidgetItem;

namespace sambalens::ui {

class CodeView;
class ElidedLabel;
class PdfView;

class DocumentView : public QWidget {
  Q_OBJECT

 public:
  explicit DocumentView(QWidget* parent = nullptr);

  // Shows `document` (a PDF opens asynchronously).
  void showDocument(const sambalens::ImportedDocument& document);
  void clear();
  // The path of the document shown, or empty.
  const QString& documentPath() const { return document_.path; }
  const sambalens::ImportedDocument& document() const { return document_; }

  // For the document shown: open 1-based `page` of the PDF, marked.
  void showPage(int page);
  // For the code folder (or text file) shown: open `relativePath` at the
  // lines (0 = no line).
  bool showFile(const QString& relativePath, int firstLine = 0, int lastLine = 0);
  // Lines an answer points to, per file of a code folder (replacing the
  // marks for that folder); they stay highlighted while browsing it.
  void setCitedLines(const QString& documentPath, const QHash<QString, QList<QPair<int, int>>>& lines);

  PdfView* pdfView() const { return pdf_; }
  CodeView* codeView() const { return code_; }
  QTreeWidget* fileTree() const { return files_; }
  // The file of a code folder shown now (relative path), or empty.
  QString currentFile() const;

 private:
  void showFileItem(QTreeWidgetItem* item);
  void buildFileTree();
  void updateHeader();

  sambalens::ImportedDocument document_;
  QHash<QString, QHash<QString, QList<QPair<int, int>>>> citedLines_;  // doc path -> file -> ranges
  ElidedLabel* title_;
  QLabel* pageLabel_;
  QToolButton* zoomOut_;
  QToolButton* zoomIn_;
  QToolButton* fit_;
  QStackedWidget* stack_;
  QWidget* empty_;
  PdfView* pdf_;
  QWidget* folderPage_;
  QTreeWidget* files_;
  CodeView* code_;
  QWidget* codeHost_;
  QHash<QString, QTreeWidgetItem*> fileItems_;
};

}  // namespace sambalens::ui
