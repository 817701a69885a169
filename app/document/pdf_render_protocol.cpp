#include "pdf_render_protocol.h"

#include <QJsonArray>
#include <QJsonDocument>

namespace sambalens::pdfrender {

namespace {
QByteArray line(const QJsonObject& object) {
  return QJsonDocument(object).toJson(QJsonDocument::Compact) + '\n';
}
}  // namespace

QByteArray openRequest(quint64 id, const QString& path, bool wantSizes) {
  return line(QJsonObject{{"op", "open"}, {"id", qint64(id)}, {"path", path}, {"sizes", wantSizes}});
}

QByteArray renderRequest(quint64 id, int pageIndex, double dpi) {
  return line(QJsonObject{{"op", "render"}, {"id", qint64(id)}, {"page", pageIndex}, {"dpi", dpi}});
}

QByteArray frame(const QJsonObject& header, const QByteArray& payload) {
  const QByteArray json = QJsonDocument(header).toJson(QJsonDocument::Compact);
  const quint32 n = quint32(json.size());
  QByteArray out;
  out.reserve(4 + json.size() + payload.size());
  out.append(char(n & 0xff)).append(char(n >> 8 & 0xff)).append(char(n >> 16 & 0xff)).append(char(n >> 24 & 0xff));
  out.append(json);
  out.append(payload);
  return out;
}

QJsonObject openedHeader(quint64 id, const QList<QSizeF>& pageSizes) {
  QJsonArray pages;
  for (const QSizeF& s : pageSizes) pages.append(QJsonArray{s.width(), s.height()});
  return QJsonObject{{"event", "opened"}, {"id", qint64(id)}, {"pages", pages}};
}

QJsonObject failedHeader(const char* event, quint64 id, int pageIndex, const QString& message) {
  return QJsonObject{{"event", QLatin1String(event)}, {"id", qint64(id)}, {"page", pageIndex}, {"message", message}};
}

QJsonObject pageHeader(quint64 id, int pageIndex, const QImage& image) {
  return QJsonObject{{"event", "page"},
                     {"id", qint64(id)},
                     {"page", pageIndex},
                     {"width", image.width()},
                     {"height", image.height()},
                     {"format", int(image.format())},
                     {"bytesPerLine", qint64(image.bytesPerLine())},
                     {"bytes", qint64(image.sizeInBytes())}};
}

QList<QSizeF> pageSizesFrom(const QJsonObject& header) {
  QList<QSizeF> sizes;
  for (const QJsonValue& v : header.value("pages").toArray()) {
    const QJsonArray wh = v.toArray();
    sizes.append(QSizeF(wh.at(0).toDouble(), wh.at(1).toDouble()));
  }
  return sizes;
}

QImage imageFor(const QJsonObject& header, QString* why) {
  const int width = header.value("width").toInt();
  const int height = header.value("height").toInt();
  const int format = header.value("format").toInt();
  const qint64 bytes = header.value("bytes").toInteger();
  if (width <= 0 || height <= 0 || format <= int(QImage::Format_Invalid) || format >= int(QImage::NImageFormats) ||
      bytes <= 0 || bytes > kMaxImageBytes) {
    *why = QStringLiteral("bad page header (%1 × %2, format %3, %4 bytes)").arg(width).arg(height).arg(format).arg(bytes);
    return QImage();
  }
  QImage image(width, height, QImage::Format(format));
  // Both sides allocate the image the same way, so the rows line up; a
  // worker that says otherwise is not speaking this protocol.
  if (image.isNull() || image.sizeInBytes() != bytes ||
      image.bytesPerLine() != header.value("bytesPerLine").toInteger()) {
    *why = QStringLiteral("page header does not match a %1 × %2 image of format %3").arg(width).arg(height).arg(format);
    return QImage();
  }
  return image;
}

void FrameReader::headerRead() {
  QJsonParseError parseError;
  const QJsonDocument json = QJsonDocument::fromJson(header_, &parseError);
  if (!json.isObject()) {
    error_ = QStringLiteral("bad frame header: %1").arg(parseError.errorString());
    return;
  }
  current_.header = json.object();
  payloadBytes_ = current_.header.value("bytes").toInteger();
  payloadRead_ = 0;
  if (payloadBytes_ < 0 || payloadBytes_ > kMaxImageBytes) {
    error_ = QStringLiteral("bad frame payload size %1").arg(payloadBytes_);
    return;
  }
  if (payloadBytes_ > 0 && current_.header.value("event").toString() == QLatin1String("page")) {
    QString why;
    current_.image = imageFor(current_.header, &why);
    if (current_.image.isNull()) {
      error_ = why;
      return;
    }
  } else if (payloadBytes_ > 0) {
    discard_.resize(64 * 1024);
  }
  state_ = State::Payload;
}

void FrameReader::reset() {
  state_ = State::Length;
  length_.clear();
  header_.clear();
  headerLength_ = 0;
  current_ = Frame{};
  payloadBytes_ = payloadRead_ = 0;
  error_.clear();
}

}  // namespace sambalens::pdfrender
