#include "pdf_importer.h"

#include <poppler-qt6.h>

#include <QFile>
#include <QMutex>
#include <QRectF>

#include "content_hash.h"

namespace sambalens {

namespace {

// The PDF header may sit anywhere in the first 1024 bytes (PDF 1.7, 7.5.2).
constexpr qint64 kHeaderWindow = 1024;
// Readers look for %%EOF near the end; writers sometimes append a little
// garbage after it, so look a bit further than the spec's 1024 bytes.
constexpr qint64 kTrailerWindow = 4096;

// Poppler reports parse problems through one global callback. Imports in
// one process run one at a time under this lock, so the messages collected
// belong to the file being read.
QMutex g_popplerLock;
QStringList* g_popplerMessages = nullptr;

void collectPopplerMessage(const QString& message, const QVariant&) {
  if (g_popplerMessages && g_popplerMessages->size() < 20) g_popplerMessages->append(message);
}

QString firstDetail(const QStringList& messages) {
  return messages.isEmpty() ? QString() : QStringLiteral(" (poppler: %1)").arg(messages.front());
}

QString pageList(const QList<int>& pages) {
  QStringList parts;
  for (int i = 0; i < pages.size() && i < 12; ++i) parts.append(QString::number(pages[i]));
  if (pages.size() > 12) parts.append(QStringLiteral("… (%1 in all)").arg(pages.size()));
  return parts.join(QStringLiteral(", "));
}

}  // namespace

int PdfImporter::score(const QFileInfo& info, const QByteArray& head) const {
  if (info.isDir()) return 0;
  if (head.left(kHeaderWindow).contains("%PDF-")) return 100;
  // A ".pdf" that is not one still comes here, to be told so clearly.
  if (info.suffix().compare(QLatin1String("pdf"), Qt::CaseInsensitive) == 0) return 90;
  return 0;
}

ImportedDocument PdfImporter::import(const QString& path, const ImportOptions&,
                                     const ImportContext& context) const {
  ImportedDocument doc;
  doc.path = QFileInfo(path).absoluteFilePath();
  doc.kind = QStringLiteral("pdf");
  doc.importerId = id();
  const QString name = QFileInfo(path).fileName();

  QFile file(path);
  if (!file.open(QIODevice::ReadOnly)) {
    doc.error = QStringLiteral("%1: cannot open: %2").arg(name, file.errorString());
    return doc;
  }
  const qint64 size = file.size();
  doc.bytes = size;
  if (size == 0) {
    doc.error = QStringLiteral("%1: the file is empty").arg(name);
    return doc;
  }
  if (!file.read(kHeaderWindow).contains("%PDF-")) {
    doc.error = QStringLiteral("%1: not a PDF file (no %PDF- header in its first bytes)").arg(name);
    return doc;
  }
  file.seek(qMax<qint64>(0, size - kTrailerWindow));
  if (!file.read(kTrailerWindow).contains("%%EOF")) {
    doc.error = QStringLiteral(
                    "%1: the PDF is truncated (it ends after %2 bytes without the %%EOF end "
                    "marker); download or export it again")
                    .arg(name)
                    .arg(size);
    return doc;
  }
  file.close();

  QString hashError;
  doc.contentHash = fileSha256(path, &hashError, context.cancelFlag());
  if (doc.contentHash.isEmpty()) {
    doc.error = hashError;
    return doc;
  }

  QMutexLocker lock(&g_popplerLock);
  QStringList messages;
  g_popplerMessages = &messages;
  Poppler::setDebugErrorFunction(collectPopplerMessage, QVariant());
  struct Restore {
    ~Restore() { g_popplerMessages = nullptr; }
  } restore;

  std::unique_ptr<Poppler::Document> pdf = Poppler::Document::load(path);
  if (!pdf) {
    doc.error = QStringLiteral("%1: the PDF is damaged and cannot be parsed%2")
                    .arg(name, firstDetail(messages));
    return doc;
  }
  if (pdf->isLocked()) {
    doc.error = QStringLiteral(
                    "%1: the PDF is encrypted with a password; open it in a PDF reader and save "
                    "an unprotected copy")
                    .arg(name);
    return doc;
  }
  const int pages = pdf->numPages();
  if (pages <= 0) {
    doc.error = QStringLiteral("%1: the PDF has no pages%2").arg(name, firstDetail(messages));
    return doc;
  }
  doc.pageCount = pages;

  QList<int> emptyPages;
  QList<int> unreadablePages;
  for (int i = 0; i < pages; ++i) {
    if (context.cancelled()) {
      doc.error = QStringLiteral("cancelled");
      return doc;
    }
    context.progress(i, pages, QStringLiteral("page %1 of %2").arg(i + 1).arg(pages));
    std::unique_ptr<Poppler::Page> page = pdf->page(i);
    QString text;
    if (page) {
      text = page->text(QRectF());
    } else {
      unreadablePages.append(i + 1);
    }
    // Keep every page, even an empty one, so the markers' numbers are the
    // page numbers a reader sees.
    while (!text.isEmpty() && text.back().isSpace()) text.chop(1);
    if (text.trimmed().isEmpty()) {
      if (page) emptyPages.append(i + 1);
      text.clear();
    }
    doc.sections.append(DocumentSection{i + 1, QString(), text, 0});
  }
  context.progress(pages, pages, QString());

  if (emptyPages.size() + unreadablePages.size() == pages) {
    doc.error = QStringLiteral(
                    "%1: none of its %2 pages has a text layer (scanned images only?); "
                    "SambaLens does no OCR: run an OCR tool such as ocrmypdf on it first")
                    .arg(name)
                    .arg(pages);
    doc.sections.clear();
    return doc;
  }
  if (!emptyPages.isEmpty()) {
    doc.warnings.append(QStringLiteral("%1: no text on page(s) %2 (images only?)")
                            .arg(name, pageList(emptyPages)));
  }
  if (!unreadablePages.isEmpty()) {
    doc.warnings.append(QStringLiteral("%1: page(s) %2 could not be read")
                            .arg(name, pageList(unreadablePages)));
  }
  return doc;
}

}  // namespace sambalens
