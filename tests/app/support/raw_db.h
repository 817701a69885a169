// A raw SQLite connection to a store's database file, for what the stores'
// APIs do not do on purpose (look at the schema, corrupt a row, count rows).
#pragma once

#include <QSqlDatabase>
#include <QString>
#include <QVariant>

namespace sambalens_test {

class RawDb {
 public:
  explicit RawDb(const QString& path);
  ~RawDb();
  RawDb(const RawDb&) = delete;
  RawDb& operator=(const RawDb&) = delete;

  QSqlDatabase db();
  // Runs `sql`; a failing statement ends the test program (qFatal).
  void exec(const QString& sql);
  // The first column of the first row; no row or an error ends the test program.
  QVariant scalar(const QString& sql);
  // The same, but an invalid QVariant when there is no row (an error still ends it).
  QVariant optionalScalar(const QString& sql);

 private:
  QString name_;
};

}  // namespace sambalens_test
