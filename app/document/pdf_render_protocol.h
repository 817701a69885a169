// The protocol between the app and the PDF render worker
// (`sambalens-pdf-render`, see pdf_render_worker.h).
//
// Requests, app → worker on stdin: one compact JSON object per line:
//   {"op":"open","id":1,"path":"/a/b.pdf","sizes":true}
//   {"op":"render","id":2,"page":0,"dpi":96.0}          (page 0-based)
// The worker answers every request, in order, on stdout with one frame:
//   u32 (little-endian) header length, then the header (compact JSON), then
//   header.bytes bytes of payload (0 when absent):
//   {"event":"opened","id":1,"pages":[[595,842],...]}   (points; [] when sizes:false)
//   {"event":"openFailed","id":1,"message":"..."}
//   {"event":"page","id":2,"page":0,"width":w,"height":h,"format":f,
//    "bytesPerLine":b,"bytes":b*h}  + the QImage's raw bits (format f = QImage::Format)
//   {"event":"pageFailed","id":2,"page":0,"message":"..."}
// Raw bits rather than PNG: a page at 110 dpi is 4.7 MB of pixels; passing
// them through the pipe adds ~2 ms a page (tests/app/bench_pdf_render), where
// PNG would add a zlib encode in the worker and a decode in the app on top.
#pragma once

#include <QByteArray>
#include <QImage>
#include <QJsonObject>
#include <QList>
#include <QSizeF>
#include <QString>

namespace sambalens::pdfrender {

// Frame headers longer than this are a broken stream, not a page list.
constexpr quint32 kMaxHeaderBytes = 64u * 1024u * 1024u;
// Nor is a page larger than this (e.g. 20000 × 20000 pixels × 4 bytes).
constexpr qint64 kMaxImageBytes = qint64(1600) * 1024 * 1024;

QByteArray openRequest(quint64 id, const QString& path, bool wantSizes);
QByteArray renderRequest(quint64 id, int pageIndex, double dpi);

// A frame (header + payload) as the worker writes it.
QByteArray frame(const QJsonObject& header, const QByteArray& payload = QByteArray());
QJsonObject openedHeader(quint64 id, const QList<QSizeF>& pageSizes);
QJsonObject failedHeader(const char* event, quint64 id, int pageIndex, const QString& message);
// The header for `image`; its payload is constBits(), sizeInBytes() long.
QJsonObject pageHeader(quint64 id, int pageIndex, const QImage& image);

QList<QSizeF> pageSizesFrom(const QJsonObject& openedHeader);
// An image of the header's size and format, ready to be filled with the
// payload; null (and `why` set) when the header does not describe one.
QImage imageFor(const QJsonObject& pageHeader, QString* why);

// Reads frames from a stream of bytes that arrive in pieces (the worker's
// stdout). Image payloads are read straight into their QImage.
class FrameReader {
 public:
  struct Frame {
    QJsonObject header;
    QImage image;  // for "page" frames
  };
  // Appends what `read` gives (called with a buffer and its size, returns
  // the bytes read, 0 when nothing is left) and returns the frames that are
  // complete. After a malformed frame, error() is set and nothing more is read.
  template <typename ReadFn>
  QList<Frame> take(ReadFn read);
  const QString& error() const { return error_; }
  // Forgets a partly read frame (the worker was restarted).
  void reset();

 private:
  bool fill(QByteArray& into, qint64 want, const auto& read);
  void headerRead();

  enum class State { Length, Header, Payload } state_ = State::Length;
  QByteArray length_;
  QByteArray header_;
  quint32 headerLength_ = 0;
  Frame current_;
  qint64 payloadBytes_ = 0;
  qint64 payloadRead_ = 0;
  QByteArray discard_;  // payload of a frame whose header had no image
  QString error_;
};

template <typename ReadFn>
QList<FrameReader::Frame> FrameReader::take(ReadFn read) {
  QList<Frame> done;
  while (error_.isEmpty()) {
    if (state_ == State::Length) {
      if (!fill(length_, 4, read)) break;
      const auto* b = reinterpret_cast<const uchar*>(length_.constData());
      headerLength_ = quint32(b[0]) | quint32(b[1]) << 8 | quint32(b[2]) << 16 | quint32(b[3]) << 24;
      if (headerLength_ == 0 || headerLength_ > kMaxHeaderBytes) {
        error_ = QStringLiteral("bad frame header length %1").arg(headerLength_);
        break;
      }
      state_ = State::Header;
    }
    if (state_ == State::Header) {
      if (!fill(header_, headerLength_, read)) break;
      headerRead();
      if (!error_.isEmpty()) break;
    }
    if (state_ == State::Payload) {
      while (payloadRead_ < payloadBytes_) {
        char* into = current_.image.isNull() ? discard_.data() : reinterpret_cast<char*>(current_.image.bits());
        const qint64 got = current_.image.isNull()
                               ? read(discard_.data(), std::min<qint64>(discard_.size(), payloadBytes_ - payloadRead_))
                               : read(into + payloadRead_, payloadBytes_ - payloadRead_);
        if (got <= 0) break;
        payloadRead_ += got;
      }
      if (payloadRead_ < payloadBytes_) break;
    }
    done.append(std::move(current_));
    current_ = Frame{};
    length_.clear();
    header_.clear();
    payloadBytes_ = payloadRead_ = 0;
    state_ = State::Length;
  }
  return done;
}

bool FrameReader::fill(QByteArray& into, qint64 want, const auto& read) {
  while (into.size() < want) {
    char buffer[4096];
    const qint64 got = read(buffer, std::min<qint64>(sizeof buffer, want - into.size()));
    if (got <= 0) return false;
    into.append(buffer, got);
  }
  return true;
}

}  // namespace sambalens::pdfrender
