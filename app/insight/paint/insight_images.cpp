#include "insight_images.h"

#include <QGuiApplication>
#include <QPainter>
#include <QSaveFile>
#include <cmath>

#include "passkey_heatmap_painter.h"

namespace sambalens {

QFont defaultChartFont() {
  QFont font = QGuiApplication::font();
  font.setPixelSize(13);
  return font;
}

namespace {

QImage blank(const QSizeF& size) {
  QImage image(QSize(int(std::ceil(size.width())), int(std::ceil(size.height()))), QImage::Format_RGB32);
  image.fill(Qt::white);
  return image;
}

}  // namespace

QImage renderPasskeyHeatmap(const PasskeySweepRecord& sweep, const QFont& font) {
  const QSizeF size = PasskeyHeatmapPainter::preferredSize(sweep, font);
  QImage image = blank(size);
  QPainter painter(&image);
  PasskeyHeatmapPainter(sweep, size, font).paint(painter);
  return image;
}

QImage renderPasskeyComparison(const PasskeySweepRecord& left, const PasskeySweepRecord& right, const QFont& font) {
  const QSizeF a = PasskeyHeatmapPainter::preferredSize(left, font);
  const QSizeF b = PasskeyHeatmapPainter::preferredSize(right, font);
  const QSizeF one(std::max(a.width(), b.width()), std::max(a.height(), b.height()));
  QImage image = blank(QSizeF(one.width() * 2, one.height()));
  QPainter painter(&image);
  PasskeyHeatmapPainter(left, one, font).paint(painter);
  painter.translate(one.width(), 0);
  PasskeyHeatmapPainter(right, one, font).paint(painter);
  painter.resetTransform();
  painter.setPen(QColor(200, 200, 200));
  painter.drawLine(QPointF(one.width(), 0), QPointF(one.width(), one.height()));
  return image;
}

QImage renderEntropyOverview(const EntropyRunRecord& run, const EntropyGridOptions& grid,
                             const EntropyPositionOptions& positions, const QFont& font) {
  const QSizeF gridSize = EntropyGridPainter::preferredSize(run, font);
  const QSizeF chartSize(std::max<qreal>(gridSize.width(), 900), 460);
  const qreal width = std::max(gridSize.width(), chartSize.width());
  QImage image = blank(QSizeF(width, gridSize.height() + chartSize.height()));
  QPainter painter(&image);
  EntropyGridPainter(run, grid, QSizeF(width, gridSize.height()), font).paint(painter);
  painter.translate(0, gridSize.height());
  EntropyPositionPainter(run, positions, QSizeF(width, chartSize.height()), font).paint(painter);
  return image;
}

bool savePng(const QImage& image, const QString& path, QString* error) {
  QSaveFile file(path);
  if (!file.open(QIODevice::WriteOnly) || !image.save(&file, "PNG") || !file.commit()) {
    if (error) *error = QStringLiteral("cannot write %1: %2").arg(path, file.errorString());
    return false;
  }
  return true;
}

}  // namespace sambalens
