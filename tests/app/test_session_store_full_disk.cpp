// The sessions store when the disk fills while a message is being saved
// (simulated with RLIMIT_FSIZE, see file_size_limit.h): the caller gets an
// error that names the database file and says the disk is full; every
// message saved before is intact after reopening (integrity_check, WAL
// recovery of a torn tail, also after the writer process dies without
// closing); and once there is space again the same open store saves again.
#include <signal.h>
#include <unistd.h>

#include <QCoreApplication>
#include <QFileInfo>
#include <QProcess>
#include <QSqlError>
#include <QSqlQuery>
#include <QUuid>
#include <QtTest>
#include <cstdio>
#include <cstring>

#include "file_size_limit.h"
#include "session_store.h"
#include "test_support.h"

using namespace sambalens;
using namespace sambalens_test;

namespace {

constexpr int kSavedBefore = 5;

// Self-describing texts, so a damaged or swapped message is detected.
QString savedText(int index) {
  QString text = QStringLiteral("saved message %1 begins;").arg(index);
  while (text.size() < 3000) text += QStringLiteral(" words-of-%1").arg(index);
  return text + QStringLiteral(" saved message %1 ends").arg(index);
}
// Large enough (~400 KB, ~100 WAL frames) that a limit a few pages past the
// end of the WAL lets the write start and then cuts it off.
QString largeText() {
  QString text = QStringLiteral("the answer being saved when the disk fills;");
  while (text.size() < 400000) text += QStringLiteral(" more answer text");
  return text;
}

MessageRecord message(qint64 session, int index, const QString& text) {
  MessageRecord m;
  m.sessionId = session;
  m.role = index % 2 ? QStringLiteral("assistant") : QStringLiteral("user");
  m.text = text;
  m.outputTokens = index;
  return m;
}

qint64 walBytes(const QString& path) { return QFileInfo(path + QStringLiteral("-wal")).size(); }

QString integrityCheck(const QString& path) {
  const QString name = QUuid::createUuid().toString();
  QString result;
  {
    QSqlDatabase db = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), name);
    db.setDatabaseName(path);
    if (!db.open()) return QStringLiteral("cannot open: ") + db.lastError().text();
    QSqlQuery q(db);
    if (!q.exec(QStringLiteral("PRAGMA integrity_check")) || !q.next()) {
      result = QStringLiteral("integrity_check failed: ") + q.lastError().text();
    } else {
      result = q.value(0).toString();
    }
    db.close();
  }
  QSqlDatabase::removeDatabase(name);
  return result;
}

// Checks that `store` holds exactly the messages `texts`, in order.
bool holdsExactly(SessionStore& store, qint64 session, const QStringList& texts, QString* why) {
  const QList<MessageRecord> msgs = store.messages(session);
  if (msgs.size() != texts.size()) {
    *why = QStringLiteral("%1 messages, expected %2 (%3)").arg(msgs.size()).arg(texts.size()).arg(store.lastError());
    return false;
  }
  for (int i = 0; i < msgs.size(); ++i) {
    if (msgs[i].text != texts[i] || msgs[i].outputTokens != i) {
      *why = QStringLiteral("message %1 differs").arg(i);
      return false;
    }
  }
  return true;
}

// The error a caller gets must name the file and say what happened.
bool isClearDiskFullError(const QString& error, const QString& path, const QString& what) {
  return error.startsWith(path) && error.contains(what) && error.contains(QStringLiteral("the disk is full")) &&
         error.contains(QStringLiteral("everything saved before is kept"));
}

// Child process: saves kSavedBefore messages, then, with the disk "full"
// a few pages past the end of the WAL, tries a large one, prints the error
// and dies without closing the database (SIGKILL).
int runFullDiskWriter(const QString& path) {
  SessionStore store;
  if (!store.open(path)) {
    std::printf("open-error %s\n", qPrintable(store.lastError()));
    return 2;
  }
  const std::optional<qint64> session = store.createSession(QStringLiteral("disk fills"), QStringLiteral("m"), {});
  if (!session) return 3;
  std::printf("session %lld\n", static_cast<long long>(*session));
  for (int i = 0; i < kSavedBefore; ++i) {
    if (!store.appendMessage(message(*session, i, savedText(i)))) {
      std::printf("save-error %s\n", qPrintable(store.lastError()));
      return 4;
    }
  }
  std::fflush(stdout);
  std::optional<qint64> id;
  {
    FileSizeLimit full(walBytes(path) + 4 * 4096);
    if (!full.active()) {
      std::printf("limit-error %s\n", qPrintable(full.error()));
      return 5;
    }
    id = store.appendMessage(message(*session, kSavedBefore, largeText()));
  }
  std::printf("%s %s\n", id ? "saved" : "error", qPrintable(id ? QString() : store.lastError()));
  std::fflush(stdout);
  ::raise(SIGKILL);  // a crash: no close, no checkpoint
  return 6;
}

}  // namespace

class SessionStoreFullDiskTest : public QObject {
  Q_OBJECT

  QString newDbPath() { return freshDir(QStringLiteral("store-full")) + QStringLiteral("/sessions.sqlite"); }

 private slots:
  void diskFillsWhileAMessageIsSaved_data() {
    QTest::addColumn<bool>("midway");
    QTest::newRow("no space at all") << false;
    QTest::newRow("space runs out midway through the write") << true;
  }

  void diskFillsWhileAMessageIsSaved() {
    QFETCH(bool, midway);
    const QString path = newDbPath();
    SessionStore store;
    QVERIFY2(store.open(path), qPrintable(store.lastError()));
    const std::optional<qint64> session = store.createSession(QStringLiteral("disk fills"), QStringLiteral("m"), {});
    QVERIFY(session);
    QStringList saved;
    for (int i = 0; i < kSavedBefore; ++i) {
      QVERIFY2(store.appendMessage(message(*session, i, savedText(i))), qPrintable(store.lastError()));
      saved.append(savedText(i));
    }

    const qint64 walBefore = walBytes(path);
    QVERIFY(walBefore > 0);
    std::optional<qint64> id;
    {
      FileSizeLimit full(midway ? walBefore + 4 * 4096 : 0);
      QVERIFY2(full.active(), qPrintable(full.error()));
      id = store.appendMessage(message(*session, kSavedBefore, largeText()));
    }
    // (a) a clear error naming the database file.
    QVERIFY2(!id, "the message was reported saved on a full disk");
    const QString error = store.lastError();
    QVERIFY2(isClearDiskFullError(error, path, QStringLiteral("cannot save message")), qPrintable(error));
    // The midway case really tore a write: frames past the old end of the WAL.
    if (midway) QVERIFY2(walBytes(path) > walBefore, qPrintable(QString::number(walBytes(path))));

    // (b) everything saved before is there, from a second connection, and
    // the file is consistent; the refused message is not half there.
    QCOMPARE(integrityCheck(path), QStringLiteral("ok"));
    {
      SessionStore reopened;
      QVERIFY2(reopened.open(path), qPrintable(reopened.lastError()));
      QString why;
      QVERIFY2(holdsExactly(reopened, *session, saved, &why), qPrintable(why));
    }

    // (c) space again: the same open store saves, no restart needed.
    const std::optional<qint64> retried = store.appendMessage(message(*session, kSavedBefore, largeText()));
    QVERIFY2(retried, qPrintable(store.lastError()));
    saved.append(largeText());
    QVERIFY2(store.renameSession(*session, QStringLiteral("renamed after the disk was freed")),
             qPrintable(store.lastError()));
    store.close();
    QCOMPARE(integrityCheck(path), QStringLiteral("ok"));
    SessionStore reopened;
    QVERIFY2(reopened.open(path), qPrintable(reopened.lastError()));
    QString why;
    QVERIFY2(holdsExactly(reopened, *session, saved, &why), qPrintable(why));
    QCOMPARE(reopened.session(*session)->title, QStringLiteral("renamed after the disk was freed"));
  }

  // The other writes of the store refuse just as clearly and recover too.
  void everyWriteFailsCleanlyOnAFullDisk() {
    const QString path = newDbPath();
    SessionStore store;
    QVERIFY2(store.open(path), qPrintable(store.lastError()));
    const std::optional<qint64> session = store.createSession(QStringLiteral("first"), QStringLiteral("m"), {});
    QVERIFY(session);
    DocumentRecord doc;
    doc.path = QStringLiteral("/docs/a.pdf");
    doc.contentHash = QStringLiteral("h1");
    doc.kind = QStringLiteral("pdf");
    const std::optional<qint64> docId = store.upsertDocument(doc);
    QVERIFY(docId);

    QStringList errors;
    {
      FileSizeLimit full(0);
      QVERIFY2(full.active(), qPrintable(full.error()));
      if (!store.createSession(QStringLiteral("second"), QStringLiteral("m"), {*docId})) errors.append(store.lastError());
      if (!store.renameSession(*session, QStringLiteral("renamed"))) errors.append(store.lastError());
      if (!store.setSessionDocuments(*session, {*docId})) errors.append(store.lastError());
      doc.contentHash = QStringLiteral("h2");
      if (!store.upsertDocument(doc)) errors.append(store.lastError());
      SnapshotRecord snapshot;
      snapshot.modelFingerprint = QStringLiteral("fp");
      snapshot.docSetHash = QStringLiteral("docs");
      snapshot.state = QByteArray(64 * 1024, 's');
      if (!store.saveSnapshot(snapshot)) errors.append(store.lastError());
      // The pool-thread writer (its own connection) fails too, and says so.
      QVERIFY(!store.saveSnapshotAsync(snapshot).result());
    }
    QVERIFY2(errors.size() == 5, qPrintable(errors.join(QLatin1Char('\n'))));
    for (const QString& e : errors) QVERIFY2(e.startsWith(path) && e.contains(QStringLiteral("the disk is full")), qPrintable(e));

    QVERIFY2(store.createSession(QStringLiteral("second"), QStringLiteral("m"), {*docId}), qPrintable(store.lastError()));
    QVERIFY2(store.renameSession(*session, QStringLiteral("renamed")), qPrintable(store.lastError()));
    QVERIFY2(store.setSessionDocuments(*session, {*docId}), qPrintable(store.lastError()));
    QVERIFY2(store.upsertDocument(doc), qPrintable(store.lastError()));
    QCOMPARE(store.sessions().size(), 2);
    QCOMPARE(store.sessionDocuments(*session).size(), 1);
    store.close();
    QCOMPARE(integrityCheck(path), QStringLiteral("ok"));
  }

  // The writer dies (SIGKILL) right after the disk filled under it, with a
  // torn tail in the WAL: the next open recovers every committed message.
  void writerKilledAfterTheDiskFilledLosesNothingSaved() {
    const QString path = newDbPath();
    QProcess child;
    child.start(QCoreApplication::applicationFilePath(), {QStringLiteral("--full-disk-writer"), path});
    QVERIFY(child.waitForStarted());
    QVERIFY2(child.waitForFinished(60000), "the writer did not finish");
    QCOMPARE(child.exitStatus(), QProcess::CrashExit);  // killed, as planned
    const QString out = QString::fromLocal8Bit(child.readAllStandardOutput());
    const QStringList lines = out.split(QLatin1Char('\n'), Qt::SkipEmptyParts);
    qint64 session = 0;
    QString error;
    for (const QString& line : lines) {
      if (line.startsWith(QStringLiteral("session "))) session = line.mid(8).toLongLong();
      if (line.startsWith(QStringLiteral("error "))) error = line.mid(6);
    }
    QVERIFY2(session > 0 && !error.isEmpty(), qPrintable(out));
    QVERIFY2(isClearDiskFullError(error, path, QStringLiteral("cannot save message")), qPrintable(error));

    QCOMPARE(integrityCheck(path), QStringLiteral("ok"));
    SessionStore store;
    QVERIFY2(store.open(path), qPrintable(store.lastError()));
    QStringList saved;
    for (int i = 0; i < kSavedBefore; ++i) saved.append(savedText(i));
    QString why;
    QVERIFY2(holdsExactly(store, session, saved, &why), qPrintable(why));
    QVERIFY2(store.appendMessage(message(session, kSavedBefore, largeText())), qPrintable(store.lastError()));
    QCOMPARE(store.messages(session).size(), kSavedBefore + 1);
  }
};

int main(int argc, char** argv) {
  QCoreApplication app(argc, argv);
  if (argc >= 3 && std::strcmp(argv[1], "--full-disk-writer") == 0) {
    return runFullDiskWriter(QString::fromLocal8Bit(argv[2]));
  }
  SessionStoreFullDiskTest test;
  return QTest::qExec(&test, argc, argv);
}

#include "test_session_store_full_disk.moc"
