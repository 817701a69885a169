// The versioned schema of the sessions database and its migrations. The
// version lives in PRAGMA user_version; each migration moves the database
// one version up inside its own transaction, so an interrupted upgrade
// leaves the previous version intact. The steps are history: once released,
// a step is never edited, only new ones appended.
//
//   v1  documents, sessions, session_documents, messages
//   v2  model-state snapshots; full-text index of messages (FTS5 when the
//       SQLite library has it, else search falls back to LIKE)
//   v3  message details (preset, stop reason, reused tokens), the tokenizer a
//       document's token count belongs to, app state (last session)
//   v4  insight runs: attention-entropy runs (one row each, results in a
//       blob) and passkey sweeps (one row each, a row per trial)
#pragma once

#include <QSqlDatabase>
#include <QString>

namespace sambalens {

constexpr int kLatestSchemaVersion = 4;

// PRAGMA user_version of `db` (0 for a new, empty database).
int schemaVersion(QSqlDatabase& db);

// Applies the migrations from the current version up to `target`.
// Fails (with `error`) for a database newer than this program knows.
bool migrateSchema(QSqlDatabase& db, int target, QString* error);

// Whether this SQLite library has FTS5.
bool sqliteHasFts5(QSqlDatabase& db);
// Creates and fills the messages_fts index when FTS5 is available and the
// index is missing (a database migrated where FTS5 was not available).
bool ensureFullTextIndex(QSqlDatabase& db, QString* error);
bool hasFullTextIndex(QSqlDatabase& db);

}  // namespace sambalens
