// The sessions store: sessions, documents, messages and snapshots; search
// (FTS5 and the LIKE fallback); export; migrations from every earlier schema
// version; and a writer process killed with SIGKILL in the middle of its
// writes, after which the database passes integrity_check and holds every
// message the writer had reported committed.
#include <signal.h>

#include <QCoreApplication>
#include <QJsonDocument>
#include <QProcess>
#include <QRandomGenerator>
#include <QSqlError>
#include <QSqlQuery>
#include <QUuid>
#include <QtTest>
#include <cstdio>
#include <cstring>

#include "schema.h"
#include "session_store.h"
#include "raw_db.h"
#include "test_support.h"

using namespace sambalens;
using namespace sambalens_test;

namespace {

// The text of message `index` of the killed writer: large, so a kill often
// lands inside a write, and self-describing, so damage is detectable.
QString writerText(int index) {
  QString text = QStringLiteral("message %1 begins;").arg(index);
  const QString unit = QStringLiteral(" payload-%1").arg(index);
  while (text.size() < 200000) text += unit;
  return text + QStringLiteral(" message %1 ends").arg(index);
}

// Child process: writes messages as fast as it can, reporting each commit.
int runStoreWriter(const QString& path) {
  SessionStore store;
  if (!store.open(path)) {
    std::fprintf(stderr, "%s\n", qPrintable(store.lastError()));
    return 2;
  }
  const std::optional<qint64> session = store.createSession("killed writer", "m", {});
  if (!session) return 3;
  std::printf("session %lld\n", static_cast<long long>(*session));
  std::fflush(stdout);
  for (int i = 0;; ++i) {
    MessageRecord m;
    m.sessionId = *session;
    m.role = i % 2 ? "assistant" : "user";
    m.text = writerText(i);
    m.outputTokens = i;
    if (!store.appendMessage(m)) {
      std::fprintf(stderr, "%s\n", qPrintable(store.lastError()));
      return 4;
    }
    std::printf("committed %d\n", i);
    std::fflush(stdout);
  }
}

MessageRecord message(qint64 session, const QString& role, const QString& text) {
  MessageRecord m;
  m.sessionId = session;
  m.role = role;
  m.text = text;
  return m;
}

}  // namespace

class SessionStoreTest : public QObject {
  Q_OBJECT

  QString newDbPath() { return freshDir("store") + "/sessions.sqlite"; }

 private slots:
  void opensWithWalAndLatestSchema() {
    const QString path = newDbPath();
    SessionStore store;
    QVERIFY2(store.open(path), qPrintable(store.lastError()));
    QCOMPARE(store.schemaVersion(), kLatestSchemaVersion);
    QVERIFY(store.hasFullTextSearch());
    RawDb raw(path);
    QCOMPARE(raw.scalar("PRAGMA journal_mode").toString(), QStringLiteral("wal"));
  }

  void sessionsDocumentsMessages() {
    SessionStore store;
    QVERIFY(store.open(newDbPath()));
    DocumentRecord d;
    d.path = "/docs/report.pdf";
    d.contentHash = "abc";
    d.kind = "pdf";
    d.pages = 12;
    d.bytes = 1000;
    const std::optional<qint64> doc = store.upsertDocument(d);
    QVERIFY(doc);
    QCOMPARE(*store.upsertDocument(d), *doc);  // same path and content: same row
    d.contentHash = "def";
    QVERIFY(*store.upsertDocument(d) != *doc);  // changed content: a new row
    QVERIFY(store.setDocumentTokens(*doc, 4321, "fp1"));
    QCOMPARE(store.document(*doc)->tokens, 4321);

    const std::optional<qint64> s1 = store.createSession("First", "/models/a", {*doc});
    QTest::qWait(5);
    const std::optional<qint64> s2 = store.createSession("Second", "/models/a", {});
    QVERIFY(s1 && s2);
    QCOMPARE(store.sessions().front().id, *s2);  // most recent first

    MessageRecord answer = message(*s1, "assistant", "It is on page 3.");
    answer.preset = "ask";
    answer.stopReason = "end of text";
    answer.promptTokens = 5000;
    answer.reusedTokens = 4900;
    answer.outputTokens = 7;
    answer.prefillSeconds = 1.25;
    answer.firstTokenSeconds = 1.5;
    answer.decodeSeconds = 0.25;
    answer.citations = QJsonArray{QJsonObject{{"document", "/docs/report.pdf"}, {"page", 3}}};
    QVERIFY(store.appendMessage(message(*s1, "user", "Where is it?")));
    QVERIFY(store.appendMessage(answer));
    QCOMPARE(store.sessions().front().id, *s1);  // a new message moves it up
    QCOMPARE(store.sessions().front().messageCount, 2);

    const QList<MessageRecord> msgs = store.messages(*s1);
    QCOMPARE(msgs.size(), 2);
    const MessageRecord& back = msgs[1];
    QCOMPARE(back.text, answer.text);
    QCOMPARE(back.preset, QStringLiteral("ask"));
    QCOMPARE(back.stopReason, QStringLiteral("end of text"));
    QCOMPARE(back.reusedTokens, 4900);
    QCOMPARE(back.prefillSeconds, 1.25);
    QCOMPARE(back.citations, answer.citations);
    QVERIFY(back.createdAt.isValid());
    QVERIFY(!store.appendMessage(message(*s1, "robot", "bad role")));  // CHECK constraint
    QVERIFY(!store.appendMessage(message(999, "user", "no such session")));

    QVERIFY(store.renameSession(*s1, "Renamed"));
    QCOMPARE(store.session(*s1)->title, QStringLiteral("Renamed"));
    QVERIFY(!store.renameSession(12345, "x"));
    QCOMPARE(store.sessionDocuments(*s1).size(), 1);

    QVERIFY(store.setLastSessionId(*s1));
    QCOMPARE(*store.lastSessionId(), *s1);

    SnapshotRecord snap{0, *s1, "fp", "docs", 100, QByteArray(1000, 'x'), {}};
    QVERIFY(store.saveSnapshot(snap));
    QVERIFY(store.deleteSession(*s1));
    QVERIFY(!store.session(*s1));
    QVERIFY(store.messages(*s1).isEmpty());
    QVERIFY(!store.findSnapshot("fp", "docs"));  // deleted with its session
    QVERIFY(!store.lastSessionId());             // the last session is gone
  }

  // Activity within one millisecond (no waits here; a fast machine made the
  // list order of the test above depend on the clock): the latest change
  // still puts its session first.
  void latestActivityFirstWithinOneMillisecond() {
    SessionStore store;
    QVERIFY(store.open(newDbPath()));
    const std::optional<qint64> a = store.createSession("A", "/models/a", {});
    const std::optional<qint64> b = store.createSession("B", "/models/a", {});
    const std::optional<qint64> c = store.createSession("C", "/models/a", {});
    QVERIFY(a && b && c);
    QCOMPARE(store.sessions().front().id, *c);
    QVERIFY(store.appendMessage(message(*a, "user", "first")));
    QCOMPARE(store.sessions().front().id, *a);
    QVERIFY(store.renameSession(*b, "B renamed"));
    QCOMPARE(store.sessions().front().id, *b);
    QVERIFY(store.appendMessage(message(*c, "user", "third")));
    const QList<SessionRecord> order = store.sessions();
    QCOMPARE(order.size(), 3);
    QCOMPARE(order[0].id, *c);
    QCOMPARE(order[1].id, *b);
    QCOMPARE(order[2].id, *a);
  }

  void snapshots() {
    SessionStore store;
    QVERIFY(store.open(newDbPath()));
    const qint64 s = *store.createSession("s", "m", {});
    QVERIFY(store.saveSnapshot({0, s, "model-1", "docs-A", 500, QByteArray(4096, 'a'), {}}));
    QVERIFY(store.saveSnapshot({0, s, "model-1", "docs-A", 600, QByteArray(4096, 'b'), {}}));  // replaces
    QVERIFY(store.saveSnapshot({0, s, "model-2", "docs-A", 500, QByteArray(4096, 'c'), {}}));
    const auto found = store.findSnapshot("model-1", "docs-A");
    QVERIFY(found);
    QCOMPARE(found->tokens, 600);
    QCOMPARE(found->state, QByteArray(4096, 'b'));
    QVERIFY(!store.findSnapshot("model-1", "docs-B"));
    QFuture<bool> async = store.saveSnapshotAsync({0, s, "model-3", "docs-C", 7, QByteArray(1 << 20, 'z'), {}});
    async.waitForFinished();
    QVERIFY(async.result());
    QCOMPARE(store.findSnapshot("model-3", "docs-C")->state.size(), 1 << 20);
    QVERIFY(store.pruneSnapshots(1 << 20));  // keeps the newest that fit
    QVERIFY(store.findSnapshot("model-3", "docs-C"));
    QVERIFY(!store.findSnapshot("model-1", "docs-A"));
    QVERIFY(store.snapshotBytes() <= (1 << 20));
  }

  void searchFindsTitlesAndMessages() {
    const QString path = newDbPath();
    SessionStore store;
    QVERIFY(store.open(path));
    const qint64 a = *store.createSession("Contract review", "m", {});
    const qint64 b = *store.createSession("Thesis", "m", {});
    store.appendMessage(message(a, "assistant", "The termination clause is on page 14."));
    store.appendMessage(message(b, "assistant", "Chapter two measures entropy of attention heads."));
    QList<SearchHit> hits = store.search("entropy attention");
    QCOMPARE(hits.size(), 1);
    QCOMPARE(hits[0].sessionId, b);
    QVERIFY2(hits[0].snippet.contains("[entropy]"), qPrintable(hits[0].snippet));
    hits = store.search("termin");  // prefix
    QCOMPARE(hits.size(), 1);
    QCOMPARE(hits[0].sessionId, a);
    hits = store.search("contract");
    QCOMPARE(hits.size(), 1);
    QCOMPARE(hits[0].messageId, 0);  // title hit
    // FTS query syntax in user input is taken literally, never an error.
    for (const QString& q : {QStringLiteral("\"unbalanced"), QStringLiteral("a AND OR"), QStringLiteral("*"),
                             QStringLiteral("NEAR(x y)"), QStringLiteral("50%_off")}) {
      store.search(q);
      QVERIFY2(store.lastError().isEmpty() || !store.lastError().contains("search failed"), qPrintable(q));
    }
    QVERIFY(store.search("   ").isEmpty());

    // Without the FTS5 index (an SQLite without FTS5) search falls back to LIKE.
    {
      RawDb raw(path);
      raw.exec("DROP TRIGGER messages_fts_insert");
      raw.exec("DROP TRIGGER messages_fts_delete");
      raw.exec("DROP TRIGGER messages_fts_update");
      raw.exec("DROP TABLE messages_fts");
    }
    QVERIFY(!store.hasFullTextSearch());
    hits = store.search("entropy attention");
    QCOMPARE(hits.size(), 1);
    QVERIFY2(hits[0].snippet.contains("[entropy]"), qPrintable(hits[0].snippet));
    QCOMPARE(store.search("50%").size(), 0);  // % is literal, not a wildcard
  }

  void exportsMarkdownAndJson() {
    SessionStore store;
    QVERIFY(store.open(newDbPath()));
    DocumentRecord d{0, "/docs/report.pdf", "h", "pdf", 3, 900, "fp", 100, {}};
    const qint64 s = *store.createSession("Report summary", "/models/default", {*store.upsertDocument(d)});
    MessageRecord q = message(s, "user", "Summarize");
    q.preset = "summarize";
    store.appendMessage(q);
    MessageRecord a = message(s, "assistant", "A short report; see page 2.");
    a.preset = "summarize";
    a.outputTokens = 8;
    a.decodeSeconds = 0.5;
    a.reusedTokens = 900;
    a.stopReason = "end of text";
    a.citations = QJsonArray{QJsonObject{{"document", "/docs/report.pdf"}, {"page", 2}}};
    store.appendMessage(a);

    const QString md = store.exportMarkdown(s);
    QVERIFY(md.startsWith("# Report summary\n"));
    QVERIFY(md.contains("- Model: `/models/default`"));
    QVERIFY(md.contains("`/docs/report.pdf` (pdf, 3 pages, 900 tokens)"));
    QVERIFY(md.contains("## User (summarize)"));
    QVERIFY(md.contains("A short report; see page 2."));
    QVERIFY(md.contains("16.0 tokens/s"));
    QVERIFY(md.contains("model state reused (900 tokens not read again)"));
    QVERIFY(md.contains("Citations: page 2 of report.pdf"));

    const QJsonObject json = store.exportJson(s);
    QCOMPARE(json.value("format").toString(), QStringLiteral("sambalens-session"));
    QCOMPARE(json.value("messages").toArray().size(), 2);
    QCOMPARE(json.value("messages").toArray()[1].toObject().value("citations").toArray()[0].toObject().value("page").toInt(), 2);
    QCOMPARE(json.value("documents").toArray()[0].toObject().value("pages").toInt(), 3);
    // Valid JSON text, re-readable.
    QVERIFY(QJsonDocument::fromJson(QJsonDocument(json).toJson()).isObject());
    QVERIFY(store.exportMarkdown(424242).isEmpty());
  }

  // A database of every earlier version, with data written the way that
  // version wrote it, opens, migrates and keeps everything.
  void migratesFromEveryEarlierVersion_data() {
    QTest::addColumn<int>("from");
    for (int v = 0; v < kLatestSchemaVersion; ++v) QTest::addRow("v%d", v) << v;
  }
  void migratesFromEveryEarlierVersion() {
    QFETCH(int, from);
    const QString path = newDbPath();
    {
      RawDb raw(path);
      QSqlDatabase db = raw.db();
      QString error;
      QVERIFY2(migrateSchema(db, from, &error), qPrintable(error));
      QCOMPARE(schemaVersion(db), from);
      if (from >= 1) {
        raw.exec("INSERT INTO documents (path, content_hash, kind, pages, tokens, bytes, imported_at) "
                 "VALUES ('/d/old.pdf', 'h1', 'pdf', 4, 321, 99, '2024-01-01T00:00:00.000Z')");
        raw.exec("INSERT INTO sessions (title, model, created_at, updated_at) "
                 "VALUES ('Old session', '/m', '2024-01-01T00:00:00.000Z', '2024-01-02T00:00:00.000Z')");
        raw.exec("INSERT INTO session_documents VALUES (1, 1, 0)");
        raw.exec("INSERT INTO messages (session_id, role, text, created_at, prompt_tokens, output_tokens, "
                 "prefill_ms, first_token_ms, decode_ms, citations) VALUES (1, 'assistant', "
                 "'the migrated zanzibar answer', '2024-01-02T00:00:00.000Z', 10, 3, 1500, 1600, 300, "
                 "'[{\"document\":\"/d/old.pdf\",\"page\":4}]')");
      }
      if (from >= 2) {
        raw.exec("INSERT INTO snapshots (session_id, model_fingerprint, doc_set_hash, tokens, state, created_at) "
                 "VALUES (1, 'fp', 'docs', 321, x'0102', '2024-01-02T00:00:00.000Z')");
      }
    }
    SessionStore store;
    QVERIFY2(store.open(path), qPrintable(store.lastError()));
    QCOMPARE(store.schemaVersion(), kLatestSchemaVersion);
    RawDb check(path);
    QCOMPARE(check.scalar("PRAGMA integrity_check").toString(), QStringLiteral("ok"));
    if (from == 0) {
      QVERIFY(store.sessions().isEmpty());
      return;
    }
    const QList<SessionRecord> sessions = store.sessions();
    QCOMPARE(sessions.size(), 1);
    QCOMPARE(sessions[0].title, QStringLiteral("Old session"));
    const QList<MessageRecord> msgs = store.messages(sessions[0].id);
    QCOMPARE(msgs.size(), 1);
    QCOMPARE(msgs[0].text, QStringLiteral("the migrated zanzibar answer"));
    QCOMPARE(msgs[0].prefillSeconds, 1.5);
    QCOMPARE(msgs[0].citations[0].toObject().value("page").toInt(), 4);
    QCOMPARE(msgs[0].stopReason, QString());  // added in v3, default
    QCOMPARE(store.sessionDocuments(sessions[0].id)[0].tokens, 321);
    // Old messages are searchable through the index built by the migration.
    const QList<SearchHit> hits = store.search("zanzibar");
    QCOMPARE(hits.size(), 1);
    QCOMPARE(hits[0].messageId, msgs[0].id);
    if (from >= 2) QCOMPARE(store.findSnapshot("fp", "docs")->state, QByteArray("\x01\x02", 2));
    // And the upgraded database is fully usable.
    QVERIFY(store.appendMessage(message(sessions[0].id, "user", "new question")));
    QVERIFY(store.setLastSessionId(sessions[0].id));
  }

  void refusesANewerSchemaAndNonDatabases() {
    const QString path = newDbPath();
    {
      RawDb raw(path);
      raw.exec("PRAGMA user_version = 99");
    }
    SessionStore store;
    QVERIFY(!store.open(path));
    QVERIFY2(store.lastError().contains(path) && store.lastError().contains("newer"), qPrintable(store.lastError()));

    const QString junk = freshDir("junk") + "/sessions.sqlite";
    writeFile(junk, QByteArray(4096, 'j'));
    SessionStore other;
    QVERIFY(!other.open(junk));
    QVERIFY2(other.lastError().startsWith(junk), qPrintable(other.lastError()));
  }

  // SIGKILL a writer at random moments: every reported commit survives and
  // the file is consistent.
  void killedWriterLosesNothingCommitted() {
    const QString path = newDbPath();
    for (int round = 0; round < 4; ++round) {
      QProcess child;
      child.start(QCoreApplication::applicationFilePath(), {"--store-writer", path});
      QVERIFY(child.waitForStarted());
      const int killAfter = 3 + QRandomGenerator::global()->bounded(12);
      int committed = -1;
      qint64 session = 0;
      QByteArray pending;
      while (committed < killAfter) {
        QVERIFY2(child.waitForReadyRead(30000), child.readAllStandardError().constData());
        pending += child.readAllStandardOutput();
        int nl;
        while ((nl = pending.indexOf('\n')) >= 0) {
          const QByteArray line = pending.left(nl);
          pending.remove(0, nl + 1);
          if (line.startsWith("session ")) session = line.mid(8).toLongLong();
          if (line.startsWith("committed ")) committed = line.mid(10).toInt();
        }
      }
      // Wait a random fraction of one write so the kill lands anywhere in it.
      QThread::usleep(QRandomGenerator::global()->bounded(20000));
      ::kill(pid_t(child.processId()), SIGKILL);
      QVERIFY(child.waitForFinished(10000));
      QCOMPARE(child.exitStatus(), QProcess::CrashExit);

      {
        RawDb raw(path);
        QCOMPARE(raw.scalar("PRAGMA integrity_check").toString(), QStringLiteral("ok"));
      }
      SessionStore store;
      QVERIFY2(store.open(path), qPrintable(store.lastError()));
      const QList<MessageRecord> msgs = store.messages(session);
      QVERIFY2(msgs.size() >= committed + 1, qPrintable(QStringLiteral("%1 messages, %2 committed").arg(msgs.size()).arg(committed + 1)));
      for (int i = 0; i < msgs.size(); ++i) {
        QVERIFY2(msgs[i].text == writerText(i), qPrintable(QStringLiteral("message %1 damaged").arg(i)));
        QCOMPARE(msgs[i].outputTokens, i);
      }
    }
  }
};

int main(int argc, char** argv) {
  if (argc >= 3 && std::strcmp(argv[1], "--store-writer") == 0) {
    QCoreApplication app(argc, argv);
    return runStoreWriter(QString::fromLocal8Bit(argv[2]));
  }
  QCoreApplication app(argc, argv);
  SessionStoreTest test;
  return QTest::qExec(&test, argc, argv);
}

#include "test_session_store.moc"
