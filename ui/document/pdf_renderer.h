// The document view's link to the PDF render worker: pages are drawn by
// poppler in a child process (`sambalens-pdf-render`, through
// sambalens::PdfRenderClient), so a PDF that crashes or hangs poppler while
// drawing costs a page, with a message in its place, never the window.
// Lives in PdfView's render thread (so that even copying a page's pixels off
// the pipe happens off the GUI thread); talk to it through queued calls only.
// Every answer carries the generation of the request, so answers about a
// document that has since been replaced are recognised and dropped.
#pragma once

#include <QImage>
#include <QList>
#include <QObject>
#include <QSizeF>

namespace sambalens {
class PdfRenderClient;
}

namespace sambalens::ui {

class PdfRenderer : public QObject {
  Q_OBJECT

 public:
  PdfRenderer();
  ~PdfRenderer() override;

  // Opens `path` (replacing any document); emits opened or openFailed.
  void open(quint64 generation, const QString& path);
  // Renders page `pageIndex` (0-based) at `dpi`; emits rendered or renderFailed.
  void render(quint64 generation, int pageIndex, double dpi);
  void close();

 signals:
  // Page sizes in points (1/72 inch).
  void opened(quint64 generation, const QList<QSizeF>& pageSizes);
  void openFailed(quint64 generation, const QString& message);
  void rendered(quint64 generation, int pageIndex, double dpi, const QImage& image);
  void renderFailed(quint64 generation, int pageIndex, const QString& message);

 private:
  sambalens::PdfRenderClient* client();

  sambalens::PdfRenderClient* client_ = nullptr;  // made on the render thread, on first use
  quint64 generation_ = 0;  // of the document the client has open
};

}  // namespace sambalens::ui
