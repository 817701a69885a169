#include "raw_db.h"

#include <QSqlError>
#include <QSqlQuery>
#include <QUuid>

namespace sambalens_test {

RawDb::RawDb(const QString& path) : name_(QUuid::createUuid().toString()) {
  QSqlDatabase db = QSqlDatabase::addDatabase("QSQLITE", name_);
  db.setDatabaseName(path);
  if (!db.open()) qFatal("cannot open %s", qPrintable(path));
}

RawDb::~RawDb() {
  { QSqlDatabase::database(name_).close(); }
  QSqlDatabase::removeDatabase(name_);
}

QSqlDatabase RawDb::db() { return QSqlDatabase::database(name_); }

void RawDb::exec(const QString& sql) {
  QSqlQuery q(db());
  if (!q.exec(sql)) qFatal("%s: %s", qPrintable(sql), qPrintable(q.lastError().text()));
}

QVariant RawDb::scalar(const QString& sql) {
  QSqlQuery q(db());
  if (!q.exec(sql) || !q.next()) qFatal("%s: %s", qPrintable(sql), qPrintable(q.lastError().text()));
  return q.value(0);
}

QVariant RawDb::optionalScalar(const QString& sql) {
  QSqlQuery q(db());
  if (!q.exec(sql)) qFatal("%s: %s", qPrintable(sql), qPrintable(q.lastError().text()));
  return q.next() ? q.value(0) : QVariant();
}

}  // namespace sambalens_test
