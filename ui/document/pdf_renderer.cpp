#include "pdf_renderer.h"

#include <poppler-qt6.h>

#include <QFileInfo>

namespace sambalens::ui {

PdfRenderer::PdfRenderer() = default;
PdfRenderer::~PdfRenderer() = default;

void PdfRenderer::open(quint64 generation, const QString& path) {
  document_.reset();
  path_ = path;
  const QString name = QFileInfo(path).fileName();
  std::unique_ptr<Poppler::Document> document = Poppler::Document::load(path);
  if (!document) {
    emit openFailed(generation, tr("%1: cannot be opened as a PDF (missing, unreadable or damaged)").arg(name));
    return;
  }
  if (document->isLocked()) {
    emit openFailed(generation, tr("%1: the PDF is encrypted and needs a password").arg(name));
    return;
  }
  document->setRenderHint(Poppler::Document::Antialiasing);
  document->setRenderHint(Poppler::Document::TextAntialiasing);
  document->setRenderHint(Poppler::Document::TextHinting);
  QList<QSizeF> sizes;
  const int pages = document->numPages();
  for (int i = 0; i < pages; ++i) {
    const std::unique_ptr<Poppler::Page> page = document->page(i);
    // A page that cannot be read keeps a place of A4 size, so numbering holds.
    sizes.append(page ? page->pageSizeF() : QSizeF(595, 842));
  }
  if (sizes.isEmpty()) {
    emit openFailed(generation, tr("%1: the PDF has no pages").arg(name));
    return;
  }
  document_ = std::move(document);
  emit opened(generation, sizes);
}

void PdfRenderer::render(quint64 generation, int pageIndex, double dpi) {
  if (!document_ || pageIndex < 0 || pageIndex >= document_->numPages()) {
    emit renderFailed(generation, pageIndex, tr("no such page"));
    return;
  }
  const std::unique_ptr<Poppler::Page> page = document_->page(pageIndex);
  QImage image = page ? page->renderToImage(dpi, dpi) : QImage();
  if (image.isNull()) {
    emit renderFailed(generation, pageIndex,
                      tr("page %1 of %2 could not be drawn").arg(pageIndex + 1).arg(QFileInfo(path_).fileName()));
    return;
  }
  emit rendered(generation, pageIndex, dpi, image);
}

void PdfRenderer::close() {
  document_.reset();
  path_.clear();
}

}  // namespace sambalens::ui
