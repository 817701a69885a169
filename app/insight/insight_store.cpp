#include "insight_store.h"

#include <QDataStream>
#include <QDir>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSqlDatabase>
#include <QSqlError>
#include <QSqlQuery>
#include <QUuid>
#include <QVariant>

#include "schema.h"
#include "session_store.h"

namespace sambalens {

namespace {

constexpr quint32 kEntropyMagic = 0x534c4552;  // "SLER"
constexpr quint32 kEntropyFormat = 1;

QString timeText(const QDateTime& t) {
  return (t.isValid() ? t : QDateTime::currentDateTimeUtc()).toUTC().toString(Qt::ISODateWithMs);
}
QDateTime parseTime(const QVariant& v) { return QDateTime::fromString(v.toString(), Qt::ISODateWithMs); }
QString nn(const QString& s) { return s.isNull() ? QStringLiteral("") : s; }

QJsonObject modelJson(const InsightModel& m) {
  return QJsonObject{{"folder", m.folder},   {"name", m.name},     {"backend", m.backend},
                     {"layers", m.layers},   {"heads", m.heads},   {"window", m.window},
                     {"trainLength", m.trainLength}};
}

InsightModel modelFromJson(const QJsonObject& o) {
  InsightModel m;
  m.folder = o.value("folder").toString();
  m.name = o.value("name").toString();
  m.backend = o.value("backend").toString();
  m.layers = o.value("layers").toInt();
  m.heads = o.value("heads").toInt();
  m.window = o.value("window").toInt();
  m.trainLength = o.value("trainLength").toInt();
  return m;
}

QString passkeySettingsJson(const PasskeySweepRecord& s) {
  QJsonArray lengths, depths;
  for (qint64 l : s.settings.lengths) lengths.append(double(l));
  for (double d : s.settings.depths) depths.append(d);
  const QJsonObject o{{"model", modelJson(s.model)},
                      {"lengths", lengths},
                      {"depths", depths},
                      {"trials", s.settings.trials},
                      {"seed", QString::number(s.settings.seed)},  // 64 bits: text, not a double
                      {"answerTokens", s.settings.answerTokens},
                      {"chunkTokens", s.settings.chunkTokens},
                      {"backend", s.settings.backend}};
  return QString::fromUtf8(QJsonDocument(o).toJson(QJsonDocument::Compact));
}

void passkeySettingsFromJson(const QString& text, PasskeySweepRecord* s) {
  const QJsonObject o = QJsonDocument::fromJson(text.toUtf8()).object();
  s->model = modelFromJson(o.value("model").toObject());
  s->settings.modelFolder = s->model.folder;
  for (const QJsonValue& v : o.value("lengths").toArray()) s->settings.lengths.append(qint64(v.toDouble()));
  for (const QJsonValue& v : o.value("depths").toArray()) s->settings.depths.append(v.toDouble());
  s->settings.trials = o.value("trials").toInt(1);
  s->settings.seed = o.value("seed").toString().toULongLong();
  s->settings.answerTokens = o.value("answerTokens").toInt(10);
  s->settings.chunkTokens = o.value("chunkTokens").toInt(4096);
  s->settings.backend = o.value("backend").toString(QStringLiteral("auto"));
}

QString entropySettingsJson(const EntropyRunRecord& r) {
  const QJsonObject o{{"model", modelJson(r.model)},
                      {"maxBuckets", r.settings.maxBuckets},
                      {"chunkTokens", r.settings.chunkTokens}};
  return QString::fromUtf8(QJsonDocument(o).toJson(QJsonDocument::Compact));
}

QString describeSweepSettings(const QString& json) {
  PasskeySweepRecord s;
  passkeySettingsFromJson(json, &s);
  QStringList lengths;
  for (qint64 l : s.settings.lengths) lengths << QString::number(l);
  return QStringLiteral("passkey: lengths %1; %2 depths × %3 trials")
      .arg(lengths.join(QStringLiteral(", ")))
      .arg(s.settings.depths.size())
      .arg(s.settings.trials);
}

}  // namespace

QByteArray encodeEntropyResults(const EntropyRunRecord& run) {
  QByteArray raw;
  QDataStream out(&raw, QIODevice::WriteOnly);
  out.setVersion(QDataStream::Qt_6_4);
  out.setFloatingPointPrecision(QDataStream::SinglePrecision);
  out << kEntropyMagic << kEntropyFormat;
  out << run.text;
  out << quint64(run.tokenStart.size());
  for (qint32 v : run.tokenStart) out << v;
  out << quint64(run.surprisal.size());
  for (float v : run.surprisal) out << v;
  out << qint64(run.bucketWidth) << qint32(run.buckets) << qint32(run.model.swaLayers()) << qint32(run.model.heads);
  out << quint64(run.stats.size());
  for (const EntropyBucketStat& s : run.stats) out << s.mean << s.min << s.max << qint64(s.count);
  return qCompress(raw, 6);
}

bool decodeEntropyResults(const QByteArray& blob, EntropyRunRecord* run, QString* error) {
  const auto bad = [&](const QString& why) {
    if (error) *error = QStringLiteral("the saved entropy results cannot be read: %1").arg(why);
    return false;
  };
  const QByteArray raw = qUncompress(blob);
  if (raw.isEmpty()) return bad(QStringLiteral("not compressed data"));
  QDataStream in(raw);
  in.setVersion(QDataStream::Qt_6_4);
  in.setFloatingPointPrecision(QDataStream::SinglePrecision);
  quint32 magic = 0, format = 0;
  in >> magic >> format;
  if (magic != kEntropyMagic) return bad(QStringLiteral("wrong magic"));
  if (format != kEntropyFormat) return bad(QStringLiteral("format %1 is newer than this SambaLens").arg(format));
  quint64 n = 0;
  in >> run->text >> n;
  // Sizes are checked against what remains, so a damaged blob cannot make
  // us allocate without bound.
  const auto fits = [&](quint64 count, int bytesEach) {
    return count <= quint64(raw.size()) / quint64(bytesEach) && in.status() == QDataStream::Ok;
  };
  if (!fits(n, 4)) return bad(QStringLiteral("token spans"));
  run->tokenStart.resize(size_t(n));
  for (qint32& v : run->tokenStart) in >> v;
  in >> n;
  if (!fits(n, 4)) return bad(QStringLiteral("surprisal"));
  run->surprisal.resize(size_t(n));
  for (float& v : run->surprisal) in >> v;
  qint64 width = 0;
  qint32 buckets = 0, swa = 0, heads = 0;
  in >> width >> buckets >> swa >> heads >> n;
  if (!fits(n, 20) || width < 1 || buckets < 0 || swa < 0 || heads < 0 ||
      n != quint64(buckets) * quint64(swa) * quint64(heads)) {
    return bad(QStringLiteral("entropy buckets"));
  }
  run->bucketWidth = width;
  run->buckets = buckets;
  run->model.heads = heads;
  if (run->model.layers / 2 != swa) run->model.layers = 2 * swa;
  run->stats.resize(size_t(n));
  for (EntropyBucketStat& s : run->stats) {
    qint64 count = 0;
    in >> s.mean >> s.min >> s.max >> count;
    s.count = count;
  }
  if (in.status() != QDataStream::Ok) return bad(QStringLiteral("truncated"));
  if (run->tokenStart.size() != run->surprisal.size()) return bad(QStringLiteral("spans and tokens differ"));
  return true;
}

InsightStore::InsightStore()
    : connectionName_(QStringLiteral("sambalens-insight-") + QUuid::createUuid().toString(QUuid::WithoutBraces)) {}

InsightStore::~InsightStore() { close(); }

bool InsightStore::fail(const QString& what, const QString& detail) {
  lastError_ = QStringLiteral("%1: %2: %3").arg(path_, what, detail);
  return false;
}

bool InsightStore::open(const QString& path) {
  close();
  path_ = path.isEmpty() ? SessionStore::defaultPath() : path;
  const QFileInfo info(path_);
  if (!QDir().mkpath(info.absolutePath())) return fail(QStringLiteral("cannot create the folder"), info.absolutePath());
  QSqlDatabase db = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), connectionName_);
  if (!db.isValid()) {
    QSqlDatabase::removeDatabase(connectionName_);
    return fail(QStringLiteral("the Qt SQLite driver (QSQLITE) is not available"), QStringLiteral("install libqt6sql6-sqlite"));
  }
  db.setDatabaseName(path_);
  if (!db.open()) return fail(QStringLiteral("cannot open"), db.lastError().text());
  QSqlQuery q(db);
  for (const char* pragma : {"PRAGMA journal_mode = WAL", "PRAGMA synchronous = FULL", "PRAGMA foreign_keys = ON",
                             "PRAGMA busy_timeout = 5000"}) {
    if (!q.exec(QLatin1String(pragma))) return fail(QStringLiteral("not a usable SQLite database"), q.lastError().text());
  }
  QString error;
  if (!migrateSchema(db, kLatestSchemaVersion, &error)) return fail(QStringLiteral("schema"), error);
  return true;
}

void InsightStore::close() {
  if (!QSqlDatabase::contains(connectionName_)) return;
  {
    QSqlDatabase db = QSqlDatabase::database(connectionName_, false);
    if (db.isOpen()) db.close();
  }
  QSqlDatabase::removeDatabase(connectionName_);
}

bool InsightStore::isOpen() const {
  return QSqlDatabase::contains(connectionName_) && QSqlDatabase::database(connectionName_, false).isOpen();
}

std::optional<qint64> InsightStore::savePasskeySweep(const PasskeySweepRecord& s) {
  QSqlDatabase db = QSqlDatabase::database(connectionName_, false);
  if (!db.transaction()) {
    fail(QStringLiteral("cannot save the passkey sweep"), db.lastError().text());
    return std::nullopt;
  }
  QSqlQuery q(db);
  q.prepare(QStringLiteral(
      "INSERT INTO passkey_sweeps (model, model_name, settings, complete, tokens_read, tokens_in_prompts, seconds, "
      "created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"));
  q.addBindValue(nn(s.model.folder));
  q.addBindValue(nn(s.model.name));
  q.addBindValue(passkeySettingsJson(s));
  q.addBindValue(s.complete ? 1 : 0);
  q.addBindValue(s.tokensRead);
  q.addBindValue(s.tokensInPrompts);
  q.addBindValue(s.seconds);
  q.addBindValue(timeText(s.createdAt));
  if (!q.exec()) {
    db.rollback();
    fail(QStringLiteral("cannot save the passkey sweep"), q.lastError().text());
    return std::nullopt;
  }
  const qint64 id = q.lastInsertId().toLongLong();
  QSqlQuery t(db);
  t.prepare(QStringLiteral(
      "INSERT INTO passkey_trials (sweep_id, length, depth, trial, passkey, answer, correct) VALUES (?, ?, ?, ?, ?, ?, ?)"));
  for (const PasskeyTrialRecord& trial : s.trials) {
    t.addBindValue(id);
    t.addBindValue(trial.length);
    t.addBindValue(trial.depth);
    t.addBindValue(trial.trial);
    t.addBindValue(trial.key);
    t.addBindValue(nn(trial.answer));
    t.addBindValue(trial.correct ? 1 : 0);
    if (!t.exec()) {
      db.rollback();
      fail(QStringLiteral("cannot save the passkey trials"), t.lastError().text());
      return std::nullopt;
    }
  }
  if (!db.commit()) {
    fail(QStringLiteral("cannot save the passkey sweep"), db.lastError().text());
    return std::nullopt;
  }
  return id;
}

std::optional<PasskeySweepRecord> InsightStore::passkeySweep(qint64 id) {
  QSqlDatabase db = QSqlDatabase::database(connectionName_, false);
  QSqlQuery q(db);
  q.prepare(QStringLiteral(
      "SELECT model, model_name, settings, complete, tokens_read, tokens_in_prompts, seconds, created_at "
      "FROM passkey_sweeps WHERE id = ?"));
  q.addBindValue(id);
  if (!q.exec() || !q.next()) return std::nullopt;
  PasskeySweepRecord s;
  s.id = id;
  passkeySettingsFromJson(q.value(2).toString(), &s);
  s.model.folder = q.value(0).toString();
  s.model.name = q.value(1).toString();
  s.complete = q.value(3).toInt() != 0;
  s.tokensRead = q.value(4).toLongLong();
  s.tokensInPrompts = q.value(5).toLongLong();
  s.seconds = q.value(6).toDouble();
  s.createdAt = parseTime(q.value(7));
  QSqlQuery t(db);
  t.prepare(QStringLiteral(
      "SELECT length, depth, trial, passkey, answer, correct FROM passkey_trials WHERE sweep_id = ? "
      "ORDER BY length, depth, trial"));
  t.addBindValue(id);
  if (!t.exec()) return std::nullopt;
  while (t.next()) {
    PasskeyTrialRecord trial;
    trial.length = t.value(0).toLongLong();
    trial.depth = t.value(1).toDouble();
    trial.trial = t.value(2).toInt();
    trial.key = t.value(3).toInt();
    trial.answer = t.value(4).toString();
    trial.correct = t.value(5).toInt() != 0;
    s.trials.append(trial);
  }
  return s;
}

std::optional<qint64> InsightStore::saveEntropyRun(const EntropyRunRecord& r) {
  QSqlDatabase db = QSqlDatabase::database(connectionName_, false);
  QSqlQuery q(db);
  q.prepare(QStringLiteral(
      "INSERT INTO entropy_runs (model, model_name, document, settings, tokens, seconds, created_at, results) "
      "VALUES (?, ?, ?, ?, ?, ?, ?, ?)"));
  q.addBindValue(nn(r.model.folder));
  q.addBindValue(nn(r.model.name));
  q.addBindValue(nn(r.document));
  q.addBindValue(entropySettingsJson(r));
  q.addBindValue(r.tokens());
  q.addBindValue(r.seconds);
  q.addBindValue(timeText(r.createdAt));
  q.addBindValue(encodeEntropyResults(r));
  if (!q.exec()) {
    fail(QStringLiteral("cannot save the entropy run"), q.lastError().text());
    return std::nullopt;
  }
  return q.lastInsertId().toLongLong();
}

std::optional<EntropyRunRecord> InsightStore::entropyRun(qint64 id) {
  QSqlDatabase db = QSqlDatabase::database(connectionName_, false);
  QSqlQuery q(db);
  q.prepare(QStringLiteral(
      "SELECT model, model_name, document, settings, seconds, created_at, results FROM entropy_runs WHERE id = ?"));
  q.addBindValue(id);
  if (!q.exec() || !q.next()) return std::nullopt;
  EntropyRunRecord r;
  r.id = id;
  const QJsonObject settings = QJsonDocument::fromJson(q.value(3).toString().toUtf8()).object();
  r.model = modelFromJson(settings.value("model").toObject());
  r.model.folder = q.value(0).toString();
  r.model.name = q.value(1).toString();
  r.settings.maxBuckets = settings.value("maxBuckets").toInt(512);
  r.settings.chunkTokens = settings.value("chunkTokens").toInt(512);
  r.document = q.value(2).toString();
  r.seconds = q.value(4).toDouble();
  r.createdAt = parseTime(q.value(5));
  QString error;
  if (!decodeEntropyResults(q.value(6).toByteArray(), &r, &error)) {
    fail(QStringLiteral("entropy run %1").arg(id), error);
    return std::nullopt;
  }
  return r;
}

QList<InsightRunSummary> InsightStore::runs() {
  QList<InsightRunSummary> out;
  QSqlDatabase db = QSqlDatabase::database(connectionName_, false);
  QSqlQuery q(db);
  if (q.exec(QStringLiteral("SELECT id, model, model_name, settings, created_at, complete FROM passkey_sweeps"))) {
    while (q.next()) {
      InsightRunSummary s;
      s.kind = InsightRunSummary::Kind::Passkey;
      s.id = q.value(0).toLongLong();
      s.modelFolder = q.value(1).toString();
      s.modelName = q.value(2).toString();
      s.description = describeSweepSettings(q.value(3).toString());
      if (q.value(5).toInt() == 0) s.description += QStringLiteral(" (stopped early)");
      s.createdAt = parseTime(q.value(4));
      out.append(s);
    }
  }
  if (q.exec(QStringLiteral("SELECT id, model, model_name, document, tokens, created_at FROM entropy_runs"))) {
    while (q.next()) {
      InsightRunSummary s;
      s.kind = InsightRunSummary::Kind::Entropy;
      s.id = q.value(0).toLongLong();
      s.modelFolder = q.value(1).toString();
      s.modelName = q.value(2).toString();
      const QString doc = QFileInfo(q.value(3).toString()).fileName();
      s.description = QStringLiteral("entropy: %1, %2 tokens")
                          .arg(doc.isEmpty() ? q.value(3).toString() : doc)
                          .arg(q.value(4).toLongLong());
      s.createdAt = parseTime(q.value(5));
      out.append(s);
    }
  }
  std::sort(out.begin(), out.end(), [](const InsightRunSummary& a, const InsightRunSummary& b) {
    return a.createdAt != b.createdAt ? a.createdAt > b.createdAt : a.id > b.id;
  });
  return out;
}

bool InsightStore::deleteRun(InsightRunSummary::Kind kind, qint64 id) {
  QSqlDatabase db = QSqlDatabase::database(connectionName_, false);
  QSqlQuery q(db);
  q.prepare(kind == InsightRunSummary::Kind::Passkey ? QStringLiteral("DELETE FROM passkey_sweeps WHERE id = ?")
                                                      : QStringLiteral("DELETE FROM entropy_runs WHERE id = ?"));
  q.addBindValue(id);
  if (!q.exec()) return fail(QStringLiteral("cannot delete run %1").arg(id), q.lastError().text());
  return q.numRowsAffected() > 0;
}

}  // namespace sambalens
