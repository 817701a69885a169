// The one interface every document importer implements. Importers are Qt
// plugins (MODULE libraries) found at run time by the app's PluginRegistry;
// the app never links them. An importer runs inside the import worker
// process, so a parser that crashes on a hostile file takes down only that
// process, never the app.
#pragma once

#include <QByteArray>
#include <QFileInfo>
#include <QJsonObject>
#include <QString>
#include <QtPlugin>
#include <atomic>
#include <functional>

#include "imported_document.h"

namespace sambalens {

struct ImportOptions {
  // Files larger than this are listed as excluded, not read (code folders
  // and plain text; a PDF's size says little about its text).
  qint64 maxFileBytes = 1024 * 1024;
  bool useGitignore = true;      // honour .gitignore files at every level
  bool defaultExcludes = true;   // .git, build/dist, node_modules, venvs...

  QJsonObject toJson() const;
  static ImportOptions fromJson(const QJsonObject& object);
  // Part of the import cache key: a change of options re-imports.
  QString cacheKey() const;
};

// Progress and cancellation for one file's import.
class ImportContext {
 public:
  using ProgressFn = std::function<void(int done, int total, const QString& detail)>;
  ImportContext(ProgressFn progress, const std::atomic<bool>* cancel)
      : progress_(std::move(progress)), cancel_(cancel) {}
  void progress(int done, int total, const QString& detail = {}) const {
    if (progress_) progress_(done, total, detail);
  }
  bool cancelled() const { return cancel_ && cancel_->load(std::memory_order_relaxed); }
  const std::atomic<bool>* cancelFlag() const { return cancel_; }

 private:
  ProgressFn progress_;
  const std::atomic<bool>* cancel_;
};

class ImporterPlugin {
 public:
  virtual ~ImporterPlugin() = default;
  // Stable id ("pdf", "code", "text"); part of the import cache key.
  virtual QString id() const = 0;
  // Bumped when the output for the same input changes (invalidates caches).
  virtual int version() const = 0;
  virtual QString displayName() const = 0;
  // How well this importer fits `info` whose first bytes are `head` (empty
  // for a directory): 0 = cannot import it, higher = better fit.
  virtual int score(const QFileInfo& info, const QByteArray& head) const = 0;
  // Imports one file or folder. Never throws; a failure is a document with
  // `error` set to a one-line message that names the file. When cancelled
  // it returns early with error "cancelled".
  virtual ImportedDocument import(const QString& path, const ImportOptions& options,
                                  const ImportContext& context) const = 0;
};

}  // namespace sambalens

#define SambaLensImporterPlugin_iid "org.sambalens.ImporterPlugin/1.0"
Q_DECLARE_INTERFACE(sambalens::ImporterPlugin, SambaLensImporterPlugin_iid)
