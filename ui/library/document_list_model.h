// The documents of the library: everything imported in this window, each
// with a check box that puts it in the selection the model will read, and
// its token count with the loaded model's tokenizer once known.
#pragma once

#include <QAbstractListModel>
#include <QList>

#include "imported_document.h"

namespace sambalens::ui {

class DocumentListModel : public QAbstractListModel {
  Q_OBJECT

 public:
  enum Role { PathRole = Qt::UserRole + 1, KindRole, TokensRole, FactsRole };

  explicit DocumentListModel(QObject* parent = nullptr);

  int rowCount(const QModelIndex& parent = QModelIndex()) const override;
  QVariant data(const QModelIndex& index, int role) const override;
  bool setData(const QModelIndex& index, const QVariant& value, int role) override;
  Qt::ItemFlags flags(const QModelIndex& index) const override;

  // Adds `document`, or replaces the one with the same path (a re-import);
  // returns its row. The check state and token count of a replaced document
  // are kept only if its content did not change.
  int addOrReplace(const sambalens::ImportedDocument& document);
  void removeRow(int row);
  const sambalens::ImportedDocument& document(int row) const { return items_[row].document; }
  QList<sambalens::ImportedDocument> documents() const;
  int rowOfPath(const QString& path) const;  // -1 when absent

  // The documents checked for reading, in library order.
  QList<sambalens::ImportedDocument> checkedDocuments() const;
  QStringList checkedPaths() const;
  // Checks exactly the documents in `paths`.
  void setCheckedPaths(const QStringList& paths);

  // -1: not counted (no model yet).
  qint64 tokens(int row) const { return items_[row].tokens; }
  void setTokens(const QString& path, const QString& contentHash, qint64 tokens);
  void clearTokens();

  // One line of facts: "12 pages · 4,321 tokens", "37 files, 5 excluded".
  static QString factsOf(const sambalens::ImportedDocument& document, qint64 tokens);

 signals:
  void checkedChanged();

 private:
  struct Item {
    sambalens::ImportedDocument document;
    bool checked = false;
    qint64 tokens = -1;
  };
  QList<Item> items_;
};

}  // namespace sambalens::ui
