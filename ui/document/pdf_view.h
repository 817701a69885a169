// A PDF shown as a column of pages, scrolled continuously. Pages are drawn
// lazily: only the ones in view (and their neighbours) are rendered, by the
// render worker process (through PdfRenderer on the render thread), at most
// two requests in flight, with a small cache; while a page renders its place
// is drawn empty, so scrolling never waits. A page the worker could not draw
// (it crashed or hung on it) shows why in its place. A cited page can be
// shown and marked (showPage).
#pragma once

#include <QAbstractScrollArea>
#include <QHash>
#include <QImage>
#include <QList>
#include <QSet>
#include <QSizeF>
#include <QThread>
#include <QTimer>

namespace sambalens::ui {

class PdfRenderer;

class PdfView : public QAbstractScrollArea {
  Q_OBJECT

 public:
  explicit PdfView(QWidget* parent = nullptr);
  ~PdfView() override;

  // Opens `path` (asynchronously: pageCount() is 0 until `opened`).
  void open(const QString& path);
  void close();
  const QString& path() const { return path_; }
  bool isOpen() const { return !pageSizes_.isEmpty(); }
  int pageCount() const { return int(pageSizes_.size()); }

  // Scrolls to 1-based `page`; `mark` draws a frame around it (a citation
  // was followed). Before the document has opened, it is remembered.
  void showPage(int page, bool mark = true);
  // The 1-based page at the top of the view (0 when nothing is open).
  int currentPage() const;
  int markedPage() const { return markedPage_ + 1; }
  // Whether 1-based `page` has been drawn at the current zoom.
  bool isPageRendered(int page) const;
  // Whether any part of 1-based `page` is in view.
  bool isPageVisible(int page) const;
  // Whether every page in view is drawn (for the screenshot).
  bool visiblePagesRendered() const;
  // Why 1-based `page` could not be drawn (shown in its place); empty if it
  // was drawn or is still to be.
  QString pageMessage(int page) const { return failed_.value(page - 1); }

  double zoom() const { return zoom_; }

 public slots:
  void zoomIn();
  void zoomOut();
  void fitWidth();

 signals:
  void opened(int pageCount);
  void openFailed(const QString& message);
  void currentPageChanged(int page, int pageCount);
  void pageRendered(int page);

 protected:
  void paintEvent(QPaintEvent* event) override;
  void resizeEvent(QResizeEvent* event) override;
  void scrollContentsBy(int dx, int dy) override;
  void wheelEvent(QWheelEvent* event) override;
  void keyPressEvent(QKeyEvent* event) override;

 private:
  struct Cached {
    QImage image;
    double scale = 0;  // pixels per point it was drawn at
  };
  void onOpened(quint64 generation, const QList<QSizeF>& sizes);
  void onOpenFailed(quint64 generation, const QString& message);
  void onRendered(quint64 generation, int pageIndex, double dpi, const QImage& image);
  void onRenderFailed(quint64 generation, int pageIndex, const QString& message);
  void relayout();
  void setZoom(double zoom);
  QPair<int, int> visibleRange() const;  // first, last page index in view; -1 if none
  void requestRenders();
  void evict();
  bool isCurrent(const Cached& cached) const;

  QThread thread_;
  PdfRenderer* renderer_ = nullptr;
  quint64 generation_ = 0;
  QString path_;
  QList<QSizeF> pageSizes_;
  QList<QRect> pageRects_;  // in content coordinates
  QSize contentSize_;
  double scale_ = 1.0;      // pixels per point (fit width × zoom)
  double zoom_ = 1.0;
  QHash<int, Cached> cache_;
  QSet<int> pending_;       // page indices requested, not answered yet
  QHash<int, QString> failed_;
  int markedPage_ = -1;
  int pendingShow_ = 0;     // 1-based page to show once opened
  bool pendingMark_ = false;
  int lastReportedPage_ = -1;
  QString openError_;
  QTimer renderTimer_;      // coalesces render requests after scroll/resize
};

}  // namespace sambalens::ui
