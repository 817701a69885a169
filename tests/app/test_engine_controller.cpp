// The engine thread behind EngineController, on a tiny random model: model
// loading and its errors, streaming in batches (not one signal per token),
// Stop within one token and during prefill, engine errors reaching the
// caller as messages, and a restored model-state snapshot giving the same
// answer as reading the documents.
#include <QSignalSpy>
#include <QtTest>
#include <new>

#include "engine_controller.h"
#include "samba/backend.h"
#include "samba/error.h"
#include "samba/weights.h"
#include "test_support.h"
#include "tiny_model.h"

using namespace sambalens;
using namespace sambalens_test;

namespace {

// Forwards to a real backend and fails on purpose at the N-th forward call,
// the way a device error or an allocation failure would surface.
class FailingBackend : public samba::Backend {
 public:
  enum class Failure { Device, OutOfMemory };
  FailingBackend(std::unique_ptr<samba::Backend> inner, int failAtCall, Failure failure)
      : inner_(std::move(inner)), failAt_(failAtCall), failure_(failure) {}
  const samba::ModelConfig& config() const override { return inner_->config(); }
  std::string description() const override { return "failing test backend over " + inner_->description(); }
  void reset() override { inner_->reset(); }
  int64_t position() const override { return inner_->position(); }
  void forward(std::span<const int32_t> tokens, std::vector<float>* logits,
               const samba::ForwardOptions& options) override {
    if (++calls_ == failAt_) {
      if (failure_ == Failure::OutOfMemory) throw std::bad_alloc();
      throw samba::Error(samba::ErrorKind::Device, "simulated CUDA error: an illegal memory access was encountered");
    }
    inner_->forward(tokens, logits, options);
  }
  samba::ModelState save_state() const override { return inner_->save_state(); }
  void load_state(const samba::ModelState& state) override { inner_->load_state(state); }

 private:
  std::unique_ptr<samba::Backend> inner_;
  int calls_ = 0;
  int failAt_;
  Failure failure_;
};

QString longContext(int sentences) {
  QString text = QStringLiteral("Document:\n");
  for (int i = 0; i < sentences; ++i) {
    text += QStringLiteral("The report on page %1 says the value is %2. ").arg(i % 40 + 1).arg(i * 7);
  }
  return text;
}

GenerationRequest request(const QString& context, int maxTokens) {
  GenerationRequest r;
  r.context = context;
  r.instruction = QStringLiteral("\n\nSummary:");
  r.contextKey = QStringLiteral("key");
  r.maxNewTokens = maxTokens;
  return r;
}

struct Outcome {
  QString streamed;
  int deltas = 0;
  QList<PrefillProgress> progress;
  GenerationStats stats;
  QString failure;
  QByteArray snapshot;
  qint64 reused = -1;
};

// Runs one request to its end, collecting what the signals delivered.
Outcome run(EngineController& engine, const GenerationRequest& r, const std::function<void(Outcome&)>& onDelta = {}) {
  Outcome o;
  QObject guard;
  QObject::connect(&engine, &EngineController::textDelta, &guard, [&](quint64, const QString& t) {
    o.streamed += t;
    ++o.deltas;
    if (onDelta) onDelta(o);
  });
  QObject::connect(&engine, &EngineController::prefillProgress, &guard,
                   [&](quint64, const PrefillProgress& p) { o.progress.append(p); });
  QObject::connect(&engine, &EngineController::snapshotTaken, &guard,
                   [&](quint64, const QByteArray& s, const QString&, qint64) { o.snapshot = s; });
  QObject::connect(&engine, &EngineController::stateReused, &guard, [&](quint64, qint64 t) { o.reused = t; });
  bool done = false;
  QObject::connect(&engine, &EngineController::finished, &guard, [&](quint64, const GenerationStats& s) {
    o.stats = s;
    done = true;
  });
  QObject::connect(&engine, &EngineController::failed, &guard, [&](quint64, const QString& m) {
    o.failure = m;
    done = true;
  });
  if (engine.generate(r) == 0) return o;
  if (!QTest::qWaitFor([&] { return done; }, 120000)) qFatal("generation did not end");
  return o;
}

bool loadModel(EngineController& engine, const QString& folder, QString* error = nullptr) {
  QSignalSpy loaded(&engine, &EngineController::modelLoaded);
  QSignalSpy failed(&engine, &EngineController::modelLoadFailed);
  engine.loadModel(folder, "cpu");
  if (!QTest::qWaitFor([&] { return !loaded.isEmpty() || !failed.isEmpty(); }, 60000)) qFatal("load did not end");
  if (!failed.isEmpty() && error) *error = failed.front().at(1).toString();
  return !loaded.isEmpty();
}

}  // namespace

class EngineControllerTest : public QObject {
  Q_OBJECT
  QString model_;

 private slots:
  void initTestCase() { model_ = makeTinyModel(); }

  void loadsAndDescribesTheModel() {
    EngineController engine;
    QSignalSpy loaded(&engine, &EngineController::modelLoaded);
    engine.loadModel(model_, "cpu");
    QVERIFY(engine.isLoading());
    QVERIFY(loaded.wait(60000));
    const ModelInfo info = loaded.front().at(0).value<ModelInfo>();
    QCOMPARE(info.name, QStringLiteral("tiny-test"));
    QVERIFY2(info.backendDescription.startsWith("cpu"), qPrintable(info.backendDescription));
    QVERIFY(!info.onGpu());
    QCOMPARE(info.window, 16);
    QCOMPARE(info.trainLength, 64);
    QCOMPARE(info.vocabSize, 512);
    QCOMPARE(info.tokenizerFamily, QStringLiteral("sentencepiece"));
    QVERIFY(info.parameters > 10000);
    QVERIFY(info.stateBytes > 0);
    QCOMPARE(info.fingerprint.size(), 64);
    QVERIFY(engine.isModelLoaded() && !engine.isLoading());
    QVERIFY(info.summary().contains("tiny-test on cpu"));

    QFuture<qint64> count = engine.countTokens("The report on page 3 says the value is 21.");
    count.waitForFinished();
    QVERIFY(count.result() > 5);
  }

  void loadFailuresAreMessages() {
    EngineController engine;
    QString error;
    QVERIFY(!loadModel(engine, "/nonexistent/model", &error));
    QVERIFY2(error.contains("no model folder at /nonexistent/model"), qPrintable(error));

    const QString empty = freshDir("not-a-model");
    QVERIFY(!loadModel(engine, empty, &error));
    QVERIFY2(error.contains("not a model folder") && error.contains("config.json"), qPrintable(error));

    // A damaged weights file names the file.
    const QString broken = freshDir("broken-model");
    for (const char* f : {"config.json", "tokenizer.model"}) QFile::copy(model_ + "/" + f, broken + "/" + f);
    truncateCopy(model_ + "/model.safetensors", broken + "/model.safetensors", 0.5);
    QVERIFY(!loadModel(engine, broken, &error));
    QVERIFY2(error.contains("model.safetensors"), qPrintable(error));

    // A failed validation keeps the model that was loaded.
    QVERIFY(loadModel(engine, model_));
    QVERIFY(!loadModel(engine, empty, &error));
    QVERIFY(engine.isModelLoaded());
    QCOMPARE(engine.model().name, QStringLiteral("tiny-test"));
    QVERIFY(run(engine, request("Document:\nshort", 5)).failure.isEmpty());
  }

  void streamsInBatches() {
    EngineController engine;
    QVERIFY(loadModel(engine, model_));
    engine.setFlushInterval(25);
    QElapsedTimer timer;
    // The GUI thread's event loop keeps turning while tokens stream.
    // (How long it stalls is a speed figure: tests/ui/bench_gui_stalls,
    // docs/BENCHMARKS.md; here only that its timers are served.)
    QElapsedTimer gap;
    qint64 worstGap = 0;
    int ticks = 0;
    QTimer tick;
    tick.setInterval(2);
    connect(&tick, &QTimer::timeout, this, [&] {
      ++ticks;
      if (gap.isValid()) worstGap = qMax(worstGap, gap.elapsed());
      gap.start();
    });
    tick.start();
    timer.start();
    const Outcome o = run(engine, request(longContext(30), 4000));
    const qint64 elapsed = timer.elapsed();
    tick.stop();
    qInfo("%lld tokens in %lld ms (%.0f tokens/s), %d deltas, longest GUI-thread gap %lld ms", o.stats.outputTokens,
          elapsed, o.stats.decodeTokensPerSecond, o.deltas, worstGap);
    QVERIFY2(ticks >= 2, qPrintable(QStringLiteral("%1 timer ticks delivered while streaming").arg(ticks)));
    QVERIFY2(o.failure.isEmpty(), qPrintable(o.failure));
    QCOMPARE(o.stats.outputTokens, 4000);
    QCOMPARE(o.streamed, o.stats.text);  // the batches add up to the answer
    QVERIFY(o.deltas >= 1);
    // At most one delta per flush tick (plus the final flush), never one per token.
    QVERIFY2(o.deltas <= elapsed / 25 + 2, qPrintable(QStringLiteral("%1 deltas in %2 ms").arg(o.deltas).arg(elapsed)));
    QVERIFY(o.deltas < o.stats.outputTokens);
    QCOMPARE(o.stats.stopReason.isEmpty(), false);
    QVERIFY(!o.stats.cancelled);
    QVERIFY(o.stats.contextTokens > 100);
    QVERIFY(o.stats.instructionTokens > 0);
    QVERIFY(o.stats.firstTokenSeconds > 0);
    QVERIFY(o.stats.firstTokenSeconds >= o.stats.prefillSeconds * 0.5);
    QVERIFY(!o.snapshot.isEmpty());
    QVERIFY(!o.progress.isEmpty());
    QCOMPARE(o.progress.back().total, o.stats.promptTokens());
  }

  void stopTakesEffectWithinOneToken() {
    EngineController engine;
    QVERIFY(loadModel(engine, model_));
    qint64 countAfterStop = -1;
    const Outcome o = run(engine, request("Document:\nstop test", 10'000'000), [&](Outcome&) {
      if (countAfterStop >= 0) return;
      engine.stop();
      countAfterStop = engine.tokensGenerated();
    });
    QVERIFY2(o.failure.isEmpty(), qPrintable(o.failure));
    QVERIFY(o.stats.cancelled);
    QCOMPARE(o.stats.stopReason, QStringLiteral("cancelled"));
    QVERIFY(countAfterStop >= 1);
    QVERIFY2(o.stats.outputTokens <= countAfterStop + 1,
             qPrintable(QStringLiteral("%1 tokens after a stop at %2").arg(o.stats.outputTokens).arg(countAfterStop)));
    QCOMPARE(o.streamed, o.stats.text);
    QVERIFY(!engine.isBusy());
  }

  void stopDuringPrefill() {
    EngineController engine;
    QVERIFY(loadModel(engine, model_));
    GenerationRequest r = request(longContext(20000), 50);
    r.prefillChunk = 64;
    bool stopped = false;
    QObject guard;
    connect(&engine, &EngineController::prefillProgress, &guard, [&](quint64, const PrefillProgress& p) {
      if (!stopped && p.done > 0) {
        stopped = true;
        engine.stop();
      }
    });
    const Outcome o = run(engine, r);
    QVERIFY2(o.failure.isEmpty(), qPrintable(o.failure));
    QVERIFY(stopped);
    QVERIFY(o.stats.cancelled);
    QCOMPARE(o.stats.outputTokens, 0);
    QVERIFY(o.progress.back().done < o.progress.back().total);
  }

  void engineErrorsReachTheCaller() {
    EngineController engine;
    engine.setBackendFactory([](const samba::ModelFiles& files, const std::string&) {
      samba::BackendChoice choice;
      choice.backend = std::make_unique<FailingBackend>(samba::create_cpu_backend(files, 1), 3,
                                                        FailingBackend::Failure::Device);
      return choice;
    });
    QVERIFY(loadModel(engine, model_));
    QVERIFY(engine.model().backendDescription.startsWith("failing test backend"));
    const Outcome o = run(engine, request("Document:\nerror test", 50));
    QVERIFY2(o.failure.startsWith("GPU error: simulated CUDA error"), qPrintable(o.failure));
    QVERIFY(!engine.isBusy());
    // The engine survives and the next request works (the fault was one call).
    const Outcome next = run(engine, request("Document:\nerror test", 5));
    QVERIFY2(next.failure.isEmpty(), qPrintable(next.failure));
    QCOMPARE(next.stats.outputTokens, 5);

    EngineController oom;
    oom.setBackendFactory([](const samba::ModelFiles& files, const std::string&) {
      samba::BackendChoice choice;
      choice.backend = std::make_unique<FailingBackend>(samba::create_cpu_backend(files, 1), 1,
                                                        FailingBackend::Failure::OutOfMemory);
      return choice;
    });
    QVERIFY(loadModel(oom, model_));
    QVERIFY(run(oom, request("Document:\nx", 5)).failure.startsWith("out of memory"));
  }

  void refusesWhenBusyOrUnloaded() {
    EngineController unloaded;
    QSignalSpy failed(&unloaded, &EngineController::failed);
    QCOMPARE(unloaded.generate(request("x", 1)), quint64(0));
    QCOMPARE(failed.front().at(1).toString(), QStringLiteral("no model is loaded"));

    EngineController engine;
    QVERIFY(loadModel(engine, model_));
    QSignalSpy busy(&engine, &EngineController::failed);
    const quint64 first = engine.generate(request("Document:\nbusy", 1'000'000));
    QVERIFY(first != 0);
    QCOMPARE(engine.generate(request("x", 1)), quint64(0));
    QVERIFY(busy.front().at(1).toString().contains("busy"));
    QSignalSpy finished(&engine, &EngineController::finished);
    engine.stop();
    QVERIFY(finished.wait(30000));
  }

  void snapshotRestoreMatchesReading() {
    EngineController engine;
    QVERIFY(loadModel(engine, model_));
    const GenerationRequest fresh = request(longContext(200), 40);
    const Outcome first = run(engine, fresh);
    QVERIFY2(first.failure.isEmpty(), qPrintable(first.failure));
    QVERIFY(!first.snapshot.isEmpty());
    QCOMPARE(first.reused, -1);

    GenerationRequest restored = fresh;
    restored.snapshot = first.snapshot;
    const Outcome second = run(engine, restored);
    QCOMPARE(second.reused, first.stats.contextTokens);
    QCOMPARE(second.stats.reusedTokens, first.stats.contextTokens);
    QCOMPARE(second.stats.text, first.stats.text);  // greedy: identical answer
    QVERIFY(second.snapshot.isEmpty());             // nothing new to save
    QVERIFY(second.stats.snapshotNote.isEmpty());

    // A damaged snapshot is not trusted: the documents are read again.
    GenerationRequest damaged = fresh;
    damaged.snapshot = first.snapshot;
    damaged.snapshot[damaged.snapshot.size() / 2] = char(damaged.snapshot[damaged.snapshot.size() / 2] ^ 0x5a);
    const Outcome third = run(engine, damaged);
    QVERIFY2(third.failure.isEmpty(), qPrintable(third.failure));
    QCOMPARE(third.reused, -1);
    QVERIFY2(third.stats.snapshotNote.contains("read again"), qPrintable(third.stats.snapshotNote));
    QCOMPARE(third.stats.text, first.stats.text);
  }
};

QTEST_GUILESS_MAIN(EngineControllerTest)
#include "test_engine_controller.moc"
