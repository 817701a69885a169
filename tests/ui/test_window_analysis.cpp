// The analysis pane driven through the window on a tiny model: a Summarize
// run streams into the pane (batched renders, prefill progress, final
// statistics, the session saved); Stop and Esc stop a long answer within a
// moment; the token budget says what happens past the model's length; a
// disk that fills while the answer is saved is told, and the answer stays.
#include <QElapsedTimer>
#include <QLabel>
#include <QLineEdit>
#include <QProgressBar>
#include <QPushButton>
#include <QSignalSpy>
#include <QTest>
#include <optional>

#include "analysis/analysis_pane.h"
#include "analysis/run_progress.h"
#include "analysis/token_budget_meter.h"
#include "analysis/transcript_view.h"
#include "common/message_bar.h"
#include "file_size_limit.h"
#include "library/document_list_model.h"
#include "library/session_list_model.h"
#include "test_support.h"
#include "ui_test_support.h"

using namespace sambalens;
using namespace sambalens::ui;
using namespace sambalens_test;

namespace {
QStringList reportPages() {
  QStringList pages;
  for (int p = 1; p <= 3; ++p) {
    QString text;
    for (int line = 0; line < 30; ++line) {
      text += QStringLiteral("Page %1 line %2: the quarterly report says revenue grew and costs fell.\n").arg(p).arg(line);
    }
    pages.append(text);
  }
  return pages;
}
}  // namespace

class WindowAnalysisTest : public QObject {
  Q_OBJECT

 private:
  QString pdf_;

  // A window with the test PDF imported and the model loaded.
  void prepare(WindowFixture& w) {
    QVERIFY(w.waitForModel());
    QVERIFY(dropFiles(w.window.get(), {pdf_}));
    QVERIFY(w.waitForImports());
    QCOMPARE(w->documents()->rowCount(), 1);
    QCOMPARE(w->documents()->checkedDocuments().size(), 1);
    QTRY_VERIFY_WITH_TIMEOUT(w->analysisPane()->presetButton(QStringLiteral("summarize"))->isEnabled(), 30000);
    w->activateWindow();
    QVERIFY(QTest::qWaitForWindowActive(w.window.get()));
  }

 private slots:
  void initTestCase() {
    isolateSettings();
    pdf_ = freshDir(QStringLiteral("analysis-pdf")) + QStringLiteral("/report.pdf");
    makeTextPdf(pdf_, reportPages());
  }

  void summarizeStreamsIntoThePane() {
    WindowOptions options = WindowFixture::defaultOptions();
    options.maxNewTokens = 1500;  // long enough that per-token rendering would show
    WindowFixture w(options);
    prepare(w);
    if (QTest::currentTestFailed()) return;
    AnalysisPane* pane = w->analysisPane();
    AnalysisController& analysis = w.context->analysis();
    QSignalSpy finished(&analysis, &AnalysisController::finished);
    QSignalSpy deltas(&analysis, &AnalysisController::textDelta);
    // While the model reads, the pane shows tokens read / total.
    QStringList progressTexts;
    bool barShown = false;
    connect(&analysis, &AnalysisController::prefillProgress, this, [&](const PrefillProgress& p) {
      progressTexts.append(pane->progress()->text());
      barShown = barShown || pane->progress()->bar()->isVisible();
      QVERIFY(p.total > 0);
    });

    QTest::mouseClick(pane->presetButton(QStringLiteral("summarize")), Qt::LeftButton);
    QVERIFY(pane->isRunning());
    QVERIFY(pane->stopButton()->isEnabled());
    QVERIFY(!pane->presetButton(QStringLiteral("summarize"))->isEnabled());
    QVERIFY(finished.wait(120000));

    const MessageRecord answer = finished.at(0).at(0).value<MessageRecord>();
    const GenerationStats stats = finished.at(0).at(1).value<GenerationStats>();
    QVERIFY2(!answer.text.isEmpty(), "the tiny model produced no text");
    QVERIFY(stats.outputTokens > 0);
    QVERIFY(!stats.cancelled);

    // The pane holds the streamed answer, rendered from Markdown.
    TranscriptView* transcript = pane->transcript();
    QCOMPARE(transcript->streamedText(), answer.text);
    const QString shown = transcript->toPlainText();
    QVERIFY2(shown.contains(QStringLiteral("Summarize")), qPrintable(shown));
    QVERIFY2(containsWordsInOrder(shown, answer.text), qPrintable(shown));
    // Batched: never more renders than deltas (+ the final one), fewer than tokens.
    QVERIFY(deltas.count() >= 1);
    QVERIFY2(transcript->renderCount() <= transcript->deltaCount() + 1,
             qPrintable(QStringLiteral("%1 renders for %2 deltas").arg(transcript->renderCount()).arg(transcript->deltaCount())));
    QVERIFY2(transcript->renderCount() * 10 < stats.outputTokens,
             qPrintable(QStringLiteral("%1 renders for %2 tokens").arg(transcript->renderCount()).arg(stats.outputTokens)));

    // Prefill progress was shown as tokens read / total with a bar.
    QVERIFY(!progressTexts.isEmpty());
    QVERIFY2(progressTexts.last().startsWith(QStringLiteral("Reading ")), qPrintable(progressTexts.last()));
    QVERIFY2(progressTexts.last().contains(QStringLiteral(" / ")), qPrintable(progressTexts.last()));
    QVERIFY(barShown);
    // After it: time to first token and tokens/s.
    const QString after = pane->progress()->text();
    QVERIFY2(after.contains(QStringLiteral("first token after"), Qt::CaseInsensitive), qPrintable(after));
    QVERIFY2(after.contains(QStringLiteral("tokens/s")), qPrintable(after));
    QVERIFY(!pane->isRunning());
    QVERIFY(!pane->stopButton()->isEnabled());

    // The session was saved and is the one selected in the library.
    QVERIFY(w->currentSessionId() > 0);
    QCOMPARE(w->sessions()->rowCount(), 1);
    QCOMPARE(w->sessions()->sessionId(0), w->currentSessionId());
    QCOMPARE(w.context->store()->messages(w->currentSessionId()).size(), 2);
  }

  void secondQuestionReusesTheSavedReading() {
    WindowFixture w;
    prepare(w);
    if (QTest::currentTestFailed()) return;
    AnalysisController& analysis = w.context->analysis();
    QSignalSpy finished(&analysis, &AnalysisController::finished);
    QSignalSpy reused(&analysis, &AnalysisController::stateReused);
    w->runPreset(QStringLiteral("summarize"));
    QVERIFY(finished.wait(120000));
    QCOMPARE(reused.count(), 0);
    const qint64 session = w->currentSessionId();
    // Let the snapshot write (on a pool thread) land in the database.
    QTest::qWait(500);

    w->analysisPane()->questionField()->setText(QStringLiteral("What grew?"));
    QTest::keyClick(w.window.get(), Qt::Key_Return, Qt::ControlModifier);  // Ctrl+Enter asks
    QVERIFY(finished.wait(120000));
    QCOMPARE(reused.count(), 1);
    QCOMPARE(w->currentSessionId(), session);  // same documents: same session
    const QString note = w->analysisPane()->findChild<QLabel*>(QStringLiteral("reuseNote"))->text();
    QVERIFY2(note.contains(QStringLiteral("Reused the saved reading")), qPrintable(note));
    QCOMPARE(w.context->store()->messages(session).size(), 4);
  }

  void stopButtonStopsALongAnswer() {
    WindowOptions options = WindowFixture::defaultOptions();
    options.maxNewTokens = 2000000;  // would run for a long time
    WindowFixture w(options);
    prepare(w);
    if (QTest::currentTestFailed()) return;
    AnalysisController& analysis = w.context->analysis();
    QSignalSpy finished(&analysis, &AnalysisController::finished);
    QSignalSpy deltas(&analysis, &AnalysisController::textDelta);
    w->runPreset(QStringLiteral("summarize"));
    QVERIFY(deltas.wait(120000));  // it is writing
    QVERIFY(finished.isEmpty());
    QElapsedTimer sinceStop;
    sinceStop.start();
    QTest::mouseClick(w->analysisPane()->stopButton(), Qt::LeftButton);
    QVERIFY(finished.wait(10000));
    QVERIFY2(sinceStop.elapsed() < 5000, qPrintable(QString::number(sinceStop.elapsed())));
    const GenerationStats stats = finished.at(0).at(1).value<GenerationStats>();
    QVERIFY(stats.cancelled);
    QCOMPARE(stats.stopReason, QStringLiteral("cancelled"));
    QVERIFY(stats.outputTokens < options.maxNewTokens);
    const MessageRecord answer = finished.at(0).at(0).value<MessageRecord>();
    QCOMPARE(answer.stopReason, QStringLiteral("cancelled"));
    QVERIFY(!w->analysisPane()->isRunning());
    QVERIFY(w->analysisPane()->progress()->text().startsWith(QStringLiteral("Stopped")));
    // The partial answer stays in the pane, marked as stopped.
    QVERIFY(w->analysisPane()->transcript()->toPlainText().contains(QStringLiteral("stopped")));
  }

  void escapeStops() {
    WindowOptions options = WindowFixture::defaultOptions();
    options.maxNewTokens = 2000000;
    WindowFixture w(options);
    prepare(w);
    if (QTest::currentTestFailed()) return;
    AnalysisController& analysis = w.context->analysis();
    QSignalSpy finished(&analysis, &AnalysisController::finished);
    QSignalSpy deltas(&analysis, &AnalysisController::textDelta);
    w->runPreset(QStringLiteral("summarize"));
    QVERIFY(deltas.wait(120000));
    w->activateWindow();
    QTest::keyClick(w.window.get(), Qt::Key_Escape);
    QVERIFY(finished.wait(10000));
    QVERIFY(finished.at(0).at(1).value<GenerationStats>().cancelled);
  }

  void transcriptRendersInBatches() {
    // Even fed one delta per token, as fast as they come, the transcript
    // renders a few times, not once per delta.
    TranscriptView view;
    view.show();
    view.beginAnswer(QStringLiteral("Summarize"), {});
    QElapsedTimer timer;
    timer.start();
    for (int i = 0; i < 3000; ++i) {
      view.appendDelta(QStringLiteral("word%1 ").arg(i));
      if (i % 100 == 0) QCoreApplication::processEvents();
    }
    QTest::qWait(200);
    QCOMPARE(view.deltaCount(), 3000);
    QVERIFY2(view.renderCount() >= 1 && view.renderCount() <= 3 + int(timer.elapsed() / 50),
             qPrintable(QString::number(view.renderCount())));
    QVERIFY(view.toPlainText().contains(QStringLiteral("word2999")));
    MessageRecord answer;
    answer.text = view.streamedText();
    answer.outputTokens = 3000;
    view.finishAnswer(answer);
    QVERIFY(!view.isStreaming());
    QVERIFY(view.toPlainText().contains(QStringLiteral("3,000 tokens")));
  }

  void eventLoopKeepsTurningWhileStreaming() {
    // The tiny model writes tens of thousands of tokens per second: the GUI
    // thread must keep serving its event loop meanwhile (a 10 ms timer keeps
    // firing between the batches of text), not take the whole stream in one
    // go. How long its longest stall is, is a speed figure: measured by
    // tests/ui/bench_gui_stalls.cpp and recorded in docs/BENCHMARKS.md.
    WindowOptions options = WindowFixture::defaultOptions();
    options.maxNewTokens = 30000;
    WindowFixture w(options);
    prepare(w);
    if (QTest::currentTestFailed()) return;
    AnalysisController& analysis = w.context->analysis();
    QSignalSpy finished(&analysis, &AnalysisController::finished);
    QSignalSpy deltas(&analysis, &AnalysisController::textDelta);
    // Ticks delivered once text flows and before the answer is finished.
    LoopTicker ticker([&] { return !deltas.isEmpty() && finished.isEmpty(); }, [&] { return deltas.count(); });
    w->runPreset(QStringLiteral("summarize"));
    QVERIFY(finished.wait(300000));
    ticker.stop();
    const GenerationStats stats = finished.at(0).at(1).value<GenerationStats>();
    QVERIFY(stats.outputTokens > 5000);
    const QString counts = ticker.summary(QStringLiteral("streaming"), QStringLiteral("batches"));
    qInfo("%s", qPrintable(counts));
    QVERIFY2(ticker.ticks() >= 2, qPrintable(counts));
    // A tick came in the middle of the stream: more text followed it.
    QVERIFY2(ticker.progressAtFirstTick() < deltas.count(), qPrintable(counts));
    // The whole answer arrived and is shown.
    const MessageRecord answer = finished.at(0).at(0).value<MessageRecord>();
    QCOMPARE(w->analysisPane()->transcript()->streamedText(), answer.text);
    QVERIFY(!w->analysisPane()->isRunning());
  }

  void aFullDiskWhileSavingTheAnswerIsToldAndTheAnswerStays() {
    WindowFixture w;
    prepare(w);
    if (QTest::currentTestFailed()) return;
    AnalysisController& analysis = w.context->analysis();
    QSignalSpy finished(&analysis, &AnalysisController::finished);
    // The disk fills once the question is saved, before the answer is
    // (see file_size_limit.h), and has space again once the answer is out.
    std::optional<FileSizeLimit> full;
    bool filled = false;
    connect(&analysis, &AnalysisController::started, this, [&] {
      if (!filled) full.emplace(0);  // the first answer only
      filled = true;
    });
    connect(&analysis, &AnalysisController::finished, this, [&] { full.reset(); });
    w->runPreset(QStringLiteral("summarize"));
    QVERIFY(finished.wait(120000));
    QVERIFY(!full);
    const MessageRecord answer = finished.at(0).at(0).value<MessageRecord>();
    QVERIFY2(!answer.text.isEmpty(), "the tiny model produced no text");
    QCOMPARE(answer.id, 0);  // not stored

    // The answer is on screen, and the user is told it was not saved, where and why.
    QCOMPARE(w->analysisPane()->transcript()->streamedText(), answer.text);
    const QStringList shown = w->messages()->texts();
    bool told = false;
    for (const QString& text : shown) {
      told = told || (text.contains(QStringLiteral("the answer could not be saved")) && text.contains(w.storePath) &&
                      text.contains(QStringLiteral("the disk is full")));
    }
    QVERIFY2(told, qPrintable(shown.join('\n')));
    const qint64 session = w->currentSessionId();
    QVERIFY(session > 0);
    QCOMPARE(w.context->store()->messages(session).size(), 1);  // the question, saved before

    // With space again the same window saves the next answer.
    QVERIFY(w->analysisPane()->presetButton(QStringLiteral("summarize"))->isEnabled());
    w->runPreset(QStringLiteral("summarize"));
    QVERIFY(finished.wait(120000));
    QVERIFY(finished.at(1).at(0).value<MessageRecord>().id > 0);
    const QList<MessageRecord> stored = w.context->store()->messages(session);
    QCOMPARE(stored.size(), 3);
    QCOMPARE(stored.last().text, finished.at(1).at(0).value<MessageRecord>().text);
  }

  void tokenBudgetSaysWhatHappensPastTheModelsLength() {
    WindowFixture w;
    prepare(w);
    if (QTest::currentTestFailed()) return;
    TokenBudgetMeter* meter = w->analysisPane()->budgetMeter();
    // The tiny model was trained on 64 tokens; the report is far longer.
    QTRY_COMPARE_WITH_TIMEOUT(int(meter->budget().level), int(TokenBudget::Level::Long), 30000);
    const qint64 tokens = w->documents()->tokens(0);
    QVERIFY(tokens > 64);
    QCOMPARE(meter->budget().tokens, tokens);
    QVERIFY2(meter->detailText().contains(QStringLiteral("nothing is cut")), qPrintable(meter->detailText()));
    QVERIFY(w->documents()->data(w->documents()->index(0), Qt::DisplayRole).toString().contains(QStringLiteral("tokens")));

    // Unchecking the document empties the selection: nothing to read.
    w->documents()->setData(w->documents()->index(0), Qt::Unchecked, Qt::CheckStateRole);
    QCOMPARE(int(meter->budget().level), int(TokenBudget::Level::Empty));
    QVERIFY(!w->analysisPane()->presetButton(QStringLiteral("summarize"))->isEnabled());
  }
};

QTEST_MAIN(WindowAnalysisTest)
#include "test_window_analysis.moc"
