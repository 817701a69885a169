// Saved insight runs in the sessions database (schema v4: entropy_runs,
// passkey_sweeps, passkey_trials): each with its model, settings (JSON) and
// date, reopened whole for the views, compared, exported, deleted.
//
// Its own connection to the same SQLite file as SessionStore (WAL lets them
// share it); opening migrates the file like SessionStore does. Use it from
// the thread that opened it.
#pragma once

#include <QList>
#include <QString>
#include <optional>

#include "insight_types.h"

namespace sambalens {

class InsightStore {
 public:
  InsightStore();
  ~InsightStore();
  InsightStore(const InsightStore&) = delete;
  InsightStore& operator=(const InsightStore&) = delete;

  // Opens (creating it if needed) and migrates `path`; on failure
  // lastError() says why, naming the file. Default: SessionStore::defaultPath().
  bool open(const QString& path = QString());
  void close();
  bool isOpen() const;
  const QString& path() const { return path_; }
  QString lastError() const { return lastError_; }

  // Each save is one transaction; returns the new id.
  std::optional<qint64> savePasskeySweep(const PasskeySweepRecord& sweep);
  std::optional<PasskeySweepRecord> passkeySweep(qint64 id);
  std::optional<qint64> saveEntropyRun(const EntropyRunRecord& run);
  std::optional<EntropyRunRecord> entropyRun(qint64 id);

  // Both kinds, newest first.
  QList<InsightRunSummary> runs();
  bool deleteRun(InsightRunSummary::Kind kind, qint64 id);

 private:
  bool fail(const QString& what, const QString& detail);

  QString connectionName_;
  QString path_;
  QString lastError_;
};

// The results blob of an entropy run (versioned, compressed), and back;
// decode fails with a reason for a blob it cannot read (damaged, newer).
QByteArray encodeEntropyResults(const EntropyRunRecord& run);
bool decodeEntropyResults(const QByteArray& blob, EntropyRunRecord* run, QString* error);

}  // namespace sambalens
