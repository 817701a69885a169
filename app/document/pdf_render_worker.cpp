#include "pdf_render_worker.h"

#include <unistd.h>

#include <QByteArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <cerrno>
#include <cstdlib>

#include "pdf_pages.h"
#include "pdf_render_protocol.h"

namespace sambalens {

namespace {

// Writes all of `data`; false when the app has gone (the pipe is closed).
bool writeAll(int fd, const char* data, qint64 size) {
  while (size > 0) {
    const ssize_t n = ::write(fd, data, size_t(size));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data += n;
    size -= n;
  }
  return true;
}

bool readLine(std::FILE* in, QByteArray* line) {
  line->clear();
  char buffer[8192];
  while (!line->endsWith('\n')) {
    if (!std::fgets(buffer, sizeof buffer, in)) return !line->isEmpty();
    line->append(buffer);
  }
  return true;
}

#ifdef SAMBALENS_PDF_RENDER_TEST_HOOKS
bool hookNamesPage(const char* variable, int pageIndex) {
  bool ok = false;
  const int page = qEnvironmentVariable(variable).toInt(&ok);
  return ok && page == pageIndex + 1;
}
#endif

// Sends the answer for a drawn page: the header, then the pixels straight
// from the image (no copy).
bool sendPage(int fd, quint64 id, int pageIndex, const QImage& image) {
  const QByteArray header = pdfrender::frame(pdfrender::pageHeader(id, pageIndex, image));
  const char* bits = reinterpret_cast<const char*>(image.constBits());
#ifdef SAMBALENS_PDF_RENDER_TEST_HOOKS
  if (hookNamesPage("SAMBALENS_PDF_RENDER_CRASH_PAGE", pageIndex)) {
    // Half an answer, then a crash: the app must drop the torn frame.
    writeAll(fd, header.constData(), header.size());
    writeAll(fd, bits, image.sizeInBytes() / 2);
    std::abort();
  }
#endif
  return writeAll(fd, header.constData(), header.size()) && writeAll(fd, bits, image.sizeInBytes());
}

}  // namespace

int runPdfRenderWorker(std::FILE* in, int outFd) {
  PdfPages pages;
  QByteArray line;
  while (readLine(in, &line)) {
    QJsonParseError parseError;
    const QJsonObject request = QJsonDocument::fromJson(line, &parseError).object();
    const QString op = request.value("op").toString();
    const quint64 id = quint64(request.value("id").toInteger());
    QByteArray answer;
    if (op == QLatin1String("open")) {
      QString error;
      if (pages.open(request.value("path").toString(), &error)) {
        // A restarted worker reopens without listing the sizes again.
        answer = pdfrender::frame(
            pdfrender::openedHeader(id, request.value("sizes").toBool(true) ? pages.pageSizes() : QList<QSizeF>{}));
      } else {
        answer = pdfrender::frame(pdfrender::failedHeader("openFailed", id, -1, error));
      }
    } else if (op == QLatin1String("render")) {
      const int pageIndex = request.value("page").toInt(-1);
#ifdef SAMBALENS_PDF_RENDER_TEST_HOOKS
      while (hookNamesPage("SAMBALENS_PDF_RENDER_HANG_PAGE", pageIndex)) ::pause();
#endif
      QString error;
      const QImage image = pages.render(pageIndex, request.value("dpi").toDouble(72.0), &error);
      if (!image.isNull()) {
        if (!sendPage(outFd, id, pageIndex, image)) return 0;  // the app has gone
        continue;
      }
      answer = pdfrender::frame(pdfrender::failedHeader("pageFailed", id, pageIndex, error));
    } else {
      answer = pdfrender::frame(pdfrender::failedHeader(
          "pageFailed", id, -1, QStringLiteral("render worker: bad request: %1").arg(parseError.errorString())));
    }
    if (!writeAll(outFd, answer.constData(), answer.size())) return 0;
  }
  return 0;
}

}  // namespace sambalens
