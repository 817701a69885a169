#include "session_store.h"

#include <QDir>
#include <QFileInfo>
#include <QJsonDocument>
#include <QSqlError>
#include <QSqlQuery>
#include <QStandardPaths>
#include <QUuid>
#include <QVariant>
#include <QtConcurrent/QtConcurrentRun>

#include "schema.h"

namespace sambalens {

namespace {

QString now() { return QDateTime::currentDateTimeUtc().toString(Qt::ISODateWithMs); }
QDateTime parseTime(const QVariant& v) {
  return v.isNull() ? QDateTime() : QDateTime::fromString(v.toString(), Qt::ISODateWithMs);
}
qint64 toMs(double seconds) { return qint64(seconds * 1000.0 + 0.5); }

// The activity time of a session being created or changed: now, but always
// after every other session's, so the list's "most recent first" holds even
// for two changes within one millisecond of the clock (a script, a fast
// machine). ISO times with milliseconds in UTC compare as strings.
QString activityTime(QSqlDatabase& db) {
  QString t = now();
  QSqlQuery q(db);
  if (q.exec(QStringLiteral("SELECT MAX(updated_at) FROM sessions")) && q.next() && !q.value(0).isNull()) {
    const QString latest = q.value(0).toString();
    if (latest >= t) t = parseTime(latest).addMSecs(1).toString(Qt::ISODateWithMs);
  }
  return t;
}
// A null QString binds as SQL NULL; the text columns are NOT NULL.
QString nn(const QString& s) { return s.isNull() ? QStringLiteral("") : s; }

// PRAGMAs every connection needs (they are per connection, not per file).
bool applyPragmas(QSqlDatabase& db, QString* error) {
  QSqlQuery q(db);
  const QStringList pragmas = {
      QStringLiteral("PRAGMA journal_mode = WAL"),
      QStringLiteral("PRAGMA synchronous = FULL"),
      QStringLiteral("PRAGMA foreign_keys = ON"),
      QStringLiteral("PRAGMA busy_timeout = 5000"),
  };
  for (const QString& p : pragmas) {
    if (!q.exec(p)) {
      if (error) *error = QStringLiteral("%1: %2").arg(p, q.lastError().text());
      return false;
    }
  }
  return true;
}

// A COMMIT that failed (disk full, I/O error) may leave the transaction
// open; SQLite asks applications to roll back explicitly, and until they do
// every later BEGIN fails with "cannot start a transaction within a
// transaction". When SQLite has already rolled back, this is a no-op.
void rollbackAfterFailedCommit(QSqlDatabase& db) { db.rollback(); }

bool writeSnapshot(QSqlDatabase& db, const SnapshotRecord& s, QString* error) {
  QSqlQuery q(db);
  q.prepare(QStringLiteral(
      "INSERT INTO snapshots (session_id, model_fingerprint, doc_set_hash, tokens, state, created_at) "
      "VALUES (?, ?, ?, ?, ?, ?) "
      "ON CONFLICT (model_fingerprint, doc_set_hash) DO UPDATE SET "
      "session_id = excluded.session_id, tokens = excluded.tokens, state = excluded.state, "
      "created_at = excluded.created_at"));
  q.addBindValue(s.sessionId > 0 ? QVariant(s.sessionId) : QVariant(QMetaType(QMetaType::LongLong)));
  q.addBindValue(nn(s.modelFingerprint));
  q.addBindValue(nn(s.docSetHash));
  q.addBindValue(s.tokens);
  q.addBindValue(s.state);
  q.addBindValue(now());
  if (!q.exec()) {
    if (error) *error = q.lastError().text();
    return false;
  }
  return true;
}

std::optional<SnapshotRecord> readSnapshot(QSqlDatabase& db, const QString& modelFingerprint,
                                           const QString& docSetHash) {
  QSqlQuery q(db);
  q.prepare(QStringLiteral(
      "SELECT id, session_id, model_fingerprint, doc_set_hash, tokens, state, created_at "
      "FROM snapshots WHERE model_fingerprint = ? AND doc_set_hash = ?"));
  q.addBindValue(modelFingerprint);
  q.addBindValue(docSetHash);
  if (!q.exec() || !q.next()) return std::nullopt;
  return SnapshotRecord{q.value(0).toLongLong(), q.value(1).toLongLong(), q.value(2).toString(),
                        q.value(3).toString(),   q.value(4).toLongLong(), q.value(5).toByteArray(),
                        parseTime(q.value(6))};
}

// Runs `work` on a connection of its own, opened on the calling (pool) thread.
template <typename Work>
auto withOwnConnection(const QString& path, Work work) -> decltype(work(std::declval<QSqlDatabase&>())) {
  const QString name = QStringLiteral("sambalens-pool-") + QUuid::createUuid().toString(QUuid::WithoutBraces);
  decltype(work(std::declval<QSqlDatabase&>())) result{};
  {
    QSqlDatabase db = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), name);
    db.setDatabaseName(path);
    if (db.open() && applyPragmas(db, nullptr)) result = work(db);
    db.close();
  }
  QSqlDatabase::removeDatabase(name);
  return result;
}

MessageRecord readMessage(const QSqlQuery& q) {
  MessageRecord m;
  m.id = q.value(0).toLongLong();
  m.sessionId = q.value(1).toLongLong();
  m.role = q.value(2).toString();
  m.text = q.value(3).toString();
  m.createdAt = parseTime(q.value(4));
  m.promptTokens = q.value(5).toLongLong();
  m.outputTokens = q.value(6).toLongLong();
  m.prefillSeconds = q.value(7).toLongLong() / 1000.0;
  m.firstTokenSeconds = q.value(8).toLongLong() / 1000.0;
  m.decodeSeconds = q.value(9).toLongLong() / 1000.0;
  m.citations = QJsonDocument::fromJson(q.value(10).toString().toUtf8()).array();
  m.preset = q.value(11).toString();
  m.stopReason = q.value(12).toString();
  m.reusedTokens = q.value(13).toLongLong();
  return m;
}

const char* kMessageColumns =
    "id, session_id, role, text, created_at, prompt_tokens, output_tokens, prefill_ms, "
    "first_token_ms, decode_ms, citations, preset, stop_reason, reused_tokens";

DocumentRecord readDocument(const QSqlQuery& q) {
  DocumentRecord d;
  d.id = q.value(0).toLongLong();
  d.path = q.value(1).toString();
  d.contentHash = q.value(2).toString();
  d.kind = q.value(3).toString();
  d.pages = q.value(4).toInt();
  d.tokens = q.value(5).toLongLong();
  d.bytes = q.value(6).toLongLong();
  d.importedAt = parseTime(q.value(7));
  d.tokenizer = q.value(8).toString();
  return d;
}

const char* kDocumentColumns = "id, path, content_hash, kind, pages, tokens, bytes, imported_at, tokenizer";

QStringList searchWords(const QString& query) {
  return query.simplified().split(QLatin1Char(' '), Qt::SkipEmptyParts);
}

QString likePattern(const QString& word) {
  QString escaped = word;
  escaped.replace(QLatin1String("\\"), QLatin1String("\\\\"));
  escaped.replace(QLatin1String("%"), QLatin1String("\\%"));
  escaped.replace(QLatin1String("_"), QLatin1String("\\_"));
  return QLatin1Char('%') + escaped + QLatin1Char('%');
}

// A few words of context around the first occurrence of `word`.
QString snippetAround(const QString& text, const QString& word) {
  const int at = text.indexOf(word, 0, Qt::CaseInsensitive);
  if (at < 0) return text.left(80).simplified();
  const int from = qMax(0, at - 40);
  QString s = text.mid(from, at - from) + QLatin1Char('[') + text.mid(at, word.size()) +
              QLatin1Char(']') + text.mid(at + word.size(), 40);
  s = s.simplified();
  if (from > 0) s.prepend(QStringLiteral("…"));
  if (at + word.size() + 40 < text.size()) s.append(QStringLiteral("…"));
  return s;
}

QString humanSeconds(double s) { return QStringLiteral("%1 s").arg(s, 0, 'f', s < 10 ? 2 : 1); }

// SQLite's words for a write the file system refused — "database or disk is
// full" (ENOSPC) and "disk I/O error" (any other failed write: EFBIG past a
// quota or file-size limit, EIO) — do not tell a user what happened or
// whether earlier data is safe. Each store write is one transaction, so a
// refused write loses only itself; say so. Other details pass unchanged.
QString explainWriteFailure(const QString& detail) {
  const bool full = detail.contains(QLatin1String("database or disk is full"), Qt::CaseInsensitive);
  const bool io = detail.contains(QLatin1String("disk I/O error"), Qt::CaseInsensitive);
  if (!full && !io) return detail;
  return QStringLiteral("the disk is full or the database file could not be written (%1); "
                        "this change was not saved, everything saved before is kept")
      .arg(detail.trimmed());
}

}  // namespace

QString describeCitation(const QJsonObject& c) {
  const QString doc = QFileInfo(c.value("document").toString()).fileName();
  if (c.contains("page")) return QStringLiteral("page %1 of %2").arg(c.value("page").toInt()).arg(doc);
  if (c.contains("file")) return c.value("file").toString();
  return doc;
}

SessionStore::SessionStore()
    : connectionName_(QStringLiteral("sambalens-store-") + QUuid::createUuid().toString(QUuid::WithoutBraces)) {}

SessionStore::~SessionStore() { close(); }

QString SessionStore::defaultPath() {
  QString dir = qEnvironmentVariable("SAMBALENS_DATA_DIR");
  if (dir.isEmpty()) dir = QStandardPaths::writableLocation(QStandardPaths::AppDataLocation);
  return QDir(dir).filePath(QStringLiteral("sessions.sqlite"));
}

bool SessionStore::fail(const QString& what, const QString& detail) {
  lastError_ = QStringLiteral("%1: %2: %3").arg(path_, what, explainWriteFailure(detail));
  return false;
}

bool SessionStore::open(const QString& path) {
  close();
  path_ = path;
  const QFileInfo info(path);
  if (!QDir().mkpath(info.absolutePath())) {
    return fail(QStringLiteral("cannot create the folder"), info.absolutePath());
  }
  QSqlDatabase db = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), connectionName_);
  if (!db.isValid()) {
    QSqlDatabase::removeDatabase(connectionName_);
    return fail(QStringLiteral("the Qt SQLite driver (QSQLITE) is not available"),
                QStringLiteral("install libqt6sql6-sqlite"));
  }
  db.setDatabaseName(path);
  if (!db.open()) return fail(QStringLiteral("cannot open"), db.lastError().text());
  QString error;
  // A file that is not a database fails on the first read.
  if (!applyPragmas(db, &error)) return fail(QStringLiteral("not a usable SQLite database"), error);
  if (!migrateSchema(db, kLatestSchemaVersion, &error)) return fail(QStringLiteral("schema"), error);
  if (!ensureFullTextIndex(db, &error)) return fail(QStringLiteral("full-text index"), error);
  return true;
}

void SessionStore::close() {
  if (!QSqlDatabase::contains(connectionName_)) return;
  {
    QSqlDatabase db = QSqlDatabase::database(connectionName_, false);
    if (db.isOpen()) db.close();
  }
  QSqlDatabase::removeDatabase(connectionName_);
}

bool SessionStore::isOpen() const {
  return QSqlDatabase::contains(connectionName_) &&
         QSqlDatabase::database(connectionName_, false).isOpen();
}

int SessionStore::schemaVersion() {
  QSqlDatabase db = QSqlDatabase::database(connectionName_, false);
  return sambalens::schemaVersion(db);
}

bool SessionStore::hasFullTextSearch() {
  QSqlDatabase db = QSqlDatabase::database(connectionName_, false);
  return hasFullTextIndex(db);
}

std::optional<qint64> SessionStore::upsertDocument(const DocumentRecord& d) {
  QSqlDatabase db = QSqlDatabase::database(connectionName_, false);
  QSqlQuery q(db);
  q.prepare(QStringLiteral(
      "INSERT INTO documents (path, content_hash, kind, pages, tokens, bytes, imported_at, tokenizer) "
      "VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
      "ON CONFLICT (path, content_hash) DO UPDATE SET kind = excluded.kind, pages = excluded.pages, "
      "bytes = excluded.bytes, "
      "tokens = CASE WHEN excluded.tokens > 0 THEN excluded.tokens ELSE documents.tokens END, "
      "tokenizer = CASE WHEN excluded.tokens > 0 THEN excluded.tokenizer ELSE documents.tokenizer END "
      "RETURNING id"));
  q.addBindValue(nn(d.path));
  q.addBindValue(nn(d.contentHash));
  q.addBindValue(nn(d.kind));
  q.addBindValue(d.pages);
  q.addBindValue(d.tokens);
  q.addBindValue(d.bytes);
  q.addBindValue(d.importedAt.isValid() ? d.importedAt.toUTC().toString(Qt::ISODateWithMs) : now());
  q.addBindValue(nn(d.tokenizer));
  if (!q.exec() || !q.next()) {
    fail(QStringLiteral("cannot save document %1").arg(d.path), q.lastError().text());
    return std::nullopt;
  }
  const qint64 id = q.value(0).toLongLong();
  // RETURNING hands the row back before the statement has finished, and an
  // autocommit statement commits only when it finishes: step it to the end,
  // or a commit that fails (a full disk) would go unnoticed and this id
  // would name a row that was never saved.
  while (q.next()) {
  }
  if (q.lastError().isValid()) {
    fail(QStringLiteral("cannot save document %1").arg(d.path), q.lastError().text());
    return std::nullopt;
  }
  return id;
}

std::optional<DocumentRecord> SessionStore::document(qint64 id) {
  QSqlDatabase db = QSqlDatabase::database(connectionName_, false);
  QSqlQuery q(db);
  q.prepare(QStringLiteral("SELECT %1 FROM documents WHERE id = ?").arg(QLatin1String(kDocumentColumns)));
  q.addBindValue(id);
  if (!q.exec() || !q.next()) return std::nullopt;
  return readDocument(q);
}

bool SessionStore::setDocumentTokens(qint64 documentId, qint64 tokens, const QString& tokenizer) {
  QSqlDatabase db = QSqlDatabase::database(connectionName_, false);
  QSqlQuery q(db);
  q.prepare(QStringLiteral("UPDATE documents SET tokens = ?, tokenizer = ? WHERE id = ?"));
  q.addBindValue(tokens);
  q.addBindValue(nn(tokenizer));
  q.addBindValue(documentId);
  if (!q.exec()) return fail(QStringLiteral("cannot save token count"), q.lastError().text());
  return true;
}

std::optional<qint64> SessionStore::createSession(const QString& title, const QString& model,
                                                  const QList<qint64>& documentIds) {
  QSqlDatabase db = QSqlDatabase::database(connectionName_, false);
  if (!db.transaction()) {
    fail(QStringLiteral("cannot begin a transaction"), db.lastError().text());
    return std::nullopt;
  }
  QSqlQuery q(db);
  q.prepare(QStringLiteral(
      "INSERT INTO sessions (title, model, created_at, updated_at, last_opened_at) VALUES (?, ?, ?, ?, ?)"));
  const QString t = activityTime(db);
  q.addBindValue(nn(title));
  q.addBindValue(nn(model));
  q.addBindValue(t);
  q.addBindValue(t);
  q.addBindValue(t);
  if (!q.exec()) {
    fail(QStringLiteral("cannot create session"), q.lastError().text());
    db.rollback();
    return std::nullopt;
  }
  const qint64 id = q.lastInsertId().toLongLong();
  QSqlQuery link(db);
  link.prepare(QStringLiteral("INSERT INTO session_documents (session_id, document_id, position) VALUES (?, ?, ?)"));
  for (int i = 0; i < documentIds.size(); ++i) {
    link.addBindValue(id);
    link.addBindValue(documentIds[i]);
    link.addBindValue(i);
    if (!link.exec()) {
      fail(QStringLiteral("cannot attach document %1").arg(documentIds[i]), link.lastError().text());
      db.rollback();
      return std::nullopt;
    }
  }
  if (!db.commit()) {
    fail(QStringLiteral("cannot create session"), db.lastError().text());
    rollbackAfterFailedCommit(db);
    return std::nullopt;
  }
  return id;
}

bool SessionStore::touchSession(qint64 sessionId) {
  QSqlDatabase db = QSqlDatabase::database(connectionName_, false);
  QSqlQuery q(db);
  q.prepare(QStringLiteral("UPDATE sessions SET updated_at = ? WHERE id = ?"));
  q.addBindValue(activityTime(db));
  q.addBindValue(sessionId);
  return q.exec() && q.numRowsAffected() == 1;
}

bool SessionStore::renameSession(qint64 sessionId, const QString& title) {
  QSqlDatabase db = QSqlDatabase::database(connectionName_, false);
  QSqlQuery q(db);
  q.prepare(QStringLiteral("UPDATE sessions SET title = ?, updated_at = ? WHERE id = ?"));
  q.addBindValue(nn(title));
  q.addBindValue(activityTime(db));
  q.addBindValue(sessionId);
  if (!q.exec()) return fail(QStringLiteral("cannot rename session"), q.lastError().text());
  if (q.numRowsAffected() != 1) return fail(QStringLiteral("cannot rename session"), QStringLiteral("no session %1").arg(sessionId));
  return true;
}

bool SessionStore::setSessionModel(qint64 sessionId, const QString& model) {
  QSqlDatabase db = QSqlDatabase::database(connectionName_, false);
  QSqlQuery q(db);
  q.prepare(QStringLiteral("UPDATE sessions SET model = ? WHERE id = ?"));
  q.addBindValue(nn(model));
  q.addBindValue(sessionId);
  if (!q.exec()) return fail(QStringLiteral("cannot set the session's model"), q.lastError().text());
  return true;
}

bool SessionStore::setSessionDocuments(qint64 sessionId, const QList<qint64>& documentIds) {
  QSqlDatabase db = QSqlDatabase::database(connectionName_, false);
  if (!db.transaction()) return fail(QStringLiteral("cannot begin a transaction"), db.lastError().text());
  QSqlQuery q(db);
  q.prepare(QStringLiteral("DELETE FROM session_documents WHERE session_id = ?"));
  q.addBindValue(sessionId);
  bool ok = q.exec();
  QSqlQuery link(db);
  link.prepare(QStringLiteral("INSERT INTO session_documents (session_id, document_id, position) VALUES (?, ?, ?)"));
  for (int i = 0; ok && i < documentIds.size(); ++i) {
    link.addBindValue(sessionId);
    link.addBindValue(documentIds[i]);
    link.addBindValue(i);
    ok = link.exec();
  }
  if (!ok) {
    const QString why = q.lastError().isValid() ? q.lastError().text() : link.lastError().text();
    db.rollback();
    return fail(QStringLiteral("cannot set the session's documents"), why);
  }
  touchSession(sessionId);
  if (db.commit()) return true;
  fail(QStringLiteral("cannot set the session's documents"), db.lastError().text());
  rollbackAfterFailedCommit(db);
  return false;
}

bool SessionStore::deleteSession(qint64 sessionId) {
  QSqlDatabase db = QSqlDatabase::database(connectionName_, false);
  QSqlQuery q(db);
  q.prepare(QStringLiteral("DELETE FROM sessions WHERE id = ?"));
  q.addBindValue(sessionId);
  if (!q.exec()) return fail(QStringLiteral("cannot delete session"), q.lastError().text());
  return true;
}

QList<SessionRecord> SessionStore::sessions() {
  QSqlDatabase db = QSqlDatabase::database(connectionName_, false);
  QSqlQuery q(db);
  QList<SessionRecord> out;
  if (!q.exec(QStringLiteral(
          "SELECT s.id, s.title, s.model, s.created_at, s.updated_at, "
          "(SELECT COUNT(*) FROM messages m WHERE m.session_id = s.id) "
          "FROM sessions s ORDER BY s.updated_at DESC, s.id DESC"))) {
    fail(QStringLiteral("cannot list sessions"), q.lastError().text());
    return out;
  }
  while (q.next()) {
    out.append(SessionRecord{q.value(0).toLongLong(), q.value(1).toString(), q.value(2).toString(),
                             parseTime(q.value(3)), parseTime(q.value(4)), q.value(5).toInt()});
  }
  return out;
}

std::optional<SessionRecord> SessionStore::session(qint64 sessionId) {
  QSqlDatabase db = QSqlDatabase::database(connectionName_, false);
  QSqlQuery q(db);
  q.prepare(QStringLiteral(
      "SELECT s.id, s.title, s.model, s.created_at, s.updated_at, "
      "(SELECT COUNT(*) FROM messages m WHERE m.session_id = s.id) FROM sessions s WHERE s.id = ?"));
  q.addBindValue(sessionId);
  if (!q.exec() || !q.next()) return std::nullopt;
  return SessionRecord{q.value(0).toLongLong(), q.value(1).toString(), q.value(2).toString(),
                       parseTime(q.value(3)), parseTime(q.value(4)), q.value(5).toInt()};
}

QList<DocumentRecord> SessionStore::sessionDocuments(qint64 sessionId) {
  QSqlDatabase db = QSqlDatabase::database(connectionName_, false);
  QSqlQuery q(db);
  q.prepare(QStringLiteral(
      "SELECT d.id, d.path, d.content_hash, d.kind, d.pages, d.tokens, d.bytes, d.imported_at, d.tokenizer "
      "FROM session_documents sd JOIN documents d ON d.id = sd.document_id "
      "WHERE sd.session_id = ? ORDER BY sd.position"));
  q.addBindValue(sessionId);
  QList<DocumentRecord> out;
  if (!q.exec()) {
    fail(QStringLiteral("cannot list the session's documents"), q.lastError().text());
    return out;
  }
  while (q.next()) out.append(readDocument(q));
  return out;
}

std::optional<qint64> SessionStore::appendMessage(const MessageRecord& m) {
  QSqlDatabase db = QSqlDatabase::database(connectionName_, false);
  if (!db.transaction()) {
    fail(QStringLiteral("cannot begin a transaction"), db.lastError().text());
    return std::nullopt;
  }
  QSqlQuery q(db);
  q.prepare(QStringLiteral(
      "INSERT INTO messages (session_id, role, text, created_at, prompt_tokens, output_tokens, "
      "prefill_ms, first_token_ms, decode_ms, citations, preset, stop_reason, reused_tokens) "
      "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"));
  q.addBindValue(m.sessionId);
  q.addBindValue(nn(m.role));
  q.addBindValue(nn(m.text));
  q.addBindValue(m.createdAt.isValid() ? m.createdAt.toUTC().toString(Qt::ISODateWithMs) : now());
  q.addBindValue(m.promptTokens);
  q.addBindValue(m.outputTokens);
  q.addBindValue(toMs(m.prefillSeconds));
  q.addBindValue(toMs(m.firstTokenSeconds));
  q.addBindValue(toMs(m.decodeSeconds));
  q.addBindValue(QString::fromUtf8(QJsonDocument(m.citations).toJson(QJsonDocument::Compact)));
  q.addBindValue(nn(m.preset));
  q.addBindValue(nn(m.stopReason));
  q.addBindValue(m.reusedTokens);
  if (!q.exec()) {
    fail(QStringLiteral("cannot save message"), q.lastError().text());
    db.rollback();
    return std::nullopt;
  }
  const qint64 id = q.lastInsertId().toLongLong();
  if (!touchSession(m.sessionId)) {
    fail(QStringLiteral("cannot save message"), QStringLiteral("no session %1").arg(m.sessionId));
    db.rollback();
    return std::nullopt;
  }
  if (!db.commit()) {
    fail(QStringLiteral("cannot save message"), db.lastError().text());
    rollbackAfterFailedCommit(db);
    return std::nullopt;
  }
  return id;
}

QList<MessageRecord> SessionStore::messages(qint64 sessionId) {
  QSqlDatabase db = QSqlDatabase::database(connectionName_, false);
  QSqlQuery q(db);
  q.prepare(QStringLiteral("SELECT %1 FROM messages WHERE session_id = ? ORDER BY id")
                .arg(QLatin1String(kMessageColumns)));
  q.addBindValue(sessionId);
  QList<MessageRecord> out;
  if (!q.exec()) {
    fail(QStringLiteral("cannot read messages"), q.lastError().text());
    return out;
  }
  while (q.next()) out.append(readMessage(q));
  return out;
}

bool SessionStore::saveSnapshot(const SnapshotRecord& snapshot) {
  QSqlDatabase db = QSqlDatabase::database(connectionName_, false);
  QString error;
  if (!writeSnapshot(db, snapshot, &error)) return fail(QStringLiteral("cannot save the model state"), error);
  return true;
}

QFuture<bool> SessionStore::saveSnapshotAsync(const SnapshotRecord& snapshot) {
  const QString path = path_;
  return QtConcurrent::run([path, snapshot] {
    return withOwnConnection(path, [&](QSqlDatabase& db) {
      QString error;
      const bool ok = writeSnapshot(db, snapshot, &error);
      if (!ok) {
        qWarning("SambaLens: %s: saving a model-state snapshot failed: %s", qPrintable(path),
                 qPrintable(explainWriteFailure(error)));
      }
      return ok;
    });
  });
}

QFuture<std::optional<SnapshotRecord>> SessionStore::findSnapshotAsync(const QString& modelFingerprint,
                                                                       const QString& docSetHash) {
  const QString path = path_;
  return QtConcurrent::run([path, modelFingerprint, docSetHash] {
    return withOwnConnection(path, [&](QSqlDatabase& db) { return readSnapshot(db, modelFingerprint, docSetHash); });
  });
}

std::optional<SnapshotRecord> SessionStore::findSnapshot(const QString& modelFingerprint,
                                                         const QString& docSetHash) {
  QSqlDatabase db = QSqlDatabase::database(connectionName_, false);
  return readSnapshot(db, modelFingerprint, docSetHash);
}

qint64 SessionStore::snapshotBytes() {
  QSqlDatabase db = QSqlDatabase::database(connectionName_, false);
  QSqlQuery q(db);
  if (!q.exec(QStringLiteral("SELECT COALESCE(SUM(LENGTH(state)), 0) FROM snapshots")) || !q.next()) return 0;
  return q.value(0).toLongLong();
}

bool SessionStore::pruneSnapshots(qint64 maxBytes) {
  QSqlDatabase db = QSqlDatabase::database(connectionName_, false);
  QSqlQuery q(db);
  if (!q.exec(QStringLiteral("SELECT id, LENGTH(state) FROM snapshots ORDER BY created_at DESC, id DESC"))) {
    return fail(QStringLiteral("cannot list snapshots"), q.lastError().text());
  }
  qint64 kept = 0;
  QList<qint64> drop;
  while (q.next()) {
    kept += q.value(1).toLongLong();
    if (kept > maxBytes) drop.append(q.value(0).toLongLong());
  }
  QSqlQuery del(db);
  del.prepare(QStringLiteral("DELETE FROM snapshots WHERE id = ?"));
  for (qint64 id : drop) {
    del.addBindValue(id);
    if (!del.exec()) return fail(QStringLiteral("cannot delete a snapshot"), del.lastError().text());
  }
  return true;
}

QList<SearchHit> SessionStore::search(const QString& query, int limit) {
  const QStringList words = searchWords(query);
  QList<SearchHit> hits;
  if (words.isEmpty()) return hits;
  QSqlDatabase db = QSqlDatabase::database(connectionName_, false);

  // Titles: every word somewhere in the title.
  {
    QString sql = QStringLiteral("SELECT id, title FROM sessions WHERE 1");
    for (int i = 0; i < words.size(); ++i) sql += QStringLiteral(" AND title LIKE ? ESCAPE '\\'");
    sql += QStringLiteral(" ORDER BY updated_at DESC LIMIT ?");
    QSqlQuery q(db);
    q.prepare(sql);
    for (const QString& w : words) q.addBindValue(likePattern(w));
    q.addBindValue(limit);
    if (q.exec()) {
      while (q.next()) {
        hits.append(SearchHit{q.value(0).toLongLong(), q.value(1).toString(), 0,
                              snippetAround(q.value(1).toString(), words.front())});
      }
    }
  }
  if (!hasFullTextIndex(db)) return hits + searchLike(words, limit);

  // Messages through FTS5: each word a quoted prefix term (no query syntax
  // reaches FTS5 from the user), all of them required.
  QStringList terms;
  for (QString w : words) {
    w.replace(QLatin1String("\""), QLatin1String("\"\""));
    terms.append(QLatin1Char('"') + w + QStringLiteral("\"*"));
  }
  QSqlQuery q(db);
  q.prepare(QStringLiteral(
      "SELECT m.session_id, s.title, m.id, snippet(messages_fts, 0, '[', ']', '…', 12) "
      "FROM messages_fts JOIN messages m ON m.id = messages_fts.rowid "
      "JOIN sessions s ON s.id = m.session_id "
      "WHERE messages_fts MATCH ? ORDER BY rank LIMIT ?"));
  q.addBindValue(terms.join(QLatin1Char(' ')));
  q.addBindValue(limit);
  if (!q.exec()) {
    fail(QStringLiteral("search failed"), q.lastError().text());
    return hits;
  }
  while (q.next()) {
    hits.append(SearchHit{q.value(0).toLongLong(), q.value(1).toString(), q.value(2).toLongLong(),
                          q.value(3).toString()});
  }
  return hits;
}

QList<SearchHit> SessionStore::searchLike(const QStringList& words, int limit) {
  QSqlDatabase db = QSqlDatabase::database(connectionName_, false);
  QString sql = QStringLiteral(
      "SELECT m.session_id, s.title, m.id, m.text FROM messages m JOIN sessions s ON s.id = m.session_id WHERE 1");
  for (int i = 0; i < words.size(); ++i) sql += QStringLiteral(" AND m.text LIKE ? ESCAPE '\\'");
  sql += QStringLiteral(" ORDER BY m.id DESC LIMIT ?");
  QSqlQuery q(db);
  q.prepare(sql);
  for (const QString& w : words) q.addBindValue(likePattern(w));
  q.addBindValue(limit);
  QList<SearchHit> hits;
  if (!q.exec()) return hits;
  while (q.next()) {
    hits.append(SearchHit{q.value(0).toLongLong(), q.value(1).toString(), q.value(2).toLongLong(),
                          snippetAround(q.value(3).toString(), words.front())});
  }
  return hits;
}

QString SessionStore::exportMarkdown(qint64 sessionId) {
  const std::optional<SessionRecord> s = session(sessionId);
  if (!s) return {};
  QString md;
  md += QStringLiteral("# %1\n\n").arg(s->title);
  if (!s->model.isEmpty()) md += QStringLiteral("- Model: `%1`\n").arg(s->model);
  md += QStringLiteral("- Created: %1\n- Updated: %2\n")
            .arg(s->createdAt.toString(Qt::ISODate), s->updatedAt.toString(Qt::ISODate));
  const QList<DocumentRecord> docs = sessionDocuments(sessionId);
  if (!docs.isEmpty()) {
    md += QStringLiteral("- Documents:\n");
    for (const DocumentRecord& d : docs) {
      QStringList facts{d.kind};
      if (d.pages > 0) facts.append(QStringLiteral("%1 pages").arg(d.pages));
      if (d.tokens > 0) facts.append(QStringLiteral("%1 tokens").arg(d.tokens));
      md += QStringLiteral("  - `%1` (%2)\n").arg(d.path, facts.join(QStringLiteral(", ")));
    }
  }
  for (const MessageRecord& m : messages(sessionId)) {
    QString role = m.role;
    role[0] = role[0].toUpper();
    md += QStringLiteral("\n## %1").arg(role);
    if (!m.preset.isEmpty()) md += QStringLiteral(" (%1)").arg(m.preset);
    md += QStringLiteral(" — %1\n\n").arg(m.createdAt.toString(Qt::ISODate));
    md += m.text.trimmed();
    md += QLatin1Char('\n');
    if (m.role == QLatin1String("assistant")) {
      QStringList facts;
      if (m.reusedTokens > 0) {
        facts.append(QStringLiteral("model state reused (%1 tokens not read again)").arg(m.reusedTokens));
      }
      facts.append(QStringLiteral("%1 prompt tokens").arg(m.promptTokens));
      facts.append(QStringLiteral("%1 output tokens").arg(m.outputTokens));
      facts.append(QStringLiteral("prefill %1").arg(humanSeconds(m.prefillSeconds)));
      facts.append(QStringLiteral("first token %1").arg(humanSeconds(m.firstTokenSeconds)));
      if (m.decodeSeconds > 0 && m.outputTokens > 0) {
        facts.append(QStringLiteral("%1 tokens/s").arg(m.outputTokens / m.decodeSeconds, 0, 'f', 1));
      }
      if (!m.stopReason.isEmpty()) facts.append(QStringLiteral("stop: %1").arg(m.stopReason));
      md += QStringLiteral("\n_%1_\n").arg(facts.join(QStringLiteral("; ")));
      if (!m.citations.isEmpty()) {
        QStringList cites;
        for (const QJsonValue& c : m.citations) cites.append(describeCitation(c.toObject()));
        md += QStringLiteral("\nCitations: %1\n").arg(cites.join(QStringLiteral("; ")));
      }
    }
  }
  return md;
}

QJsonObject SessionStore::exportJson(qint64 sessionId) {
  const std::optional<SessionRecord> s = session(sessionId);
  if (!s) return {};
  QJsonArray docs;
  for (const DocumentRecord& d : sessionDocuments(sessionId)) {
    docs.append(QJsonObject{{"path", d.path},
                            {"contentHash", d.contentHash},
                            {"kind", d.kind},
                            {"pages", d.pages},
                            {"tokens", d.tokens},
                            {"bytes", d.bytes}});
  }
  QJsonArray msgs;
  for (const MessageRecord& m : messages(sessionId)) {
    msgs.append(QJsonObject{{"role", m.role},
                            {"text", m.text},
                            {"preset", m.preset},
                            {"createdAt", m.createdAt.toString(Qt::ISODateWithMs)},
                            {"promptTokens", m.promptTokens},
                            {"reusedTokens", m.reusedTokens},
                            {"outputTokens", m.outputTokens},
                            {"prefillSeconds", m.prefillSeconds},
                            {"firstTokenSeconds", m.firstTokenSeconds},
                            {"decodeSeconds", m.decodeSeconds},
                            {"stopReason", m.stopReason},
                            {"citations", m.citations}});
  }
  return QJsonObject{{"format", "sambalens-session"},
                     {"formatVersion", 1},
                     {"title", s->title},
                     {"model", s->model},
                     {"createdAt", s->createdAt.toString(Qt::ISODateWithMs)},
                     {"updatedAt", s->updatedAt.toString(Qt::ISODateWithMs)},
                     {"documents", docs},
                     {"messages", msgs}};
}

bool SessionStore::setLastSessionId(qint64 sessionId) {
  QSqlDatabase db = QSqlDatabase::database(connectionName_, false);
  QSqlQuery q(db);
  q.prepare(QStringLiteral(
      "INSERT INTO app_state (key, value) VALUES ('last_session', ?) "
      "ON CONFLICT (key) DO UPDATE SET value = excluded.value"));
  q.addBindValue(QString::number(sessionId));
  if (!q.exec()) return fail(QStringLiteral("cannot remember the last session"), q.lastError().text());
  QSqlQuery opened(db);
  opened.prepare(QStringLiteral("UPDATE sessions SET last_opened_at = ? WHERE id = ?"));
  opened.addBindValue(now());
  opened.addBindValue(sessionId);
  opened.exec();
  return true;
}

std::optional<qint64> SessionStore::lastSessionId() {
  QSqlDatabase db = QSqlDatabase::database(connectionName_, false);
  QSqlQuery q(db);
  if (!q.exec(QStringLiteral(
          "SELECT CAST(a.value AS INTEGER) FROM app_state a JOIN sessions s "
          "ON s.id = CAST(a.value AS INTEGER) WHERE a.key = 'last_session'")) ||
      !q.next()) {
    return std::nullopt;
  }
  return q.value(0).toLongLong();
}

}  // namespace sambalens
