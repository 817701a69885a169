#include "schema.h"

#include <QSqlError>
#include <QSqlQuery>
#include <QStringList>
#include <QVariant>
#include <functional>

namespace sambalens {

namespace {

bool exec(QSqlDatabase& db, const QString& sql, QString* error) {
  QSqlQuery q(db);
  if (!q.exec(sql)) {
    if (error) *error = QStringLiteral("%1 (in: %2)").arg(q.lastError().text(), sql.simplified().left(120));
    return false;
  }
  return true;
}

bool execAll(QSqlDatabase& db, const QStringList& statements, QString* error) {
  for (const QString& sql : statements) {
    if (!exec(db, sql, error)) return false;
  }
  return true;
}

bool toVersion1(QSqlDatabase& db, QString* error) {
  return execAll(db,
                 {
                     R"(CREATE TABLE documents (
                          id INTEGER PRIMARY KEY,
                          path TEXT NOT NULL,
                          content_hash TEXT NOT NULL,
                          kind TEXT NOT NULL,
                          pages INTEGER NOT NULL DEFAULT 0,
                          tokens INTEGER NOT NULL DEFAULT 0,
                          bytes INTEGER NOT NULL DEFAULT 0,
                          imported_at TEXT NOT NULL,
                          UNIQUE (path, content_hash)))",
                     R"(CREATE TABLE sessions (
                          id INTEGER PRIMARY KEY,
                          title TEXT NOT NULL,
                          model TEXT NOT NULL DEFAULT '',
                          created_at TEXT NOT NULL,
                          updated_at TEXT NOT NULL))",
                     R"(CREATE TABLE session_documents (
                          session_id INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
                          document_id INTEGER NOT NULL REFERENCES documents(id),
                          position INTEGER NOT NULL,
                          PRIMARY KEY (session_id, document_id)))",
                     R"(CREATE TABLE messages (
                          id INTEGER PRIMARY KEY,
                          session_id INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
                          role TEXT NOT NULL CHECK (role IN ('user', 'assistant', 'system')),
                          text TEXT NOT NULL,
                          created_at TEXT NOT NULL,
                          prompt_tokens INTEGER NOT NULL DEFAULT 0,
                          output_tokens INTEGER NOT NULL DEFAULT 0,
                          prefill_ms INTEGER NOT NULL DEFAULT 0,
                          first_token_ms INTEGER NOT NULL DEFAULT 0,
                          decode_ms INTEGER NOT NULL DEFAULT 0,
                          citations TEXT NOT NULL DEFAULT '[]'))",
                     "CREATE INDEX messages_by_session ON messages (session_id, id)",
                     "CREATE INDEX sessions_by_update ON sessions (updated_at)",
                 },
                 error);
}

bool createFullTextIndex(QSqlDatabase& db, QString* error) {
  // External-content FTS5 over messages.text, kept in step by triggers.
  return execAll(
      db,
      {
          "CREATE VIRTUAL TABLE messages_fts USING fts5(text, content='messages', content_rowid='id')",
          R"(CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages BEGIN
               INSERT INTO messages_fts(rowid, text) VALUES (new.id, new.text);
             END)",
          R"(CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN
               INSERT INTO messages_fts(messages_fts, rowid, text) VALUES ('delete', old.id, old.text);
             END)",
          R"(CREATE TRIGGER messages_fts_update AFTER UPDATE OF text ON messages BEGIN
               INSERT INTO messages_fts(messages_fts, rowid, text) VALUES ('delete', old.id, old.text);
               INSERT INTO messages_fts(rowid, text) VALUES (new.id, new.text);
             END)",
          "INSERT INTO messages_fts(messages_fts) VALUES ('rebuild')",
      },
      error);
}

bool toVersion2(QSqlDatabase& db, QString* error) {
  // One snapshot per (model, exact document input): the next question on
  // the same documents restores it instead of reading them again. Deleting
  // the session that made it frees its space.
  if (!execAll(db,
               {
                   R"(CREATE TABLE snapshots (
                        id INTEGER PRIMARY KEY,
                        session_id INTEGER REFERENCES sessions(id) ON DELETE CASCADE,
                        model_fingerprint TEXT NOT NULL,
                        doc_set_hash TEXT NOT NULL,
                        tokens INTEGER NOT NULL,
                        state BLOB NOT NULL,
                        created_at TEXT NOT NULL,
                        UNIQUE (model_fingerprint, doc_set_hash)))",
                   "CREATE INDEX snapshots_by_session ON snapshots (session_id)",
               },
               error)) {
    return false;
  }
  if (sqliteHasFts5(db)) return createFullTextIndex(db, error);
  return true;
}

bool toVersion3(QSqlDatabase& db, QString* error) {
  return execAll(
      db,
      {
          "ALTER TABLE messages ADD COLUMN preset TEXT NOT NULL DEFAULT ''",
          "ALTER TABLE messages ADD COLUMN stop_reason TEXT NOT NULL DEFAULT ''",
          "ALTER TABLE messages ADD COLUMN reused_tokens INTEGER NOT NULL DEFAULT 0",
          "ALTER TABLE documents ADD COLUMN tokenizer TEXT NOT NULL DEFAULT ''",
          "ALTER TABLE sessions ADD COLUMN last_opened_at TEXT",
          "CREATE TABLE app_state (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
      },
      error);
}

bool toVersion4(QSqlDatabase& db, QString* error) {
  // Runs of the insight views (app/insight). Each keeps the model folder and
  // name, its settings as JSON (with the model facts the views need, e.g. the
  // window), and the date, so a run can be reopened after the model is gone.
  // An entropy run's results (buckets, per-token surprisal, the text) are one
  // versioned, compressed blob; a sweep's trials are rows.
  return execAll(
      db,
      {
          R"(CREATE TABLE entropy_runs (
               id INTEGER PRIMARY KEY,
               model TEXT NOT NULL,
               model_name TEXT NOT NULL DEFAULT '',
               document TEXT NOT NULL DEFAULT '',
               settings TEXT NOT NULL DEFAULT '{}',
               tokens INTEGER NOT NULL DEFAULT 0,
               seconds REAL NOT NULL DEFAULT 0,
               created_at TEXT NOT NULL,
               results BLOB NOT NULL))",
          "CREATE INDEX entropy_runs_by_date ON entropy_runs (created_at)",
          R"(CREATE TABLE passkey_sweeps (
               id INTEGER PRIMARY KEY,
               model TEXT NOT NULL,
               model_name TEXT NOT NULL DEFAULT '',
               settings TEXT NOT NULL DEFAULT '{}',
               complete INTEGER NOT NULL DEFAULT 1,
               tokens_read INTEGER NOT NULL DEFAULT 0,
               tokens_in_prompts INTEGER NOT NULL DEFAULT 0,
               seconds REAL NOT NULL DEFAULT 0,
               created_at TEXT NOT NULL))",
          "CREATE INDEX passkey_sweeps_by_date ON passkey_sweeps (created_at)",
          R"(CREATE TABLE passkey_trials (
               sweep_id INTEGER NOT NULL REFERENCES passkey_sweeps(id) ON DELETE CASCADE,
               length INTEGER NOT NULL,
               depth REAL NOT NULL,
               trial INTEGER NOT NULL,
               passkey INTEGER NOT NULL,
               answer TEXT NOT NULL DEFAULT '',
               correct INTEGER NOT NULL,
               PRIMARY KEY (sweep_id, length, depth, trial)))",
      },
      error);
}

using Step = std::function<bool(QSqlDatabase&, QString*)>;
const Step kSteps[kLatestSchemaVersion] = {toVersion1, toVersion2, toVersion3, toVersion4};

}  // namespace

int schemaVersion(QSqlDatabase& db) {
  QSqlQuery q(db);
  if (!q.exec(QStringLiteral("PRAGMA user_version")) || !q.next()) return -1;
  return q.value(0).toInt();
}

bool sqliteHasFts5(QSqlDatabase& db) {
  QSqlQuery q(db);
  return q.exec(QStringLiteral("SELECT sqlite_compileoption_used('ENABLE_FTS5')")) && q.next() &&
         q.value(0).toInt() == 1;
}

bool hasFullTextIndex(QSqlDatabase& db) {
  QSqlQuery q(db);
  return q.exec(QStringLiteral(
             "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'messages_fts'")) &&
         q.next();
}

bool ensureFullTextIndex(QSqlDatabase& db, QString* error) {
  if (schemaVersion(db) < 2 || hasFullTextIndex(db) || !sqliteHasFts5(db)) return true;
  if (!db.transaction()) {
    if (error) *error = db.lastError().text();
    return false;
  }
  if (!createFullTextIndex(db, error)) {
    db.rollback();
    return false;
  }
  return db.commit();
}

bool migrateSchema(QSqlDatabase& db, int target, QString* error) {
  const int current = schemaVersion(db);
  if (current < 0) {
    if (error) *error = QStringLiteral("cannot read the schema version: %1").arg(db.lastError().text());
    return false;
  }
  if (current > kLatestSchemaVersion) {
    if (error) {
      *error = QStringLiteral(
                   "the database has schema version %1, newer than this SambaLens knows (%2); "
                   "use a newer SambaLens or another database")
                   .arg(current)
                   .arg(kLatestSchemaVersion);
    }
    return false;
  }
  for (int version = current; version < target; ++version) {
    if (!db.transaction()) {
      if (error) *error = QStringLiteral("cannot begin a transaction: %1").arg(db.lastError().text());
      return false;
    }
    QString stepError;
    if (!kSteps[version](db, &stepError) ||
        !exec(db, QStringLiteral("PRAGMA user_version = %1").arg(version + 1), &stepError)) {
      db.rollback();
      if (error) {
        *error = QStringLiteral("migration to schema version %1 failed: %2").arg(version + 1).arg(stepError);
      }
      return false;
    }
    if (!db.commit()) {
      if (error) *error = QStringLiteral("migration to schema version %1: commit failed: %2")
                              .arg(version + 1)
                              .arg(db.lastError().text());
      return false;
    }
  }
  return true;
}

}  // namespace sambalens
