// The analysis flow on a tiny model: a run creates a session and stores the
// question when asked and the answer when complete; the next question on the
// same documents restores the stored model state ("reused"); Stop keeps the
// partial answer. Then the headless commands of the real `sambalens` binary:
// streaming to stdout, progress on stderr, reuse across runs, clear errors
// with their exit statuses, and Ctrl-C.
#include <signal.h>

#include <QProcess>
#include <QSignalSpy>
#include <QThreadPool>
#include <QtTest>

#include "analysis_controller.h"
#include "test_support.h"
#include "tiny_model.h"

using namespace sambalens;
using namespace sambalens_test;

namespace {

ImportedDocument reportDocument() {
  ImportedDocument d;
  d.path = "/docs/report.pdf";
  d.kind = "pdf";
  d.importerId = "pdf";
  d.contentHash = "0123456789abcdef";
  d.pageCount = 3;
  for (int i = 1; i <= 3; ++i) {
    d.sections.append(DocumentSection{i, {}, QStringLiteral("The report on page %1 says the value is %2.").arg(i).arg(i * 11), 0});
  }
  return d;
}

struct Result {
  MessageRecord answer;
  GenerationStats stats;
  QString failure;
  QString streamed;
  qint64 reused = -1;
  qint64 userMessageId = -1;
};

Result analyse(AnalysisController& analysis, const AnalysisRequest& request, bool stopOnFirstDelta = false) {
  Result r;
  QObject guard;
  bool done = false;
  QObject::connect(&analysis, &AnalysisController::started, &guard, [&](qint64, qint64 id) { r.userMessageId = id; });
  QObject::connect(&analysis, &AnalysisController::stateReused, &guard, [&](qint64 t) { r.reused = t; });
  QObject::connect(&analysis, &AnalysisController::textDelta, &guard, [&](const QString& t) {
    r.streamed += t;
    if (stopOnFirstDelta) analysis.stop();
  });
  QObject::connect(&analysis, &AnalysisController::finished, &guard, [&](const MessageRecord& m, const GenerationStats& s) {
    r.answer = m;
    r.stats = s;
    done = true;
  });
  QObject::connect(&analysis, &AnalysisController::failed, &guard, [&](const QString& m) {
    r.failure = m;
    done = true;
  });
  if (!analysis.start(request)) return r;
  if (!QTest::qWaitFor([&] { return done; }, 120000)) qFatal("analysis did not end");
  QThreadPool::globalInstance()->waitForDone();  // the snapshot write
  QCoreApplication::processEvents();
  return r;
}

QStringList cliEnvironment(const QString& dataDir) {
  return {QStringLiteral("SAMBALENS_DATA_DIR=") + dataDir, QStringLiteral("XDG_CACHE_HOME=") + dataDir + "/cache",
          QStringLiteral("XDG_DATA_HOME=") + dataDir + "/data"};
}

}  // namespace

class AnalysisTest : public QObject {
  Q_OBJECT
  QString model_;

 private slots:
  void initTestCase() { model_ = makeTinyModel(); }

  void sessionsMessagesAndReuse() {
    EngineController engine;
    QSignalSpy loaded(&engine, &EngineController::modelLoaded);
    engine.loadModel(model_, "cpu");
    QVERIFY(loaded.wait(60000));
    SessionStore store;
    QVERIFY(store.open(freshDir("analysis") + "/sessions.sqlite"));
    AnalysisController analysis(&engine, &store);

    AnalysisRequest request;
    request.presetId = "summarize";
    request.documents = {reportDocument()};
    request.generation.maxNewTokens = 12;
    QSignalSpy created(&analysis, &AnalysisController::sessionCreated);
    const Result first = analyse(analysis, request);
    QVERIFY2(first.failure.isEmpty(), qPrintable(first.failure));
    QCOMPARE(created.size(), 1);
    const qint64 session = created.front().at(0).toLongLong();
    QVERIFY(first.userMessageId > 0);
    QVERIFY(first.answer.id > 0);
    QCOMPARE(first.reused, -1);
    QCOMPARE(first.answer.outputTokens, 12);
    QCOMPARE(first.answer.text, first.streamed);
    QCOMPARE(store.session(session)->title, QStringLiteral("Summary of report.pdf"));
    QCOMPARE(store.session(session)->model, engine.model().folder);
    QCOMPARE(store.sessionDocuments(session).size(), 1);
    QCOMPARE(store.sessionDocuments(session)[0].pages, 3);
    QList<MessageRecord> msgs = store.messages(session);
    QCOMPARE(msgs.size(), 2);
    QCOMPARE(msgs[0].role, QStringLiteral("user"));
    QCOMPARE(msgs[0].text, QStringLiteral("Summarize"));
    QCOMPARE(msgs[1].text, first.answer.text);
    QCOMPARE(msgs[1].promptTokens, first.stats.promptTokens());
    QCOMPARE(*store.lastSessionId(), session);
    QVERIFY(store.snapshotBytes() > 0);

    // The next question on the same documents restores the stored state.
    AnalysisRequest next = request;
    next.sessionId = session;
    next.presetId = "ask";
    next.question = "What is the value on page 2?";
    const Result second = analyse(analysis, next);
    QVERIFY2(second.failure.isEmpty(), qPrintable(second.failure));
    QCOMPARE(second.reused, first.stats.contextTokens);
    QCOMPARE(second.answer.reusedTokens, first.stats.contextTokens);
    msgs = store.messages(session);
    QCOMPARE(msgs.size(), 4);
    QCOMPARE(msgs[2].text, QStringLiteral("What is the value on page 2?"));
    QCOMPARE(msgs[3].reusedTokens, first.stats.contextTokens);

    // Other documents: read, not reused.
    AnalysisRequest other = request;
    other.documents[0].sections[0].text = "Different words.";
    QCOMPARE(analyse(analysis, other).reused, -1);

    // Stop keeps the partial answer, marked cancelled.
    AnalysisRequest endless = next;
    endless.generation.maxNewTokens = 10'000'000;
    const Result stopped = analyse(analysis, endless, true);
    QVERIFY2(stopped.failure.isEmpty(), qPrintable(stopped.failure));
    QCOMPARE(stopped.answer.stopReason, QStringLiteral("cancelled"));
    QCOMPARE(store.messages(session).back().stopReason, QStringLiteral("cancelled"));
    QVERIFY(store.messages(session).back().outputTokens < 10000);

    // Stopped at once, while the stored state is still being looked up:
    // the engine never starts and the empty answer is stored as cancelled.
    QSignalSpy finished(&analysis, &AnalysisController::finished);
    QSignalSpy reused(&analysis, &AnalysisController::stateReused);
    QVERIFY(analysis.start(next));
    QVERIFY(analysis.isRunning());
    // A second start is refused with a warning, not a failure of this run.
    QSignalSpy warnings(&analysis, &AnalysisController::warning);
    QSignalSpy failures(&analysis, &AnalysisController::failed);
    QVERIFY(!analysis.start(next));
    QCOMPARE(warnings.size(), 1);
    QVERIFY(failures.isEmpty());
    analysis.stop();
    QVERIFY(finished.wait(30000));
    QVERIFY(!analysis.isRunning());
    const MessageRecord early = finished.front().at(0).value<MessageRecord>();
    QCOMPARE(early.stopReason, QStringLiteral("cancelled"));
    QCOMPARE(early.outputTokens, 0);
    QVERIFY(reused.isEmpty());
    QCOMPARE(store.messages(session).back().id, early.id);
  }

  void refusesWithReasons() {
    EngineController engine;
    AnalysisController analysis(&engine, nullptr);
    AnalysisRequest request;
    request.documents = {reportDocument()};
    QCOMPARE(analyse(analysis, request).failure, QStringLiteral("no model is loaded"));
    QSignalSpy loaded(&engine, &EngineController::modelLoaded);
    engine.loadModel(model_, "cpu");
    QVERIFY(loaded.wait(60000));
    request.documents.clear();
    QVERIFY(analyse(analysis, request).failure.startsWith("no documents"));
    request.documents = {reportDocument()};
    request.presetId = "poem";
    QVERIFY(analyse(analysis, request).failure.contains("unknown prompt preset"));
    request.presetId = "ask";
    QVERIFY(analyse(analysis, request).failure.contains("needs a question"));
    request.question = "Why?";
    const Result ok = analyse(analysis, request);  // no store: works, nothing saved
    QVERIFY2(ok.failure.isEmpty(), qPrintable(ok.failure));
    QCOMPARE(ok.answer.id, 0);
  }

  void headlessSummarizeAndAsk() {
    const QString dir = freshDir("cli");
    makeTextPdf(dir + "/report.pdf", {"The alpha project starts in May.", "Its budget is 4200 euros.",
                                      "The main risk is late delivery."});
    const QStringList env = cliEnvironment(dir);
    const QString bin = QStringLiteral(SAMBALENS_TEST_BINARY);

    ProcessResult r = runProcess(bin, {"summarize", dir + "/report.pdf", "--model", model_, "--backend", "cpu",
                                       "--max-tokens", "16"}, dir, {}, 120000, env);
    const QString err = QString::fromUtf8(r.err);
    QVERIFY2(r.exitCode == 0 && !r.crashed, qPrintable(err));
    QVERIFY(!r.out.trimmed().isEmpty());  // the answer, streamed to stdout
    QVERIFY2(err.contains("imported report.pdf (3 pages)"), qPrintable(err));
    QVERIFY2(err.contains("model: tiny-test on cpu"), qPrintable(err));
    QVERIFY2(err.contains("budget: ") && err.contains("tokens"), qPrintable(err));
    QVERIFY2(err.contains("done: 16 output tokens"), qPrintable(err));
    QVERIFY2(err.contains("saved in session"), qPrintable(err));
    QVERIFY(!r.out.contains("imported"));  // progress never mixes into the answer

    // A second command on the same document: imported from the cache and
    // its model state reused from the sessions database.
    r = runProcess(bin, {"ask", dir + "/report.pdf", "-q", "What is the budget?", "--model", model_, "--backend", "cpu",
                         "--max-tokens", "8"}, dir, {}, 120000, env);
    const QString err2 = QString::fromUtf8(r.err);
    QVERIFY2(r.exitCode == 0, qPrintable(err2));
    QVERIFY2(err2.contains("unchanged since last import"), qPrintable(err2));
    QVERIFY2(err2.contains("reused the stored model state"), qPrintable(err2));

    // --no-save: nothing stored, nothing reused.
    r = runProcess(bin, {"ask", dir + "/report.pdf", "-q", "Risk?", "--model", model_, "--max-tokens", "4", "--no-save"},
                   dir, {}, 120000, env);
    QVERIFY2(r.exitCode == 0, r.err.constData());
    QVERIFY(!r.err.contains("reused") && !r.err.contains("saved in session"));
  }

  void headlessErrors() {
    const QString dir = freshDir("cli-errors");
    const QStringList env = cliEnvironment(dir);
    const QString bin = QStringLiteral(SAMBALENS_TEST_BINARY);
    writeFile(dir + "/notes.txt", "Some notes about alpha.\n");
    writeFile(dir + "/fake.pdf", "not a pdf\n");

    ProcessResult r = runProcess(bin, {"summarize", dir + "/notes.txt", "--model", "/nonexistent/model"}, dir, {}, 60000, env);
    QCOMPARE(r.exitCode, 2);
    QVERIFY2(r.err.contains("error: --model /nonexistent/model: no such folder"), r.err.constData());

    const QString empty = freshDir("empty-model");
    r = runProcess(bin, {"summarize", dir + "/notes.txt", "--model", empty}, dir, {}, 60000, env);
    QCOMPARE(r.exitCode, 2);
    QVERIFY2(r.err.contains("cannot load the model") && r.err.contains("config.json"), r.err.constData());

    r = runProcess(bin, {"ask", dir + "/notes.txt", "--model", model_}, dir, {}, 60000, env);
    QCOMPARE(r.exitCode, 1);
    QVERIFY2(r.err.contains("needs a question"), r.err.constData());

    r = runProcess(bin, {"summarize", dir + "/fake.pdf", "--model", model_}, dir, {}, 60000, env);
    QCOMPARE(r.exitCode, 3);
    QVERIFY2(r.err.contains("error: fake.pdf: not a PDF file") && r.err.contains("nothing to read"), r.err.constData());

    // One bad file among good ones: reported, the rest is read.
    r = runProcess(bin, {"summarize", dir + "/fake.pdf", dir + "/notes.txt", "--model", model_, "--max-tokens", "4",
                         "--no-save"}, dir, {}, 60000, env);
    QCOMPARE(r.exitCode, 0);
    QVERIFY(r.err.contains("error: fake.pdf: not a PDF file"));
    QVERIFY(r.err.contains("imported notes.txt"));

    for (const QStringList& args : {QStringList{"poem", "x"}, QStringList{"summarize"},
                                    QStringList{"summarize", "x", "--backend", "tpu"},
                                    QStringList{"summarize", "x", "--max-tokens", "-3"},
                                    QStringList{"summarize", "x", "-q", "why"}}) {
      r = runProcess(bin, args, dir, {}, 60000, env);
      QVERIFY2(r.exitCode == 1, qPrintable(args.join(' ') + ": " + r.err));
      QVERIFY(r.err.startsWith("sambalens: "));
    }

    r = runProcess(bin, {"--help"}, dir, {}, 60000, env);
    QCOMPARE(r.exitCode, 0);
    QVERIFY(r.out.contains("sambalens summarize") || r.out.contains("summarize FILE"));

    // No command and no display: a clear message instead of a crash.
    QProcess p;
    QProcessEnvironment penv = QProcessEnvironment::systemEnvironment();
    penv.remove("DISPLAY");
    penv.remove("WAYLAND_DISPLAY");
    penv.remove("QT_QPA_PLATFORM");
    p.setProcessEnvironment(penv);
    p.start(bin, {});
    QVERIFY(p.waitForFinished(30000));
    QCOMPARE(p.exitCode(), 1);
    QVERIFY(p.readAllStandardError().contains("no display"));
  }

  void headlessCtrlCStops() {
    const QString dir = freshDir("cli-interrupt");
    writeFile(dir + "/notes.txt", "Some notes about alpha.\n");
    QProcess p;
    QStringList env = QProcess::systemEnvironment();
    env += cliEnvironment(dir);
    p.setEnvironment(env);
    p.start(QStringLiteral(SAMBALENS_TEST_BINARY), {"summarize", dir + "/notes.txt", "--model", model_, "--max-tokens",
                                                    "100000000"});
    QVERIFY(p.waitForStarted());
    QVERIFY(QTest::qWaitFor([&] { return p.bytesAvailable() > 0 || p.state() != QProcess::Running; }, 60000));
    ::kill(pid_t(p.processId()), SIGINT);
    QVERIFY(p.waitForFinished(30000));
    QCOMPARE(p.exitStatus(), QProcess::NormalExit);
    QCOMPARE(p.exitCode(), 130);
    const QByteArray err = p.readAllStandardError();
    QVERIFY2(err.contains("interrupted") && err.contains("stop: cancelled"), err.constData());
  }
};

QTEST_MAIN(AnalysisTest)
#include "test_analysis.moc"
