// How long the GUI thread stalls (the longest gap between the ticks of a
// 5 ms timer) while the window streams an answer and while it imports and
// shows a long PDF; and how long a 300-page PDF takes through the import
// worker, beside `pdftotext` on the same file. A benchmark, not a test:
// ctest does not run it; its Markdown table goes to docs/BENCHMARKS.md.
// The tests (test_window_analysis, test_window_import) assert only that the
// event loop keeps turning, which does not depend on the machine's speed.
//
//   QT_QPA_PLATFORM=offscreen build/tests/ui/bench_gui_stalls [--runs N]
#include <QApplication>
#include <QDateTime>
#include <QElapsedTimer>
#include <QProcess>
#include <QPushButton>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QSysInfo>
#include <QTest>
#include <QThread>
#include <QTimer>
#include <QLocale>
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <functional>

#include "analysis/analysis_pane.h"
#include "analysis/transcript_view.h"
#include "document/document_view.h"
#include "document/pdf_view.h"
#include "import_service.h"
#include "library/document_list_model.h"
#include "library/import_queue.h"
#include "test_support.h"
#include "ui_test_support.h"

using namespace sambalens;
using namespace sambalens::ui;
using namespace sambalens_test;

namespace {

// The longest gap between deliveries of a 5 ms precise timer while `work`
// runs (it spins the event loop itself). `counting` says when gaps count.
class StallMeter {
 public:
  explicit StallMeter(std::function<bool()> counting = [] { return true; }) : counting_(std::move(counting)) {
    ticker_.setTimerType(Qt::PreciseTimer);
    QObject::connect(&ticker_, &QTimer::timeout, [this] {
      const qint64 now = clock_.elapsed();
      if (last_ >= 0 && counting_()) longest_ = qMax(longest_, now - last_);
      last_ = now;
    });
    clock_.start();
    ticker_.start(5);
  }
  qint64 stop() {
    ticker_.stop();
    return longest_;
  }

 private:
  std::function<bool()> counting_;
  QTimer ticker_;
  QElapsedTimer clock_;
  qint64 last_ = -1;
  qint64 longest_ = 0;
};

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "bench_gui_stalls: %s\n", what);
  std::exit(1);
}

QStringList pages(int count, const QString& line, int linesPerPage) {
  QStringList out;
  for (int p = 1; p <= count; ++p) {
    QString text;
    for (int l = 0; l < linesPerPage; ++l) text += line.arg(p).arg(l) + QLatin1Char('\n');
    out.append(text);
  }
  return out;
}

struct Streamed {
  qint64 stallMs = 0;
  qint64 tokens = 0;
  double tokensPerSecond = 0;
};

// As tests/ui/test_window_analysis did: 30,000 tokens of the tiny model
// streamed into the pane; gaps count from the first batch of text to the
// final render.
Streamed streamOnce(const QString& pdf) {
  WindowOptions options = WindowFixture::defaultOptions();
  options.maxNewTokens = 30000;
  WindowFixture w(options);
  if (!w.waitForModel()) fail("the tiny model did not load");
  if (!dropFiles(w.window.get(), {pdf}) || !w.waitForImports()) fail("the report did not import");
  if (!QTest::qWaitFor([&] { return w->analysisPane()->presetButton(QStringLiteral("summarize"))->isEnabled(); }, 30000)) {
    fail("Summarize never became available");
  }
  AnalysisController& analysis = w.context->analysis();
  QSignalSpy finished(&analysis, &AnalysisController::finished);
  QSignalSpy deltas(&analysis, &AnalysisController::textDelta);
  StallMeter meter([&] { return !deltas.isEmpty(); });
  w->runPreset(QStringLiteral("summarize"));
  if (!finished.wait(300000)) fail("the answer did not finish");
  QTest::qWait(50);  // the final render
  Streamed out;
  out.stallMs = meter.stop();
  const GenerationStats stats = finished.at(0).at(1).value<GenerationStats>();
  out.tokens = stats.outputTokens;
  out.tokensPerSecond = stats.decodeTokensPerSecond;
  return out;
}

struct Imported {
  qint64 stallMs = 0;
  qint64 totalMs = 0;
};

// As tests/ui/test_window_import did: a 500-page PDF dropped on a fresh
// window (empty import cache), imported, counted and its first pages drawn.
Imported importAndShowOnce(const QString& pdf) {
  WindowFixture w;
  if (!w.waitForModel()) fail("the tiny model did not load");
  StallMeter meter;
  QElapsedTimer clock;
  clock.start();
  if (!dropFiles(w.window.get(), {pdf}) || !w.waitForImports(300000)) fail("the long PDF did not import");
  if (!QTest::qWaitFor([&] { return w->documents()->rowCount() == 1 && w->documents()->tokens(0) > 0; }, 120000) ||
      !QTest::qWaitFor([&] { return w->documentView()->pdfView()->visiblePagesRendered(); }, 30000)) {
    fail("the long PDF was not shown");
  }
  Imported out;
  out.totalMs = clock.elapsed();
  out.stallMs = meter.stop();
  if (w->documents()->document(0).pageCount != 500) fail("the long PDF lost pages");
  return out;
}

// A 300-page PDF through the import worker process (no cache), the way
// tests/app/test_import_service imports it.
Imported workerImportOnce(const QString& pdf) {
  ImportService service;
  service.setImporterDirectories({QStringLiteral(SAMBALENS_TEST_IMPORTER_DIR)});
  service.setWorkerCommand(QStringLiteral(SAMBALENS_TEST_BINARY), {QStringLiteral("--import-worker")});
  QSignalSpy finished(&service, &ImportService::finished);
  StallMeter meter;
  QElapsedTimer clock;
  clock.start();
  service.start({pdf});
  if (!finished.wait(120000)) fail("the 300-page import did not finish");
  Imported out;
  out.totalMs = clock.elapsed();
  out.stallMs = meter.stop();
  const auto docs = finished.front().at(0).value<QList<ImportedDocument>>();
  if (docs.size() != 1 || !docs.front().ok() || docs.front().pageCount != 300) fail("the 300-page import failed");
  return out;
}

qint64 pdftotextOnce(const QString& program, const QString& pdf) {
  QElapsedTimer clock;
  clock.start();
  QProcess p;
  p.start(program, {pdf, QStringLiteral("-")});
  if (!p.waitForFinished(120000) || p.exitCode() != 0) fail("pdftotext failed");
  p.readAllStandardOutput();
  return clock.elapsed();
}

QString number(double v) { return QLocale(QLocale::English).toString(qint64(std::llround(v))); }

// "median unit (min–max)".
template <typename T>
QString spread(QList<T> values, const char* unit) {
  std::sort(values.begin(), values.end());
  const QString range = values.size() > 1 ? number(double(values.front())) + QStringLiteral("–") + number(double(values.back()))
                                          : QStringLiteral("one run");
  return QStringLiteral("%1 %2 (%3)").arg(number(double(values[values.size() / 2])), QLatin1String(unit), range);
}

// The target for a GUI stall, judged on the worst run.
QString stallTarget(const QList<qint64>& stalls) {
  const qint64 worst = *std::max_element(stalls.begin(), stalls.end());
  return worst <= 50 ? QStringLiteral("≤ 50 ms — met") : QStringLiteral("≤ 50 ms — not met (worst run %1 ms)").arg(worst);
}

}  // namespace

int main(int argc, char** argv) {
  QApplication app(argc, argv);
  int runs = 5;
  for (int i = 1; i + 1 < argc; ++i) {
    if (QByteArray(argv[i]) == "--runs") runs = qMax(1, QByteArray(argv[i + 1]).toInt());
  }
  isolateSettings();
  const QString dir = freshDir(QStringLiteral("bench-gui-stalls"));
  const QString report = dir + QStringLiteral("/report.pdf");
  makeTextPdf(report, pages(3, QStringLiteral("Page %1 line %2: the quarterly report says revenue grew and costs fell."), 30));
  const QString longPdf = dir + QStringLiteral("/long.pdf");
  makeTextPdf(longPdf, pages(500, QStringLiteral("Section %1, line %2: terms and conditions apply."), 40));
  QStringList shortPages;
  for (int i = 1; i <= 300; ++i) {
    shortPages.append(QStringLiteral("Page %1\nThe quick brown fox jumps over the lazy dog, line after line, %1 times.").arg(i));
  }
  const QString pdf300 = dir + QStringLiteral("/300.pdf");
  makeTextPdf(pdf300, shortPages);

  QList<qint64> streamStalls, importStalls, importTotals, workerTotals, workerStalls, pdftotext;
  QList<double> rates;
  qint64 tokens = 0;
  const QString pdftotextProgram = QStandardPaths::findExecutable(QStringLiteral("pdftotext"));
  for (int r = 0; r < runs; ++r) {
    std::fprintf(stderr, "run %d of %d\n", r + 1, runs);
    const Streamed s = streamOnce(report);
    streamStalls.append(s.stallMs);
    rates.append(s.tokensPerSecond);
    tokens = s.tokens;
    const Imported i = importAndShowOnce(longPdf);
    importStalls.append(i.stallMs);
    importTotals.append(i.totalMs);
    const Imported wi = workerImportOnce(pdf300);
    workerTotals.append(wi.totalMs);
    workerStalls.append(wi.stallMs);
    if (!pdftotextProgram.isEmpty()) pdftotext.append(pdftotextOnce(pdftotextProgram, pdf300));
  }

  std::printf("`tests/ui/bench_gui_stalls --runs %d`, %s, %d cores, Qt %s, offscreen; median (min–max) of %d runs:\n\n",
              runs, qPrintable(QDateTime::currentDateTimeUtc().toString(QStringLiteral("yyyy-MM-dd"))),
              QThread::idealThreadCount(), qVersion(), runs);
  std::printf("| measure | figure | target |\n|---|---|---|\n");
  std::printf("| longest GUI-thread stall while streaming %s tokens at %s | %s | %s |\n", qPrintable(number(tokens)),
              qPrintable(spread(rates, "tokens/s")), qPrintable(spread(streamStalls, "ms")),
              qPrintable(stallTarget(streamStalls)));
  std::printf("| longest GUI-thread stall while importing and showing a 500-page PDF | %s | %s |\n",
              qPrintable(spread(importStalls, "ms")), qPrintable(stallTarget(importStalls)));
  std::printf("| 500-page PDF dropped → imported, tokens counted, first pages drawn | %s | — |\n",
              qPrintable(spread(importTotals, "ms")));
  std::printf("| 300-page PDF through the import worker process (longest GUI-thread stall %s) | %s | — |\n",
              qPrintable(spread(workerStalls, "ms")), qPrintable(spread(workerTotals, "ms")));
  if (!pdftotext.isEmpty()) {
    std::printf("| `pdftotext` on the same 300-page PDF | %s | — |\n", qPrintable(spread(pdftotext, "ms")));
  }
  return 0;
}
