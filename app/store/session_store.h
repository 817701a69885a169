// Sessions, their documents and messages, and model-state snapshots, in one
// SQLite database (QtSql's QSQLITE) in the platform's app-data folder.
//
// Durability: WAL journal with synchronous=FULL. Each message is its own
// transaction, committed when the message is complete, so a crash (or a
// SIGKILL) loses at most the message being generated. WAL alone already
// survives a process crash with synchronous=NORMAL; FULL also makes each
// commit survive a power cut, and costs one fsync per message, which at the
// rate answers complete is nothing.
//
// Use a SessionStore from the thread that opened it (QtSql connections are
// per thread). Large snapshot writes can go to a background thread through
// saveSnapshotAsync(), which opens its own connection.
#pragma once

#include <QByteArray>
#include <QDateTime>
#include <QFuture>
#include <QJsonArray>
#include <QJsonObject>
#include <QList>
#include <QMetaType>
#include <QSqlDatabase>
#include <QString>
#include <optional>

namespace sambalens {

struct DocumentRecord {
  qint64 id = 0;
  QString path;
  QString contentHash;
  QString kind;        // "pdf", "code", "text", "markdown"
  int pages = 0;
  qint64 tokens = 0;   // with `tokenizer`; 0 = not counted yet
  QString tokenizer;   // which tokenizer counted them (model fingerprint)
  qint64 bytes = 0;
  QDateTime importedAt;
};

struct SessionRecord {
  qint64 id = 0;
  QString title;
  QString model;       // model folder used last
  QDateTime createdAt;
  QDateTime updatedAt;
  int messageCount = 0;
};

struct MessageRecord {
  qint64 id = 0;
  qint64 sessionId = 0;
  QString role;        // "user", "assistant", "system"
  QString text;
  QString preset;      // "summarize", "ask", "explain_code", "review_code", or empty
  QString stopReason;  // assistant: "max tokens", "end of text", "cancelled"...
  qint64 promptTokens = 0;
  qint64 reusedTokens = 0;  // read from a snapshot instead of the documents
  qint64 outputTokens = 0;
  double prefillSeconds = 0;
  double firstTokenSeconds = 0;
  double decodeSeconds = 0;
  QJsonArray citations;  // [{"document": path, "page": 3} | {"document": path, "file": "src/a.cpp"}]
  QDateTime createdAt;
};

struct SnapshotRecord {
  qint64 id = 0;
  qint64 sessionId = 0;
  QString modelFingerprint;
  QString docSetHash;    // hash of the exact input the state holds
  qint64 tokens = 0;     // tokens the state has read
  QByteArray state;      // samba::serialize_state bytes
  QDateTime createdAt;
};

struct SearchHit {
  qint64 sessionId = 0;
  QString sessionTitle;
  qint64 messageId = 0;  // 0: the title matched
  QString snippet;       // matched text with the terms in [brackets]
};

class SessionStore {
 public:
  SessionStore();
  ~SessionStore();
  SessionStore(const SessionStore&) = delete;
  SessionStore& operator=(const SessionStore&) = delete;

  // <AppDataLocation>/sessions.sqlite (or $SAMBALENS_DATA_DIR/sessions.sqlite).
  static QString defaultPath();

  // Opens (creating folders and file as needed) and migrates to the latest
  // schema. On failure lastError() says why, naming the file.
  bool open(const QString& path = defaultPath());
  void close();
  bool isOpen() const;
  const QString& path() const { return path_; }
  QString lastError() const { return lastError_; }
  int schemaVersion();
  bool hasFullTextSearch();

  // Documents: one row per (path, content hash); returns the id.
  std::optional<qint64> upsertDocument(const DocumentRecord& document);
  std::optional<DocumentRecord> document(qint64 id);
  bool setDocumentTokens(qint64 documentId, qint64 tokens, const QString& tokenizer);

  // Sessions.
  std::optional<qint64> createSession(const QString& title, const QString& model,
                                      const QList<qint64>& documentIds);
  bool renameSession(qint64 sessionId, const QString& title);
  bool setSessionModel(qint64 sessionId, const QString& model);
  bool setSessionDocuments(qint64 sessionId, const QList<qint64>& documentIds);
  // Deletes the session with its messages and snapshots.
  bool deleteSession(qint64 sessionId);
  QList<SessionRecord> sessions();  // most recently updated first
  std::optional<SessionRecord> session(qint64 sessionId);
  QList<DocumentRecord> sessionDocuments(qint64 sessionId);  // in session order

  // Messages: each appended in its own committed transaction.
  std::optional<qint64> appendMessage(const MessageRecord& message);
  QList<MessageRecord> messages(qint64 sessionId);

  // Snapshots: one per (model fingerprint, doc set hash); replacing keeps
  // the newest. Looked up across sessions: any session with the same
  // documents and model can resume from it.
  bool saveSnapshot(const SnapshotRecord& snapshot);
  std::optional<SnapshotRecord> findSnapshot(const QString& modelFingerprint,
                                             const QString& docSetHash);
  // The same write and look-up on a thread-pool thread with its own
  // connection (a snapshot can be tens or hundreds of MB: keep it off the
  // GUI thread).
  QFuture<bool> saveSnapshotAsync(const SnapshotRecord& snapshot);
  QFuture<std::optional<SnapshotRecord>> findSnapshotAsync(const QString& modelFingerprint,
                                                           const QString& docSetHash);
  // Deletes the oldest snapshots until their total size is below `maxBytes`.
  bool pruneSnapshots(qint64 maxBytes);
  qint64 snapshotBytes();

  // Sessions whose title or messages contain all the words of `query`.
  QList<SearchHit> search(const QString& query, int limit = 50);

  // Export of one session.
  QString exportMarkdown(qint64 sessionId);
  QJsonObject exportJson(qint64 sessionId);

  // The session shown last, restored when the app reopens.
  bool setLastSessionId(qint64 sessionId);
  std::optional<qint64> lastSessionId();

 private:
  bool fail(const QString& what, const QString& detail);
  bool configureConnection(QSqlDatabase& db);
  bool touchSession(qint64 sessionId);
  QList<SearchHit> searchLike(const QStringList& words, int limit);

  QString connectionName_;
  QString path_;
  QString lastError_;
};

// Citations as text ("page 3 of report.pdf", "src/a.cpp").
QString describeCitation(const QJsonObject& citation);

}  // namespace sambalens

Q_DECLARE_METATYPE(sambalens::MessageRecord)
Q_DECLARE_METATYPE(sambalens::SearchHit)
