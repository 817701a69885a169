// PDF pages drawn in the render worker process (app/document): the same
// pixels as poppler draws in-process, a worker that crashes half-way through
// an answer (the page says so, the next page still renders, the crashing
// page is tried twice and then never again), a worker that hangs (timed
// out), a missing worker program, and requests that never block the caller.
// The crash and hang come from the test worker's hooks
// (SAMBALENS_PDF_RENDER_CRASH_PAGE / _HANG_PAGE, see pdf_render_worker.h).
#include <QElapsedTimer>
#include <QGuiApplication>
#include <QSignalSpy>
#include <QJsonObject>
#include <QtTest>
#include <cstring>

#include "pdf_pages.h"
#include "pdf_render_client.h"
#include "pdf_render_protocol.h"
#include "test_support.h"

using namespace sambalens;
using namespace sambalens_test;

namespace {

// Sets an environment variable for the workers started while it lives.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const QByteArray& value) : name_(name) { qputenv(name, value); }
  ~ScopedEnv() { qunsetenv(name_); }

 private:
  const char* name_;
};

struct Answer {
  int page = -1;
  QImage image;
  QString error;
};

// Collects the client's answers in the order they come.
class Answers : public QObject {
 public:
  explicit Answers(PdfRenderClient& client) {
    connect(&client, &PdfRenderClient::rendered, this,
            [this](int page, double, const QImage& image) { list.append({page, image, {}}); });
    connect(&client, &PdfRenderClient::renderFailed, this,
            [this](int page, const QString& message) { list.append({page, {}, message}); });
  }
  bool waitFor(int count, int timeoutMs = 30000) {
    QElapsedTimer t;
    t.start();
    while (list.size() < count && t.elapsed() < timeoutMs) QTest::qWait(10);
    return list.size() >= count;
  }
  Answer forPage(int page) const {
    for (const Answer& a : list) {
      if (a.page == page) return a;
    }
    return {};
  }
  QList<Answer> list;
};

bool openAndWait(PdfRenderClient& client, const QString& path, QList<QSizeF>* sizes = nullptr) {
  QSignalSpy opened(&client, &PdfRenderClient::opened);
  QSignalSpy failed(&client, &PdfRenderClient::openFailed);
  client.open(path);
  QElapsedTimer t;
  t.start();
  while (opened.isEmpty() && failed.isEmpty() && t.elapsed() < 30000) QTest::qWait(10);
  if (opened.isEmpty()) {
    qWarning("not opened: %s", failed.isEmpty() ? "no answer in 30 s" : qPrintable(failed.front().at(0).toString()));
    return false;
  }
  if (sizes) *sizes = opened.front().at(0).value<QList<QSizeF>>();
  return true;
}

}  // namespace

class PdfRenderClientTest : public QObject {
  Q_OBJECT
  QString pdf_;       // text pages
  QString colours_;   // picture pages

  static QString worker() { return QStringLiteral(SAMBALENS_TEST_PDF_RENDER_WORKER); }
  static QString testWorker() { return QStringLiteral(SAMBALENS_TEST_PDF_RENDER_TEST_WORKER); }

 private slots:
  void initTestCase() {
    const QString dir = freshDir(QStringLiteral("pdf-render"));
    pdf_ = dir + QStringLiteral("/pages.pdf");
    QStringList pages;
    for (int p = 1; p <= 6; ++p) {
      pages.append(QStringLiteral("Page %1 of the render test.\nA second line, with numbers: %2.\nfin").arg(p).arg(p * 37));
    }
    makeTextPdf(pdf_, pages);
    colours_ = dir + QStringLiteral("/colours.pdf");
    makeImageOnlyPdf(colours_, 3);
  }

  void pagesEqualInProcessPoppler_data() {
    QTest::addColumn<QString>("which");
    QTest::addColumn<double>("dpi");
    QTest::newRow("text 72 dpi") << QStringLiteral("text") << 72.0;
    QTest::newRow("text 150 dpi") << QStringLiteral("text") << 150.0;
    QTest::newRow("pictures 96 dpi") << QStringLiteral("pictures") << 96.0;
  }
  void pagesEqualInProcessPoppler() {
    QFETCH(QString, which);
    QFETCH(double, dpi);
    const QString path = which == QLatin1String("text") ? pdf_ : colours_;
    PdfPages reference;
    QString error;
    QVERIFY2(reference.open(path, &error), qPrintable(error));

    PdfRenderClient client;
    client.setWorkerProgram(worker());
    QList<QSizeF> sizes;
    QVERIFY(openAndWait(client, path, &sizes));
    QCOMPARE(sizes, reference.pageSizes());
    Answers answers(client);
    for (int i = 0; i < sizes.size(); ++i) client.render(i, dpi);
    QVERIFY(answers.waitFor(int(sizes.size())));
    for (int i = 0; i < sizes.size(); ++i) {
      const Answer a = answers.list[i];
      QCOMPARE(a.page, i);  // answered in the order asked
      QVERIFY2(a.error.isEmpty(), qPrintable(a.error));
      const QImage expected = reference.render(i, dpi, &error);
      QVERIFY2(!expected.isNull(), qPrintable(error));
      QCOMPARE(a.image.size(), expected.size());
      QCOMPARE(a.image.format(), expected.format());
      QVERIFY2(a.image == expected, qPrintable(QStringLiteral("page %1 differs from in-process poppler").arg(i + 1)));
    }
    // The drawn page is not blank: the comparison compares something.
    const QImage first = answers.list[0].image;
    QVERIFY(first.pixel(0, 0) != first.pixel(first.width() / 2, first.height() / 2) ||
            first.convertToFormat(QImage::Format_Grayscale8).bits()[0] != 0);
    QCOMPARE(client.workersStarted(), 1);  // one worker for every page
  }

  void crashingPageGivesMessageAndNextPageRenders() {
    const ScopedEnv crash("SAMBALENS_PDF_RENDER_CRASH_PAGE", "2");
    PdfRenderClient client;
    client.setWorkerProgram(testWorker());
    QVERIFY(openAndWait(client, pdf_));
    Answers answers(client);
    // Page 2 is asked between two others: the one after it goes to a new worker.
    client.render(0, 72);
    client.render(1, 72);
    client.render(2, 72);
    QVERIFY(answers.waitFor(3));
    QVERIFY(answers.forPage(0).error.isEmpty() && !answers.forPage(0).image.isNull());
    QVERIFY2(answers.forPage(2).error.isEmpty() && !answers.forPage(2).image.isNull(), qPrintable(answers.forPage(2).error));
    const QString message = answers.forPage(1).error;
    QVERIFY(answers.forPage(1).image.isNull());
    QVERIFY2(message.contains(QStringLiteral("could not be drawn")) && message.contains(QStringLiteral("crashed")) &&
                 message.contains(QStringLiteral("page 2")),
             qPrintable(message));
    // Tried once more in a fresh worker, then given up: 1 + 2 restarts.
    QCOMPARE(client.workersStarted(), 3);
    // Asked again, it is not sent to a worker (that would crash it again).
    client.render(1, 150);
    QVERIFY(answers.waitFor(4));
    QCOMPARE(answers.list[3].error, message);
    // The other pages still render, in the worker that is running.
    client.render(3, 72);
    QVERIFY(answers.waitFor(5));
    QVERIFY2(!answers.list[4].image.isNull(), qPrintable(answers.list[4].error));
    QCOMPARE(client.workersStarted(), 3);
  }

  void crashAloneRestartsForTheNextRequest() {
    const ScopedEnv crash("SAMBALENS_PDF_RENDER_CRASH_PAGE", "1");
    PdfRenderClient client;
    client.setWorkerProgram(testWorker());
    QVERIFY(openAndWait(client, pdf_));
    Answers answers(client);
    client.render(0, 72);
    QVERIFY(answers.waitFor(1));
    QVERIFY(answers.list[0].error.contains(QStringLiteral("crashed")));
    QCOMPARE(client.workersStarted(), 2);
    // Nothing was pending: the next request starts a worker, which reopens the file.
    client.render(4, 72);
    QVERIFY(answers.waitFor(2));
    QVERIFY2(!answers.list[1].image.isNull(), qPrintable(answers.list[1].error));
    QCOMPARE(client.workersStarted(), 3);
  }

  void hungWorkerTimesOut() {
    const ScopedEnv hang("SAMBALENS_PDF_RENDER_HANG_PAGE", "3");
    PdfRenderClient client;
    client.setWorkerProgram(testWorker());
    client.setTimeout(1500);
    QVERIFY(openAndWait(client, pdf_));
    Answers answers(client);
    QElapsedTimer clock;
    clock.start();
    client.render(2, 72);
    client.render(3, 72);
    QVERIFY(answers.waitFor(2, 20000));
    const qint64 elapsed = clock.elapsed();
    QVERIFY2(elapsed >= 1400 && elapsed < 15000, qPrintable(QString::number(elapsed)));
    const QString message = answers.forPage(2).error;
    QVERIFY2(message.contains(QStringLiteral("stopped responding")) && message.contains(QStringLiteral("page 3")),
             qPrintable(message));
    QVERIFY2(!answers.forPage(3).image.isNull(), qPrintable(answers.forPage(3).error));
    // A hang is not retried: one restart only.
    QCOMPARE(client.workersStarted(), 2);
  }

  void requestsNeverBlockTheCaller() {
    // The worker hangs on page 1; open() and render() still return at once,
    // and the caller's event loop keeps turning while the answer is owed.
    const ScopedEnv hang("SAMBALENS_PDF_RENDER_HANG_PAGE", "1");
    PdfRenderClient client;
    client.setWorkerProgram(testWorker());
    client.setTimeout(2000);
    QElapsedTimer call;
    call.start();
    client.open(pdf_);
    client.render(0, 300);
    QVERIFY2(call.elapsed() < 200, qPrintable(QString::number(call.elapsed())));
    int ticks = 0;
    QTimer ticker;
    connect(&ticker, &QTimer::timeout, [&] { ++ticks; });
    ticker.start(10);
    Answers answers(client);
    QVERIFY(answers.waitFor(1, 20000));
    QVERIFY(answers.list[0].error.contains(QStringLiteral("stopped responding")));
    QVERIFY2(ticks >= 50, qPrintable(QString::number(ticks)));  // ~2 s of 10 ms ticks, with room to spare
  }

  void missingWorkerIsAClearMessage() {
    PdfRenderClient client;
    client.setWorkerProgram(QStringLiteral("/nonexistent/sambalens-pdf-render"));
    QSignalSpy failed(&client, &PdfRenderClient::openFailed);
    client.open(pdf_);
    QTRY_VERIFY_WITH_TIMEOUT(!failed.isEmpty(), 10000);
    const QString message = failed.front().at(0).toString();
    QVERIFY2(message.contains(QStringLiteral("pages.pdf")) && message.contains(QStringLiteral("/nonexistent/sambalens-pdf-render")),
             qPrintable(message));
    Answers answers(client);
    client.render(0, 72);
    QVERIFY(answers.waitFor(1));
    QVERIFY(!answers.list[0].error.isEmpty());
  }

  void damagedPdfFailsToOpenWithItsName() {
    const QString broken = freshDir(QStringLiteral("pdf-render-broken")) + QStringLiteral("/broken.pdf");
    writeFile(broken, QByteArray("%PDF-1.4\nnot really a pdf\n"));
    PdfRenderClient client;
    client.setWorkerProgram(worker());
    QSignalSpy failed(&client, &PdfRenderClient::openFailed);
    client.open(broken);
    QTRY_VERIFY_WITH_TIMEOUT(!failed.isEmpty(), 10000);
    QVERIFY2(failed.front().at(0).toString().contains(QStringLiteral("broken.pdf")),
             qPrintable(failed.front().at(0).toString()));
  }

  void framesSurviveArrivingInPieces() {
    QImage image(37, 11, QImage::Format_ARGB32);
    for (int y = 0; y < image.height(); ++y) {
      for (int x = 0; x < image.width(); ++x) image.setPixel(x, y, qRgba(x * 7, y * 20, x ^ y, 255 - x));
    }
    QByteArray stream = pdfrender::frame(pdfrender::openedHeader(1, {QSizeF(595, 842), QSizeF(612, 792)}));
    const QJsonObject header = pdfrender::pageHeader(2, 5, image);
    stream += pdfrender::frame(header, QByteArray(reinterpret_cast<const char*>(image.constBits()), image.sizeInBytes()));
    stream += pdfrender::frame(pdfrender::failedHeader("pageFailed", 3, 6, QStringLiteral("no such page: 7")));
    // Delivered a few bytes at a time, as a pipe may.
    pdfrender::FrameReader reader;
    QList<pdfrender::FrameReader::Frame> frames;
    qsizetype at = 0;
    for (qsizetype chunk = 1; at < stream.size(); chunk = chunk % 13 + 1) {
      const QByteArray piece = stream.mid(at, chunk);
      at += piece.size();
      qsizetype used = 0;
      frames += reader.take([&](char* data, qint64 size) {
        const qint64 n = std::min<qint64>(size, piece.size() - used);
        std::memcpy(data, piece.constData() + used, size_t(n));
        used += n;
        return n;
      });
      QVERIFY(reader.error().isEmpty());
    }
    QCOMPARE(frames.size(), 3);
    QCOMPARE(pdfrender::pageSizesFrom(frames[0].header), (QList<QSizeF>{QSizeF(595, 842), QSizeF(612, 792)}));
    QCOMPARE(frames[1].header.value("page").toInt(), 5);
    QCOMPARE(frames[1].image, image);
    QCOMPARE(frames[2].header.value("message").toString(), QStringLiteral("no such page: 7"));
  }

  void brokenFrameIsAnErrorNotACrash() {
    pdfrender::FrameReader reader;
    const QByteArray garbage = QByteArray("\xff\xff\xff\x7f", 4) + "junk";
    qsizetype used = 0;
    const auto frames = reader.take([&](char* data, qint64 size) {
      const qint64 n = std::min<qint64>(size, garbage.size() - used);
      std::memcpy(data, garbage.constData() + used, size_t(n));
      used += n;
      return n;
    });
    QVERIFY(frames.isEmpty());
    QVERIFY(!reader.error().isEmpty());
    // A page header whose size does not match its format is refused too.
    QJsonObject header{{"event", "page"}, {"id", 1}, {"page", 0}, {"width", 10}, {"height", 10},
                       {"format", int(QImage::Format_ARGB32)}, {"bytesPerLine", 40}, {"bytes", 399}};
    QString why;
    QVERIFY(pdfrender::imageFor(header, &why).isNull());
    QVERIFY(!why.isEmpty());
  }
};

int main(int argc, char** argv) {
  QGuiApplication app(argc, argv);
  PdfRenderClientTest test;
  return QTest::qExec(&test, argc, argv);
}

#include "test_pdf_render_client.moc"
