// One PDF opened with poppler-qt6, drawn page by page. Only the render
// worker (`sambalens-pdf-render`) links this in the app: a damaged or hostile
// PDF that crashes poppler while drawing ends that process, not the window.
// The tests and the benchmark use it too, as the in-process reference.
#pragma once

#include <QImage>
#include <QList>
#include <QSizeF>
#include <QString>
#include <memory>

namespace Poppler {
class Document;
}

namespace sambalens {

class PdfPages {
 public:
  PdfPages();
  ~PdfPages();
  PdfPages(const PdfPages&) = delete;
  PdfPages& operator=(const PdfPages&) = delete;

  // Opens `path`, replacing any document; false with `error` set to a
  // message naming the file when it cannot be shown.
  bool open(const QString& path, QString* error);
  bool isOpen() const { return document_ != nullptr; }
  int pageCount() const;
  // Each page's size in points (1/72 inch); a page that cannot be read keeps
  // a place of A4 size, so numbering holds.
  QList<QSizeF> pageSizes() const;
  // Page `pageIndex` (0-based) drawn at `dpi`; null with `error` set when it
  // cannot be drawn.
  QImage render(int pageIndex, double dpi, QString* error) const;
  void close();

 private:
  std::unique_ptr<Poppler::Document> document_;
  QString path_;
};

}  // namespace sambalens
