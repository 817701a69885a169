#include "document_list_model.h"

#include "token_budget.h"

namespace sambalens::ui {

DocumentListModel::DocumentListModel(QObject* parent) : QAbstractListModel(parent) {}

int DocumentListModel::rowCount(const QModelIndex& parent) const { return parent.isValid() ? 0 : int(items_.size()); }

QString DocumentListModel::factsOf(const ImportedDocument& d, qint64 tokens) {
  QStringList facts;
  if (d.kind == QLatin1String("pdf")) {
    facts << (d.pageCount == 1 ? tr("1 page") : tr("%1 pages").arg(d.pageCount));
  } else if (d.kind == QLatin1String("code")) {
    QString files = d.sections.size() == 1 ? tr("1 file") : tr("%1 files").arg(d.sections.size());
    if (!d.excluded.isEmpty()) files += tr(", %1 left out").arg(d.excluded.size());
    facts << files;
  } else {
    facts << tr("%1 characters").arg(formatCount(d.characterCount()));
  }
  if (tokens >= 0) facts << tr("%1 tokens").arg(formatCount(tokens));
  return facts.join(QStringLiteral(" · "));
}

QVariant DocumentListModel::data(const QModelIndex& index, int role) const {
  if (!index.isValid() || index.row() >= items_.size()) return {};
  const Item& item = items_[index.row()];
  switch (role) {
    case Qt::DisplayRole:
      return item.document.displayName() + QLatin1Char('\n') + factsOf(item.document, item.tokens);
    case Qt::ToolTipRole: {
      QString tip = item.document.path;
      for (const QString& w : item.document.warnings) tip += QLatin1Char('\n') + w;
      return tip;
    }
    case Qt::CheckStateRole: return item.checked ? Qt::Checked : Qt::Unchecked;
    case PathRole: return item.document.path;
    case KindRole: return item.document.kind;
    case TokensRole: return item.tokens;
    case FactsRole: return factsOf(item.document, item.tokens);
    default: return {};
  }
}

bool DocumentListModel::setData(const QModelIndex& index, const QVariant& value, int role) {
  if (!index.isValid() || role != Qt::CheckStateRole) return false;
  const bool checked = value.toInt() == Qt::Checked;
  Item& item = items_[index.row()];
  if (item.checked == checked) return true;
  item.checked = checked;
  emit dataChanged(index, index, {Qt::CheckStateRole});
  emit checkedChanged();
  return true;
}

Qt::ItemFlags DocumentListModel::flags(const QModelIndex& index) const {
  if (!index.isValid()) return Qt::NoItemFlags;
  return Qt::ItemIsEnabled | Qt::ItemIsSelectable | Qt::ItemIsUserCheckable;
}

int DocumentListModel::addOrReplace(const ImportedDocument& document) {
  const int row = rowOfPath(document.path);
  if (row >= 0) {
    Item& item = items_[row];
    if (item.document.contentHash != document.contentHash) item.tokens = -1;
    item.document = document;
    emit dataChanged(index(row), index(row));
    return row;
  }
  const int at = int(items_.size());
  beginInsertRows(QModelIndex(), at, at);
  items_.append(Item{document, false, -1});
  endInsertRows();
  return at;
}

void DocumentListModel::removeRow(int row) {
  if (row < 0 || row >= items_.size()) return;
  const bool wasChecked = items_[row].checked;
  beginRemoveRows(QModelIndex(), row, row);
  items_.removeAt(row);
  endRemoveRows();
  if (wasChecked) emit checkedChanged();
}

QList<ImportedDocument> DocumentListModel::documents() const {
  QList<ImportedDocument> out;
  for (const Item& item : items_) out.append(item.document);
  return out;
}

int DocumentListModel::rowOfPath(const QString& path) const {
  for (int i = 0; i < items_.size(); ++i) {
    if (items_[i].document.path == path) return i;
  }
  return -1;
}

QList<ImportedDocument> DocumentListModel::checkedDocuments() const {
  QList<ImportedDocument> out;
  for (const Item& item : items_) {
    if (item.checked) out.append(item.document);
  }
  return out;
}

QStringList DocumentListModel::checkedPaths() const {
  QStringList out;
  for (const Item& item : items_) {
    if (item.checked) out.append(item.document.path);
  }
  return out;
}

void DocumentListModel::setCheckedPaths(const QStringList& paths) {
  bool changed = false;
  for (int i = 0; i < items_.size(); ++i) {
    const bool checked = paths.contains(items_[i].document.path);
    if (items_[i].checked == checked) continue;
    items_[i].checked = checked;
    changed = true;
    emit dataChanged(index(i), index(i), {Qt::CheckStateRole});
  }
  if (changed) emit checkedChanged();
}

void DocumentListModel::setTokens(const QString& path, const QString& contentHash, qint64 tokens) {
  const int row = rowOfPath(path);
  // A count that arrives after the document changed belongs to the old content.
  if (row < 0 || items_[row].document.contentHash != contentHash) return;
  items_[row].tokens = tokens;
  emit dataChanged(index(row), index(row));
}

void DocumentListModel::clearTokens() {
  for (Item& item : items_) item.tokens = -1;
  if (!items_.isEmpty()) emit dataChanged(index(0), index(int(items_.size()) - 1));
}

}  // namespace sambalens::ui
