// The saved sessions for the library: all of them, most recent first, or
// those matching a search (title or any message). Titles are editable in
// place (rename); removeSession deletes one with its messages.
#pragma once

#include <QAbstractListModel>
#include <QList>

#include "session_store.h"

namespace sambalens::ui {

class SessionListModel : public QAbstractListModel {
  Q_OBJECT

 public:
  enum Role { SessionIdRole = Qt::UserRole + 1, SnippetRole };

  // `store` may be null: the list is empty and says nothing is saved.
  explicit SessionListModel(sambalens::SessionStore* store, QObject* parent = nullptr);

  int rowCount(const QModelIndex& parent = QModelIndex()) const override;
  QVariant data(const QModelIndex& index, int role) const override;
  bool setData(const QModelIndex& index, const QVariant& value, int role) override;
  Qt::ItemFlags flags(const QModelIndex& index) const override;

  // An empty query lists every session.
  void setFilter(const QString& query);
  const QString& filter() const { return filter_; }
  // Reads the list again (after a run added or updated a session).
  void refresh();

  qint64 sessionId(int row) const { return rows_[row].id; }
  int rowOfSession(qint64 sessionId) const;
  bool removeSession(int row);

 signals:
  void storeFailed(const QString& message);

 private:
  struct Row {
    qint64 id = 0;
    QString title;
    QString detail;   // "3 messages · 2 h ago" or a search snippet
    QDateTime updated;
  };

  sambalens::SessionStore* store_;
  QString filter_;
  QList<Row> rows_;
};

// "just now", "5 min ago", "yesterday", or the date.
QString describeAge(const QDateTime& when, const QDateTime& now = QDateTime::currentDateTimeUtc());

}  // namespace sambalens::ui
