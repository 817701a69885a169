#include "pdf_renderer.h"

#include "pdf_render_client.h"

namespace sambalens::ui {

PdfRenderer::PdfRenderer() = default;
PdfRenderer::~PdfRenderer() = default;  // client_ is a child: it ends its worker

sambalens::PdfRenderClient* PdfRenderer::client() {
  if (client_) return client_;
  // Created here, on the render thread, so that its process and timer live there.
  client_ = new sambalens::PdfRenderClient(this);
  connect(client_, &PdfRenderClient::opened, this, [this](const QList<QSizeF>& sizes) { emit opened(generation_, sizes); });
  connect(client_, &PdfRenderClient::openFailed, this,
          [this](const QString& message) { emit openFailed(generation_, message); });
  connect(client_, &PdfRenderClient::rendered, this, [this](int pageIndex, double dpi, const QImage& image) {
    emit rendered(generation_, pageIndex, dpi, image);
  });
  connect(client_, &PdfRenderClient::renderFailed, this,
          [this](int pageIndex, const QString& message) { emit renderFailed(generation_, pageIndex, message); });
  return client_;
}

void PdfRenderer::open(quint64 generation, const QString& path) {
  generation_ = generation;
  client()->open(path);
}

void PdfRenderer::render(quint64 generation, int pageIndex, double dpi) {
  // A request about a document that has since been replaced: it is dropped
  // by the view anyway, so the worker is not asked.
  if (generation != generation_) {
    emit renderFailed(generation, pageIndex, tr("no such page"));
    return;
  }
  client()->render(pageIndex, dpi);
}

void PdfRenderer::close() {
  if (client_) client_->close();
}

}  // namespace sambalens::ui
