#include "pdf_pages.h"

#include <poppler-qt6.h>

#include <QFileInfo>

namespace sambalens {

PdfPages::PdfPages() = default;
PdfPages::~PdfPages() = default;

bool PdfPages::open(const QString& path, QString* error) {
  close();
  const QString name = QFileInfo(path).fileName();
  std::unique_ptr<Poppler::Document> document = Poppler::Document::load(path);
  if (!document) {
    *error = QStringLiteral("%1: cannot be opened as a PDF (missing, unreadable or damaged)").arg(name);
    return false;
  }
  if (document->isLocked()) {
    *error = QStringLiteral("%1: the PDF is encrypted and needs a password").arg(name);
    return false;
  }
  if (document->numPages() <= 0) {
    *error = QStringLiteral("%1: the PDF has no pages").arg(name);
    return false;
  }
  document->setRenderHint(Poppler::Document::Antialiasing);
  document->setRenderHint(Poppler::Document::TextAntialiasing);
  document->setRenderHint(Poppler::Document::TextHinting);
  document_ = std::move(document);
  path_ = path;
  return true;
}

int PdfPages::pageCount() const { return document_ ? document_->numPages() : 0; }

QList<QSizeF> PdfPages::pageSizes() const {
  QList<QSizeF> sizes;
  for (int i = 0; i < pageCount(); ++i) {
    const std::unique_ptr<Poppler::Page> page = document_->page(i);
    sizes.append(page ? page->pageSizeF() : QSizeF(595, 842));
  }
  return sizes;
}

QImage PdfPages::render(int pageIndex, double dpi, QString* error) const {
  if (!document_ || pageIndex < 0 || pageIndex >= document_->numPages()) {
    *error = QStringLiteral("no such page: %1").arg(pageIndex + 1);
    return QImage();
  }
  const std::unique_ptr<Poppler::Page> page = document_->page(pageIndex);
  QImage image = page ? page->renderToImage(dpi, dpi) : QImage();
  if (image.isNull()) {
    *error = QStringLiteral("page %1 of %2 could not be drawn").arg(pageIndex + 1).arg(QFileInfo(path_).fileName());
  }
  return image;
}

void PdfPages::close() {
  document_.reset();
  path_.clear();
}

}  // namespace sambalens
