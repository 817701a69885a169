#include "pdf_view.h"

#include <QKeyEvent>
#include <QPainter>
#include <QScrollBar>
#include <QWheelEvent>
#include <algorithm>
#include <cmath>

#include "pdf_renderer.h"

namespace sambalens::ui {

namespace {
constexpr int kMargin = 12;          // around and between pages
constexpr int kMaxInFlight = 2;      // render requests at a time
constexpr int kMaxCachedPages = 16;  // bounded memory for long documents
constexpr double kMinZoom = 0.25, kMaxZoom = 6.0;
}  // namespace

PdfView::PdfView(QWidget* parent) : QAbstractScrollArea(parent) {
  qRegisterMetaType<QList<QSizeF>>();
  setFocusPolicy(Qt::StrongFocus);
  viewport()->setAutoFillBackground(true);
  QPalette p = viewport()->palette();
  p.setColor(QPalette::Window, QColor(0x5f, 0x63, 0x68));
  viewport()->setPalette(p);
  // Always there, so that its appearing never changes the width the pages
  // are fitted to (which could flip it back and forth).
  setVerticalScrollBarPolicy(Qt::ScrollBarAlwaysOn);
  verticalScrollBar()->setSingleStep(40);
  horizontalScrollBar()->setSingleStep(40);

  renderer_ = new PdfRenderer;
  renderer_->moveToThread(&thread_);
  thread_.setObjectName(QStringLiteral("pdf-render"));
  connect(&thread_, &QThread::finished, renderer_, &QObject::deleteLater);
  connect(renderer_, &PdfRenderer::opened, this, &PdfView::onOpened);
  connect(renderer_, &PdfRenderer::openFailed, this, &PdfView::onOpenFailed);
  connect(renderer_, &PdfRenderer::rendered, this, &PdfView::onRendered);
  connect(renderer_, &PdfRenderer::renderFailed, this, &PdfView::onRenderFailed);
  thread_.start();

  renderTimer_.setSingleShot(true);
  renderTimer_.setInterval(0);
  connect(&renderTimer_, &QTimer::timeout, this, &PdfView::requestRenders);
}

PdfView::~PdfView() {
  thread_.quit();
  thread_.wait();
}

void PdfView::open(const QString& path) {
  close();
  path_ = path;
  const quint64 generation = generation_;
  PdfRenderer* renderer = renderer_;
  QMetaObject::invokeMethod(renderer, [renderer, generation, path] { renderer->open(generation, path); },
                            Qt::QueuedConnection);
}

void PdfView::close() {
  ++generation_;  // answers about the previous document are dropped
  // The render worker ends with the document (open() starts a new one).
  PdfRenderer* renderer = renderer_;
  QMetaObject::invokeMethod(renderer, [renderer] { renderer->close(); }, Qt::QueuedConnection);
  path_.clear();
  pageSizes_.clear();
  pageRects_.clear();
  cache_.clear();
  pending_.clear();
  failed_.clear();
  markedPage_ = -1;
  pendingShow_ = 0;
  lastReportedPage_ = -1;
  openError_.clear();
  zoom_ = 1.0;
  relayout();
  viewport()->update();
}

void PdfView::onOpened(quint64 generation, const QList<QSizeF>& sizes) {
  if (generation != generation_) return;
  pageSizes_ = sizes;
  relayout();
  if (pendingShow_ > 0) {
    showPage(pendingShow_, pendingMark_);
    pendingShow_ = 0;
  } else {
    verticalScrollBar()->setValue(0);
  }
  emit opened(pageCount());
  emit currentPageChanged(currentPage(), pageCount());
  renderTimer_.start(0);
  viewport()->update();
}

void PdfView::onOpenFailed(quint64 generation, const QString& message) {
  if (generation != generation_) return;
  openError_ = message;
  viewport()->update();
  emit openFailed(message);
}

void PdfView::onRendered(quint64 generation, int pageIndex, double dpi, const QImage& image) {
  if (generation != generation_) return;
  pending_.remove(pageIndex);
  Cached cached;
  cached.image = image;
  cached.image.setDevicePixelRatio(devicePixelRatioF());
  cached.scale = dpi / 72.0 / devicePixelRatioF();
  cache_.insert(pageIndex, cached);
  evict();
  if (pageIndex < pageRects_.size()) {
    viewport()->update(pageRects_[pageIndex].translated(-horizontalScrollBar()->value(), -verticalScrollBar()->value()));
  }
  if (isCurrent(cached)) emit pageRendered(pageIndex + 1);
  requestRenders();  // the next page in view, if any
}

void PdfView::onRenderFailed(quint64 generation, int pageIndex, const QString& message) {
  if (generation != generation_) return;
  pending_.remove(pageIndex);
  failed_.insert(pageIndex, message);
  viewport()->update();
  requestRenders();
}

void PdfView::relayout() {
  const int available = qMax(50, viewport()->width() - 2 * kMargin);
  double maxWidth = 1;
  for (const QSizeF& s : pageSizes_) maxWidth = std::max(maxWidth, s.width());
  scale_ = std::max(0.05, available / maxWidth * zoom_);
  pageRects_.clear();
  int y = kMargin;
  int widest = 0;
  for (const QSizeF& s : pageSizes_) {
    const QSize size(qRound(s.width() * scale_), qRound(s.height() * scale_));
    pageRects_.append(QRect(QPoint(0, y), size));
    widest = std::max(widest, size.width());
    y += size.height() + kMargin;
  }
  contentSize_ = QSize(widest + 2 * kMargin, pageSizes_.isEmpty() ? 0 : y);
  // Centre each page in the wider of the view and the content.
  const int span = std::max(contentSize_.width(), viewport()->width());
  for (QRect& r : pageRects_) r.moveLeft((span - r.width()) / 2);
  verticalScrollBar()->setPageStep(viewport()->height());
  verticalScrollBar()->setRange(0, std::max(0, contentSize_.height() - viewport()->height()));
  horizontalScrollBar()->setPageStep(viewport()->width());
  horizontalScrollBar()->setRange(0, std::max(0, contentSize_.width() - viewport()->width()));
}

bool PdfView::isCurrent(const Cached& cached) const { return std::abs(cached.scale - scale_) <= scale_ * 0.01; }

QPair<int, int> PdfView::visibleRange() const {
  const int top = verticalScrollBar()->value();
  const int bottom = top + viewport()->height();
  int first = -1, last = -1;
  for (int i = 0; i < pageRects_.size(); ++i) {
    if (pageRects_[i].bottom() < top) continue;
    if (pageRects_[i].top() > bottom) break;
    if (first < 0) first = i;
    last = i;
  }
  return {first, last};
}

void PdfView::requestRenders() {
  if (pageRects_.isEmpty()) return;
  const auto [first, last] = visibleRange();
  if (first < 0) return;
  // The pages in view first, then one on each side for smooth scrolling.
  QList<int> wanted;
  for (int i = first; i <= last; ++i) wanted.append(i);
  if (last + 1 < pageRects_.size()) wanted.append(last + 1);
  if (first > 0) wanted.append(first - 1);
  const double dpi = 72.0 * scale_ * devicePixelRatioF();
  for (int page : wanted) {
    if (pending_.size() >= kMaxInFlight) break;
    if (pending_.contains(page) || failed_.contains(page)) continue;
    const auto it = cache_.constFind(page);
    if (it != cache_.constEnd() && isCurrent(*it)) continue;
    pending_.insert(page);
    PdfRenderer* renderer = renderer_;
    const quint64 generation = generation_;
    QMetaObject::invokeMethod(renderer, [renderer, generation, page, dpi] { renderer->render(generation, page, dpi); },
                              Qt::QueuedConnection);
  }
}

void PdfView::evict() {
  if (cache_.size() <= kMaxCachedPages) return;
  const auto [first, last] = visibleRange();
  const int centre = first < 0 ? 0 : (first + last) / 2;
  QList<int> pages = cache_.keys();
  std::sort(pages.begin(), pages.end(), [centre](int a, int b) { return std::abs(a - centre) > std::abs(b - centre); });
  for (int i = 0; i < pages.size() && cache_.size() > kMaxCachedPages; ++i) cache_.remove(pages[i]);
}

void PdfView::showPage(int page, bool mark) {
  if (pageSizes_.isEmpty()) {
    pendingShow_ = page;
    pendingMark_ = mark;
    return;
  }
  const int index = std::clamp(page, 1, pageCount()) - 1;
  if (mark) markedPage_ = index;
  verticalScrollBar()->setValue(pageRects_[index].top() - kMargin / 2);
  viewport()->update();
  renderTimer_.start(0);
  emit currentPageChanged(currentPage(), pageCount());
}

int PdfView::currentPage() const {
  if (pageRects_.isEmpty()) return 0;
  // The page that holds the line a third down the view: the one being read.
  const int y = verticalScrollBar()->value() + viewport()->height() / 3;
  for (int i = 0; i < pageRects_.size(); ++i) {
    if (pageRects_[i].bottom() + kMargin >= y) return i + 1;
  }
  return pageCount();
}

bool PdfView::isPageRendered(int page) const {
  const auto it = cache_.constFind(page - 1);
  return it != cache_.constEnd() && isCurrent(*it);
}

bool PdfView::isPageVisible(int page) const {
  const auto [first, last] = visibleRange();
  return first >= 0 && page - 1 >= first && page - 1 <= last;
}

bool PdfView::visiblePagesRendered() const {
  const auto [first, last] = visibleRange();
  if (first < 0) return false;
  for (int i = first; i <= last; ++i) {
    if (!isPageRendered(i + 1) && !failed_.contains(i)) return false;
  }
  return true;
}

void PdfView::setZoom(double zoom) {
  zoom = std::clamp(zoom, kMinZoom, kMaxZoom);
  if (zoom == zoom_) return;
  // Keep the page being read in view across the change.
  const int page = currentPage();
  zoom_ = zoom;
  relayout();
  if (page > 0) verticalScrollBar()->setValue(pageRects_[page - 1].top() - kMargin / 2);
  viewport()->update();
  renderTimer_.start(150);  // after the last of a series of zoom steps
}

void PdfView::zoomIn() { setZoom(zoom_ * 1.25); }
void PdfView::zoomOut() { setZoom(zoom_ / 1.25); }
void PdfView::fitWidth() { setZoom(1.0); }

void PdfView::paintEvent(QPaintEvent* event) {
  QPainter painter(viewport());
  if (pageRects_.isEmpty()) {
    painter.setPen(QColor(0xee, 0xee, 0xee));
    const QString text = !openError_.isEmpty() ? openError_ : path_.isEmpty() ? QString() : tr("Opening…");
    painter.drawText(viewport()->rect().adjusted(20, 20, -20, -20), Qt::AlignCenter | Qt::TextWordWrap, text);
    return;
  }
  const QPoint offset(horizontalScrollBar()->value(), verticalScrollBar()->value());
  const QRect visible = event->rect().translated(offset);
  painter.translate(-offset);
  for (int i = 0; i < pageRects_.size(); ++i) {
    const QRect& r = pageRects_[i];
    if (r.bottom() < visible.top()) continue;
    if (r.top() > visible.bottom()) break;
    painter.fillRect(r.translated(2, 2), QColor(0, 0, 0, 60));  // shadow
    painter.fillRect(r, Qt::white);
    const auto it = cache_.constFind(i);
    if (it != cache_.constEnd()) {
      // A page drawn at another zoom is stretched until its new drawing arrives.
      painter.setRenderHint(QPainter::SmoothPixmapTransform, !isCurrent(*it));
      painter.drawImage(r, it->image);
    } else {
      painter.setPen(QColor(0x90, 0x90, 0x90));
      const QString text = failed_.contains(i) ? failed_.value(i) : tr("page %1").arg(i + 1);
      painter.drawText(r, Qt::AlignCenter | Qt::TextWordWrap, text);
    }
    if (i == markedPage_) {
      painter.setPen(QPen(QColor(0x2a, 0x7a, 0xe2), 3));
      painter.setBrush(Qt::NoBrush);
      painter.drawRect(r.adjusted(-2, -2, 2, 2));
    }
  }
}

void PdfView::resizeEvent(QResizeEvent* event) {
  QAbstractScrollArea::resizeEvent(event);
  const int page = currentPage();
  relayout();
  if (page > 0) verticalScrollBar()->setValue(pageRects_[page - 1].top() - kMargin / 2);
  renderTimer_.start(150);  // while the window is being resized, stretch; draw after
}

void PdfView::scrollContentsBy(int, int) {
  viewport()->update();
  if (!renderTimer_.isActive()) renderTimer_.start(0);
  const int page = currentPage();
  if (page != lastReportedPage_) {
    lastReportedPage_ = page;
    emit currentPageChanged(page, pageCount());
  }
}

void PdfView::wheelEvent(QWheelEvent* event) {
  if (event->modifiers() & Qt::ControlModifier) {
    if (event->angleDelta().y() > 0) zoomIn();
    if (event->angleDelta().y() < 0) zoomOut();
    event->accept();
    return;
  }
  QAbstractScrollArea::wheelEvent(event);
}

void PdfView::keyPressEvent(QKeyEvent* event) {
  switch (event->key()) {
    case Qt::Key_PageDown: verticalScrollBar()->triggerAction(QAbstractSlider::SliderPageStepAdd); return;
    case Qt::Key_PageUp: verticalScrollBar()->triggerAction(QAbstractSlider::SliderPageStepSub); return;
    case Qt::Key_Home: verticalScrollBar()->setValue(0); return;
    case Qt::Key_End: verticalScrollBar()->setValue(verticalScrollBar()->maximum()); return;
    default: QAbstractScrollArea::keyPressEvent(event);
  }
}

}  // namespace sambalens::ui
