#include "session_list_model.h"

#include <QLocale>
#include <QSet>

namespace sambalens::ui {

QString describeAge(const QDateTime& when, const QDateTime& now) {
  if (!when.isValid()) return {};
  const qint64 seconds = when.secsTo(now);
  if (seconds < 60) return SessionListModel::tr("just now");
  if (seconds < 3600) return SessionListModel::tr("%1 min ago").arg(seconds / 60);
  if (seconds < 24 * 3600) return SessionListModel::tr("%1 h ago").arg(seconds / 3600);
  if (when.toLocalTime().date().daysTo(now.toLocalTime().date()) == 1) return SessionListModel::tr("yesterday");
  return QLocale().toString(when.toLocalTime().date(), QLocale::ShortFormat);
}

SessionListModel::SessionListModel(SessionStore* store, QObject* parent) : QAbstractListModel(parent), store_(store) {
  refresh();
}

int SessionListModel::rowCount(const QModelIndex& parent) const { return parent.isValid() ? 0 : int(rows_.size()); }

QVariant SessionListModel::data(const QModelIndex& index, int role) const {
  if (!index.isValid() || index.row() >= rows_.size()) return {};
  const Row& row = rows_[index.row()];
  switch (role) {
    case Qt::DisplayRole: return row.detail.isEmpty() ? row.title : row.title + QLatin1Char('\n') + row.detail;
    case Qt::EditRole: return row.title;
    case Qt::ToolTipRole: return row.title;
    case SessionIdRole: return row.id;
    case SnippetRole: return row.detail;
    default: return {};
  }
}

bool SessionListModel::setData(const QModelIndex& index, const QVariant& value, int role) {
  if (!store_ || !index.isValid() || role != Qt::EditRole) return false;
  const QString title = value.toString().simplified();
  Row& row = rows_[index.row()];
  if (title.isEmpty() || title == row.title) return false;
  if (!store_->renameSession(row.id, title)) {
    emit storeFailed(tr("could not rename the session: %1").arg(store_->lastError()));
    return false;
  }
  row.title = title;
  emit dataChanged(index, index);
  return true;
}

Qt::ItemFlags SessionListModel::flags(const QModelIndex& index) const {
  if (!index.isValid()) return Qt::NoItemFlags;
  return Qt::ItemIsEnabled | Qt::ItemIsSelectable | Qt::ItemIsEditable;
}

void SessionListModel::setFilter(const QString& query) {
  filter_ = query.trimmed();
  refresh();
}

void SessionListModel::refresh() {
  QList<Row> rows;
  if (store_ && filter_.isEmpty()) {
    const QDateTime now = QDateTime::currentDateTimeUtc();
    for (const SessionRecord& s : store_->sessions()) {
      const QString messages = s.messageCount == 1 ? tr("1 message") : tr("%1 messages").arg(s.messageCount);
      rows.append(Row{s.id, s.title, messages + QStringLiteral(" · ") + describeAge(s.updatedAt, now), s.updatedAt});
    }
  } else if (store_) {
    QSet<qint64> seen;  // one row per session: its best hit
    for (const SearchHit& hit : store_->search(filter_)) {
      if (seen.contains(hit.sessionId)) continue;
      seen.insert(hit.sessionId);
      rows.append(Row{hit.sessionId, hit.sessionTitle, hit.messageId ? hit.snippet : QString(), {}});
    }
  }
  beginResetModel();
  rows_ = rows;
  endResetModel();
}

int SessionListModel::rowOfSession(qint64 sessionId) const {
  for (int i = 0; i < rows_.size(); ++i) {
    if (rows_[i].id == sessionId) return i;
  }
  return -1;
}

bool SessionListModel::removeSession(int row) {
  if (!store_ || row < 0 || row >= rows_.size()) return false;
  if (!store_->deleteSession(rows_[row].id)) {
    emit storeFailed(tr("could not delete the session: %1").arg(store_->lastError()));
    return false;
  }
  beginRemoveRows(QModelIndex(), row, row);
  rows_.removeAt(row);
  endRemoveRows();
  return true;
}

}  // namespace sambalens::ui
