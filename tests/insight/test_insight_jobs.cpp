// The insight jobs through InsightController on the engine thread, on tiny
// random models: a sweep's cells and trials, progress to the end, prefix
// reuse; the engine is busy (generation refused) while a job runs and free
// when its result arrives; Stop ends a sweep with the lengths that
// finished; an entropy run's token spans spell its text, and uniform
// attention gives ln(min(i+1, W)) at every position.
#include <QFileInfo>
#include <QSignalSpy>
#include <QTest>
#include <cmath>

#include "engine_controller.h"
#include "insight_controller.h"
#include "insight_test_support.h"
#include "samba/tokenizer.h"
#include "tiny_model.h"

using namespace sambalens;
using namespace sambalens_insight_test;

namespace {

bool loadModel(EngineController& engine, const QString& folder) {
  QSignalSpy loaded(&engine, &EngineController::modelLoaded);
  QSignalSpy failed(&engine, &EngineController::modelLoadFailed);
  engine.loadModel(folder, QStringLiteral("cpu"));
  if (loaded.wait(60000)) return true;
  if (!failed.isEmpty()) qWarning("%s", qPrintable(failed[0][1].toString()));
  return false;
}

PasskeySettings smallSweep() {
  PasskeySettings s;
  s.lengths = {512, 256};  // unsorted on purpose
  s.depths = {1.0, 0.0, 0.5};
  s.trials = 2;
  s.answerTokens = 4;
  return s;
}

}  // namespace

class InsightJobsTest : public QObject {
  Q_OBJECT

 private slots:
  void initTestCase() { model_ = sambalens_test::makeTinyModel(); }

  void passkeySweepRunsOnTheEngineThread() {
    EngineController engine;
    QVERIFY(loadModel(engine, model_));
    InsightController insight(&engine);
    insight.setProgressInterval(0);
    QSignalSpy progress(&insight, &InsightController::progress);
    QSignalSpy done(&insight, &InsightController::passkeyFinished);
    QSignalSpy failed(&insight, &InsightController::failed);
    QVERIFY(insight.startPasskey(smallSweep()));
    QVERIFY(insight.isRunning());
    QVERIFY(engine.isBusy());
    // The engine refuses a generation meanwhile, with a reason.
    QSignalSpy engineFailed(&engine, &EngineController::failed);
    GenerationRequest request;
    request.instruction = QStringLiteral("hello");
    QCOMPARE(engine.generate(request), quint64(0));
    QVERIFY(engineFailed.size() == 1 && engineFailed[0][1].toString().contains("busy"));
    // And a second insight run, without disturbing the first one's signals.
    QVERIFY(!insight.startPasskey(smallSweep()));
    QVERIFY(insight.lastError().contains("another insight run"));
    QVERIFY(failed.isEmpty());

    QTRY_VERIFY_WITH_TIMEOUT(!done.isEmpty() || !failed.isEmpty(), 120000);
    QVERIFY2(failed.isEmpty(), qPrintable(failed.value(0).value(0).toString()));
    QVERIFY(!insight.isRunning());
    QVERIFY(!engine.isBusy());  // free when the result arrives
    const auto sweep = done[0][0].value<PasskeySweepRecord>();
    QVERIFY(sweep.complete);
    QCOMPARE(sweep.settings.lengths, (QList<qint64>{256, 512}));
    QCOMPARE(sweep.settings.depths, (QList<double>{0.0, 0.5, 1.0}));
    QCOMPARE(sweep.trials.size(), 12);
    QCOMPARE(sweep.cells().size(), 6);
    for (const PasskeyCellSummary& c : sweep.cells()) {
      QCOMPARE(c.trials, 2);
      QCOMPARE(c.correct + c.wrongAnswers.size(), 2);
    }
    for (const PasskeyTrialRecord& t : sweep.trials) {
      QVERIFY(t.key >= 1 && t.key <= 50000);
      QVERIFY(t.trial == 0 || t.trial == 1);
    }
    QCOMPARE(sweep.model.window, 16);
    QCOMPARE(sweep.model.trainLength, 64);
    QCOMPARE(sweep.model.folder, QFileInfo(model_).absoluteFilePath());
    QCOMPARE(sweep.tokensInPrompts, 2 * 3 * (256 + 512));
    QVERIFY2(sweep.tokensRead < sweep.tokensInPrompts, "the shared prefixes were read once");
    QVERIFY(!progress.isEmpty());
    const auto last = progress.last()[0].value<InsightProgress>();
    QCOMPARE(last.done, 12);
    QCOMPARE(last.total, 12);

    // The engine is usable for a generation right after.
    QSignalSpy finished(&engine, &EngineController::finished);
    request.maxNewTokens = 3;
    QVERIFY(engine.generate(request) != 0);
    QVERIFY(finished.wait(60000));
  }

  void sweepOnAnotherModelFolderLeavesTheLoadedModel() {
    EngineController engine;
    QVERIFY(loadModel(engine, model_));
    sambalens_test::TinyModelSpec spec;
    spec.window = 32;
    spec.seed = 11;
    const QString other = sambalens_test::makeTinyModel(spec);
    InsightController insight(&engine);
    QSignalSpy done(&insight, &InsightController::passkeyFinished);
    QSignalSpy failed(&insight, &InsightController::failed);
    PasskeySettings s = smallSweep();
    s.modelFolder = other;
    s.backend = QStringLiteral("cpu");
    s.lengths = {256};
    QVERIFY(insight.startPasskey(s));
    QTRY_VERIFY_WITH_TIMEOUT(!done.isEmpty() || !failed.isEmpty(), 120000);
    QVERIFY2(failed.isEmpty(), qPrintable(failed.value(0).value(0).toString()));
    const auto sweep = done[0][0].value<PasskeySweepRecord>();
    QCOMPARE(sweep.model.window, 32);
    QCOMPARE(sweep.model.folder, QFileInfo(other).absoluteFilePath());
    QCOMPARE(engine.model().window, 16);  // the app's model is unchanged
  }

  void stopKeepsTheLengthsThatFinished() {
    EngineController engine;
    QVERIFY(loadModel(engine, model_));
    InsightController insight(&engine);
    insight.setProgressInterval(0);
    QSignalSpy done(&insight, &InsightController::passkeyFinished);
    QSignalSpy stopped(&insight, &InsightController::stopped);
    QSignalSpy failed(&insight, &InsightController::failed);
    PasskeySettings s;
    s.lengths = {256, 16384, 32768};
    s.depths = {0.0, 0.5, 1.0};
    s.trials = 3;
    // Stop as soon as the second length starts.
    connect(&insight, &InsightController::progress, this, [&](const InsightProgress& p) {
      if (p.detail == QLatin1String("length 16384") && p.done >= 10) insight.cancel();
    });
    QVERIFY(insight.startPasskey(s));
    QTRY_VERIFY_WITH_TIMEOUT(!done.isEmpty() || !stopped.isEmpty() || !failed.isEmpty(), 120000);
    QVERIFY2(failed.isEmpty(), qPrintable(failed.value(0).value(0).toString()));
    QCOMPARE(done.size(), 1);
    const auto sweep = done[0][0].value<PasskeySweepRecord>();
    QVERIFY(!sweep.complete);
    QCOMPARE(sweep.lengths(), (QList<qint64>{256}));
    QCOMPARE(sweep.trials.size(), 9);
    QVERIFY(!engine.isBusy());
  }

  void invalidSettingsAreRefusedWithAReason() {
    EngineController engine;
    InsightController insight(&engine);
    QSignalSpy failed(&insight, &InsightController::failed);
    PasskeySettings s = smallSweep();
    s.depths = {0.5, 1.5};
    QVERIFY(!insight.startPasskey(s));
    QVERIFY(insight.lastError().contains("1.5"));
    s = smallSweep();
    s.lengths = {10};
    QVERIFY(!insight.startPasskey(s));
    QVERIFY(insight.lastError().contains("too short"));
    QVERIFY(!insight.startPasskey(smallSweep()));  // no model loaded
    QVERIFY(insight.lastError().contains("no model"));
    QVERIFY(!insight.startEntropy(QStringLiteral("   "), QStringLiteral("empty")));
    QVERIFY(insight.lastError().contains("no text"));
    QVERIFY(failed.isEmpty());  // refusals are not run failures
    QVERIFY(!engine.isBusy());
  }

  void entropyRunSpellsItsTextAndMatchesUniformAttention() {
    const QString uniform = uniformAttentionModel(model_);
    EngineController engine;
    QVERIFY(loadModel(engine, uniform));
    InsightController insight(&engine);
    QSignalSpy done(&insight, &InsightController::entropyFinished);
    QSignalSpy failed(&insight, &InsightController::failed);
    const QString text = QStringLiteral(
        "The report on page 3 says the value is 111. Über naïve café — 😀 emoji and ünïcödé.\n"
        "Second line of the document, with more words to read so that positions pass the window.\n");
    EntropySettings settings;
    settings.maxBuckets = 4096;  // one position per bucket
    settings.chunkTokens = 7;    // odd chunks: the result must not depend on them
    QVERIFY(insight.startEntropy(text, QStringLiteral("inline text"), settings));
    QTRY_VERIFY_WITH_TIMEOUT(!done.isEmpty() || !failed.isEmpty(), 120000);
    QVERIFY2(failed.isEmpty(), qPrintable(failed.value(0).value(0).toString()));
    const auto run = done[0][0].value<EntropyRunRecord>();
    QVERIFY(run.tokens() > 40);
    QCOMPARE(run.bucketWidth, 1);
    QCOMPARE(run.buckets, int(run.tokens()));
    QCOMPARE(run.model.window, 16);
    // The spans cover the text in order; the text is what the tokens spell.
    auto tokenizer = samba::load_tokenizer(uniform.toStdString());
    const std::vector<int32_t> ids = tokenizer->encode(text.toStdString());
    QCOMPARE(qint64(ids.size()), run.tokens());
    QCOMPARE(run.text, QString::fromStdString(tokenizer->decode(ids)));
    QCOMPARE(run.tokenStart.front(), 0);
    for (size_t i = 1; i < run.tokenStart.size(); ++i) QVERIFY(run.tokenStart[i] >= run.tokenStart[i - 1]);
    QVERIFY(run.text.contains(QStringLiteral("😀")));
    const int emoji = int(run.text.indexOf(QStringLiteral("😀")));
    const int token = run.tokenAtCharacter(emoji);
    QVERIFY(token > 0 && run.tokenStart[size_t(token)] <= emoji && run.tokenEnd(token) >= emoji + 2);
    // Uniform attention: H(l, h, i) = ln(min(i+1, W)).
    for (int s = 0; s < run.model.swaLayers(); ++s) {
      for (int h = 0; h < run.model.heads; ++h) {
        for (int i = 0; i < run.buckets; ++i) {
          const double expected = std::log(double(std::min(i + 1, 16)));
          QVERIFY2(std::abs(run.stat(s, h, i).mean - expected) < 2e-5,
                   qPrintable(QStringLiteral("swa %1 head %2 position %3: %4 vs %5")
                                  .arg(s).arg(h).arg(i).arg(run.stat(s, h, i).mean).arg(expected)));
        }
      }
    }
    QCOMPARE(run.surprisal.front(), 0.0f);
    for (size_t i = 1; i < run.surprisal.size(); ++i) QVERIFY(run.surprisal[i] > 0);
  }

  void entropyRunCanBeStopped() {
    EngineController engine;
    QVERIFY(loadModel(engine, model_));
    InsightController insight(&engine);
    insight.setProgressInterval(0);
    QSignalSpy stopped(&insight, &InsightController::stopped);
    QSignalSpy done(&insight, &InsightController::entropyFinished);
    QSignalSpy failed(&insight, &InsightController::failed);
    QString text;
    for (int i = 0; i < 3000; ++i) text += QStringLiteral("word %1 and more words. ").arg(i);
    EntropySettings settings;
    settings.chunkTokens = 64;
    connect(&insight, &InsightController::progress, this, [&](const InsightProgress& p) {
      if (p.done > 0) insight.cancel();
    });
    QVERIFY(insight.startEntropy(text, QStringLiteral("long text"), settings));
    QTRY_VERIFY_WITH_TIMEOUT(!stopped.isEmpty() || !done.isEmpty() || !failed.isEmpty(), 120000);
    QVERIFY2(failed.isEmpty(), qPrintable(failed.value(0).value(0).toString()));
    QCOMPARE(stopped.size(), 1);
    QVERIFY(done.isEmpty());
    QVERIFY(!engine.isBusy());
  }

 private:
  QString model_;
};

QTEST_GUILESS_MAIN(InsightJobsTest)
#include "test_insight_jobs.moc"
