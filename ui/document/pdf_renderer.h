// Renders PDF pages with poppler-qt6 on a thread of its own, so opening a
// large PDF and painting its pages never stalls the GUI thread. Lives in
// PdfView's render thread; talk to it through queued calls only. Every
// answer carries the generation of the request, so answers about a document
// that has since been replaced are recognised and dropped.
#pragma once

#include <QImage>
#include <QList>
#include <QObject>
#include <QSizeF>
#include <memory>

namespace Poppler {
class Document;
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
  std::unique_ptr<Poppler::Document> document_;
  QString path_;
};

}  // namespace sambalens::ui
