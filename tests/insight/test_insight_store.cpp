// Saved insight runs: the v3 -> v4 migration from every earlier schema
// version keeps the sessions data and adds working run tables; sweeps and
// entropy runs round-trip exactly; deleting a sweep deletes its trials; a
// damaged results blob is reported, not trusted.
#include <QSqlDatabase>
#include <QSqlError>
#include <QSqlQuery>
#include <QTest>
#include <QUuid>
#include <cmath>

#include "insight_store.h"
#include "insight_test_support.h"
#include "schema.h"
#include "session_store.h"
#include "raw_db.h"
#include "test_support.h"

using namespace sambalens;
using namespace sambalens_insight_test;
using sambalens_test::RawDb;

namespace {

QString newDbPath() { return sambalens_test::freshDir("insight-store") + "/sessions.sqlite"; }

}  // namespace

class InsightStoreTest : public QObject {
  Q_OBJECT

 private slots:
  void migratesToV4FromEveryEarlierVersion_data() {
    QTest::addColumn<int>("from");
    for (int v = 0; v < 4; ++v) QTest::addRow("v%d", v) << v;
  }
  void migratesToV4FromEveryEarlierVersion() {
    QFETCH(int, from);
    QCOMPARE(kLatestSchemaVersion, 4);
    const QString path = newDbPath();
    {
      RawDb raw(path);
      QSqlDatabase db = raw.db();
      QString error;
      QVERIFY2(migrateSchema(db, from, &error), qPrintable(error));
      QCOMPARE(schemaVersion(db), from);
      if (from >= 1) {
        raw.exec("INSERT INTO sessions (title, model, created_at, updated_at) "
                 "VALUES ('Kept session', '/m', '2024-01-01T00:00:00.000Z', '2024-01-02T00:00:00.000Z')");
        raw.exec("INSERT INTO messages (session_id, role, text, created_at) "
                 "VALUES (1, 'user', 'an old question', '2024-01-02T00:00:00.000Z')");
      }
      if (from >= 3) raw.exec("INSERT INTO app_state VALUES ('last_session', '1')");
      QVERIFY(!raw.optionalScalar("SELECT 1 FROM sqlite_master WHERE name = 'passkey_sweeps'").isValid());
    }
    // Opening the insight store migrates; the sessions data stays.
    {
      InsightStore store;
      QVERIFY2(store.open(path), qPrintable(store.lastError()));
      QVERIFY(store.runs().isEmpty());
      PasskeySweepRecord sweep = makeSweep([](int li, int) { return li; });
      const auto id = store.savePasskeySweep(sweep);
      QVERIFY2(id, qPrintable(store.lastError()));
      QCOMPARE(store.passkeySweep(*id)->trials.size(), 36);
      EntropyRunRecord run = makeEntropyRun([](int, int, int i) { return 0.1 * i; });
      QVERIFY2(store.saveEntropyRun(run), qPrintable(store.lastError()));
      QCOMPARE(store.runs().size(), 2);
    }
    RawDb check(path);
    QCOMPARE(check.optionalScalar("PRAGMA user_version").toInt(), 4);
    QCOMPARE(check.optionalScalar("PRAGMA integrity_check").toString(), QStringLiteral("ok"));
    QCOMPARE(check.optionalScalar("PRAGMA foreign_key_check").isValid(), false);  // no violations
    SessionStore sessions;
    QVERIFY2(sessions.open(path), qPrintable(sessions.lastError()));
    QCOMPARE(sessions.schemaVersion(), 4);
    if (from >= 1) {
      QCOMPARE(sessions.sessions().size(), 1);
      QCOMPARE(sessions.sessions()[0].title, QStringLiteral("Kept session"));
      QCOMPARE(sessions.messages(1).size(), 1);
    }
    if (from >= 3) QCOMPARE(sessions.lastSessionId().value_or(0), 1);
  }

  void sessionStoreOpeningFirstAlsoMigrates() {
    const QString path = newDbPath();
    {
      SessionStore sessions;
      QVERIFY(sessions.open(path));
      QCOMPARE(sessions.schemaVersion(), 4);
    }
    InsightStore store;
    QVERIFY(store.open(path));
    QVERIFY(store.savePasskeySweep(makeSweep([](int, int) { return 1; })));
  }

  void refusesANewerSchema() {
    const QString path = newDbPath();
    {
      RawDb raw(path);
      raw.exec("PRAGMA user_version = 99");
    }
    InsightStore store;
    QVERIFY(!store.open(path));
    QVERIFY2(store.lastError().contains(path) && store.lastError().contains("newer"), qPrintable(store.lastError()));
  }

  void passkeySweepRoundTrips() {
    InsightStore store;
    QVERIFY(store.open(newDbPath()));
    PasskeySweepRecord sweep = makeSweep([](int li, int di) { return (li + di) % 5; });
    sweep.settings.seed = 0xfedcba9876543210ull;  // 64 bits survive the JSON
    sweep.settings.answerTokens = 12;
    sweep.complete = false;
    sweep.tokensRead = 12345;
    sweep.tokensInPrompts = 99999;
    sweep.seconds = 12.5;
    sweep.trials[5].answer = QStringLiteral("a \"quoted\", answer\nwith a newline");
    const auto id = store.savePasskeySweep(sweep);
    QVERIFY(id);
    const auto back = store.passkeySweep(*id);
    QVERIFY(back);
    QCOMPARE(back->id, *id);
    QCOMPARE(back->model.name, sweep.model.name);
    QCOMPARE(back->model.folder, sweep.model.folder);
    QCOMPARE(back->model.window, 2048);
    QCOMPARE(back->model.trainLength, 4096);
    QCOMPARE(back->settings.lengths, sweep.settings.lengths);
    QCOMPARE(back->settings.depths, sweep.settings.depths);
    QCOMPARE(back->settings.trials, 4);
    QCOMPARE(back->settings.seed, 0xfedcba9876543210ull);
    QCOMPARE(back->settings.answerTokens, 12);
    QCOMPARE(back->complete, false);
    QCOMPARE(back->tokensRead, 12345);
    QCOMPARE(back->tokensInPrompts, 99999);
    QCOMPARE(back->seconds, 12.5);
    QCOMPARE(back->createdAt.toMSecsSinceEpoch(), sweep.createdAt.toMSecsSinceEpoch());
    QCOMPARE(back->trials.size(), sweep.trials.size());
    bool foundAnswer = false;
    for (const PasskeyTrialRecord& t : back->trials) foundAnswer = foundAnswer || t.answer == sweep.trials[5].answer;
    QVERIFY(foundAnswer);
    for (const PasskeyCellSummary& c : sweep.cells()) {
      const auto b = back->cell(c.length, c.depth);
      QVERIFY(b);
      QCOMPARE(b->correct, c.correct);
      QCOMPARE(b->trials, c.trials);
    }
    const QList<InsightRunSummary> runs = store.runs();
    QCOMPARE(runs.size(), 1);
    QCOMPARE(runs[0].kind, InsightRunSummary::Kind::Passkey);
    QVERIFY2(runs[0].description.contains("1024, 2048, 4096") && runs[0].description.contains("stopped early"),
             qPrintable(runs[0].description));
    // Deleting the sweep deletes its trials.
    QVERIFY(store.deleteRun(InsightRunSummary::Kind::Passkey, *id));
    QVERIFY(!store.passkeySweep(*id));
    RawDb check(store.path());
    QCOMPARE(check.optionalScalar("SELECT COUNT(*) FROM passkey_trials").toInt(), 0);
    QVERIFY(!store.deleteRun(InsightRunSummary::Kind::Passkey, *id));
  }

  void entropyRunRoundTrips() {
    InsightStore store;
    QVERIFY(store.open(newDbPath()));
    EntropyRunRecord run = makeEntropyRun([](int s, int h, int i) { return 0.25 * s + 0.5 * h + 0.01 * i; });
    run.text += QStringLiteral("ü€😀");  // non-ASCII survives
    run.seconds = 3.25;
    run.model.backend = QStringLiteral("cpu (2 threads)");
    const auto id = store.saveEntropyRun(run);
    QVERIFY(id);
    const auto back = store.entropyRun(*id);
    QVERIFY2(back, qPrintable(store.lastError()));
    QCOMPARE(back->text, run.text);
    QCOMPARE(back->tokenStart, run.tokenStart);
    QCOMPARE(back->surprisal, run.surprisal);
    QCOMPARE(back->bucketWidth, run.bucketWidth);
    QCOMPARE(back->buckets, run.buckets);
    QCOMPARE(back->model.layers, 4);
    QCOMPARE(back->model.heads, 2);
    QCOMPARE(back->model.window, 8);
    QCOMPARE(back->model.backend, run.model.backend);
    QCOMPARE(back->document, run.document);
    QCOMPARE(back->seconds, 3.25);
    QCOMPARE(back->stats.size(), run.stats.size());
    for (size_t i = 0; i < run.stats.size(); ++i) {
      QCOMPARE(back->stats[i].mean, run.stats[i].mean);
      QCOMPARE(back->stats[i].count, run.stats[i].count);
    }
    const QList<InsightRunSummary> runs = store.runs();
    QCOMPARE(runs.size(), 1);
    QVERIFY2(runs[0].description.contains("known.txt") && runs[0].description.contains("40 tokens"),
             qPrintable(runs[0].description));
  }

  void damagedResultsAreReported() {
    EntropyRunRecord run = makeEntropyRun([](int, int, int) { return 1.0; });
    QByteArray blob = encodeEntropyResults(run);
    EntropyRunRecord back;
    QString error;
    QVERIFY(decodeEntropyResults(blob, &back, &error));
    QVERIFY(!decodeEntropyResults(QByteArray("not a blob at all"), &back, &error));
    QVERIFY(error.contains("cannot be read"));
    // A blob cut short.
    QByteArray raw = qUncompress(blob);
    raw.chop(raw.size() / 3);
    QVERIFY(!decodeEntropyResults(qCompress(raw), &back, &error));
    // A stored run whose blob is damaged is not returned.
    InsightStore store;
    QVERIFY(store.open(newDbPath()));
    const auto id = store.saveEntropyRun(run);
    {
      RawDb raw(store.path());
      raw.exec(QStringLiteral("UPDATE entropy_runs SET results = x'00010203' WHERE id = %1").arg(*id));
    }
    QVERIFY(!store.entropyRun(*id));
    QVERIFY2(store.lastError().contains(QStringLiteral("entropy run %1").arg(*id)), qPrintable(store.lastError()));
  }
};

QTEST_GUILESS_MAIN(InsightStoreTest)
#include "test_insight_store.moc"
