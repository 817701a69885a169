// How much drawing PDF pages in the render worker process costs against
// drawing them with poppler in-process, on a generated 300-page PDF: time to
// the first page (open + page sizes + page 1; for the worker also starting
// the process) and the time per page, one request at a time (latency) and
// two in flight (as the document view asks). A benchmark, not a test: ctest
// does not run it; its Markdown table goes to docs/BENCHMARKS.md.
//
//   QT_QPA_PLATFORM=offscreen build/tests/app/bench_pdf_render [--runs N] [--dpi D]
#include <QElapsedTimer>
#include <QGuiApplication>
#include <QSysInfo>
#include <QTest>
#include <QThread>
#include <algorithm>
#include <cstdio>
#include <functional>

#include "pdf_pages.h"
#include "pdf_render_client.h"
#include "test_support.h"

using namespace sambalens;
using namespace sambalens_test;

namespace {

constexpr int kPages = 300;

[[noreturn]] void fail(const QString& what) {
  std::fprintf(stderr, "bench_pdf_render: %s\n", qPrintable(what));
  std::exit(1);
}

double median(QList<double> v) {
  std::sort(v.begin(), v.end());
  return v.isEmpty() ? 0 : v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
}

double msSince(const QElapsedTimer& t) { return t.nsecsElapsed() / 1e6; }

struct Figures {
  QList<double> firstPageMs;   // one per run
  QList<double> perPageMs;     // every page of every run, one in flight
  QList<double> pipelinedMs;   // total / pages with two in flight, one per run
};

void inProcessRun(const QString& pdf, double dpi, Figures& f) {
  QElapsedTimer t;
  t.start();
  PdfPages pages;
  QString error;
  if (!pages.open(pdf, &error)) fail(error);
  if (pages.pageSizes().size() != kPages) fail(QStringLiteral("expected %1 pages").arg(kPages));
  if (pages.render(0, dpi, &error).isNull()) fail(error);
  f.firstPageMs.append(msSince(t));
  for (int i = 1; i < kPages; ++i) {
    QElapsedTimer p;
    p.start();
    if (pages.render(i, dpi, &error).isNull()) fail(error);
    f.perPageMs.append(msSince(p));
  }
  f.pipelinedMs.append(median(f.perPageMs));  // in-process there is nothing to overlap
}

void workerRun(const QString& pdf, double dpi, Figures& f) {
  PdfRenderClient client;
  bool opened = false;
  QString failure;
  int answered = 0;
  QObject::connect(&client, &PdfRenderClient::opened, [&](const QList<QSizeF>& sizes) {
    opened = true;
    if (sizes.size() != kPages) failure = QStringLiteral("expected %1 pages").arg(kPages);
  });
  QObject::connect(&client, &PdfRenderClient::openFailed, [&](const QString& m) { failure = m; });
  QObject::connect(&client, &PdfRenderClient::rendered, [&](int, double, const QImage& image) {
    if (image.isNull()) failure = QStringLiteral("null image");
    ++answered;
  });
  QObject::connect(&client, &PdfRenderClient::renderFailed, [&](int page, const QString& m) {
    failure = QStringLiteral("page %1: %2").arg(page + 1).arg(m);
  });
  auto waitUntil = [&](const std::function<bool()>& done) {
    while (!done() && failure.isEmpty()) QCoreApplication::processEvents(QEventLoop::WaitForMoreEvents, 50);
    if (!failure.isEmpty()) fail(failure);
  };
  QElapsedTimer t;
  t.start();
  client.open(pdf);
  client.render(0, dpi);  // asked at once, as the view does once it knows the sizes
  waitUntil([&] { return opened && answered == 1; });
  f.firstPageMs.append(msSince(t));
  for (int i = 1; i < kPages; ++i) {
    QElapsedTimer p;
    p.start();
    client.render(i, dpi);
    waitUntil([&] { return answered == i + 1; });
    f.perPageMs.append(msSince(p));
  }
  // Two in flight, as PdfView keeps them: the worker draws one while the
  // other's pixels cross the pipe.
  answered = 0;
  QElapsedTimer all;
  all.start();
  int asked = 0;
  while (answered < kPages) {
    while (asked < kPages && asked - answered < 2) client.render(asked++, dpi);
    const int before = answered;
    waitUntil([&] { return answered > before; });
  }
  f.pipelinedMs.append(msSince(all) / kPages);
  if (client.workersStarted() != 1) fail(QStringLiteral("the worker restarted"));
}

}  // namespace

int main(int argc, char** argv) {
  QGuiApplication app(argc, argv);
  int runs = 3;
  double dpi = 110;  // about what a page fitted to a 900-pixel-wide view is drawn at
  for (int i = 1; i + 1 < argc; ++i) {
    if (QByteArray(argv[i]) == "--runs") runs = qMax(1, QByteArray(argv[i + 1]).toInt());
    if (QByteArray(argv[i]) == "--dpi") dpi = QByteArray(argv[i + 1]).toDouble();
  }
  const QString pdf = freshDir(QStringLiteral("bench-pdf-render")) + QStringLiteral("/300.pdf");
  QStringList pages;
  for (int p = 1; p <= kPages; ++p) {
    QString text;
    for (int l = 0; l < 40; ++l) text += QStringLiteral("Section %1, line %2: terms and conditions apply.\n").arg(p).arg(l);
    pages.append(text);
  }
  makeTextPdf(pdf, pages);

  Figures inProcess, worker;
  for (int r = 0; r < runs; ++r) {
    std::fprintf(stderr, "run %d of %d\n", r + 1, runs);
    inProcessRun(pdf, dpi, inProcess);
    workerRun(pdf, dpi, worker);
  }
  std::printf("PDF pages in-process vs in the render worker (`sambalens-pdf-render`): %d-page generated PDF "
              "(40 text lines a page), %.0f dpi, median of %d runs; %s, %d threads.\n\n",
              kPages, dpi, runs, qPrintable(QSysInfo::prettyProductName()), QThread::idealThreadCount());
  std::printf("| | in-process poppler | render worker |\n|---|---:|---:|\n");
  std::printf("| time to first page (open, %d page sizes, page 1) | %.1f ms | %.1f ms |\n", kPages,
              median(inProcess.firstPageMs), median(worker.firstPageMs));
  std::printf("| per page, one request at a time (median) | %.2f ms | %.2f ms |\n", median(inProcess.perPageMs),
              median(worker.perPageMs));
  std::printf("| per page, two in flight (as the view asks) | %.2f ms | %.2f ms |\n", median(inProcess.pipelinedMs),
              median(worker.pipelinedMs));
  return 0;
}
