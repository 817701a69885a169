// Imports files and folders off the GUI thread: by default in a helper
// process (`sambalens --import-worker`), so a file that crashes or hangs a
// parser costs only that file. Emits per-file progress, can be cancelled,
// and serves unchanged files from the content-hash cache without parsing.
#pragma once

#include <QList>
#include <QObject>
#include <QPointer>
#include <QProcess>
#include <QStringList>
#include <QFuture>
#include <QTimer>
#include <atomic>
#include <memory>

#include "import_cache.h"
#include "importer_plugin.h"
#include "plugin_registry.h"

namespace sambalens {

class ImportService : public QObject {
  Q_OBJECT

 public:
  explicit ImportService(QObject* parent = nullptr);
  ~ImportService() override;

  // The worker command; by default this executable with "--import-worker".
  // An empty program imports in a thread of this process instead (no crash
  // isolation; used when there is no worker binary).
  void setWorkerCommand(const QString& program, const QStringList& arguments);
  void setImporterDirectories(const QStringList& directories);
  void setCache(ImportCache* cache);  // not owned; null disables the cache
  void setOptions(const ImportOptions& options) { options_ = options; }
  const ImportOptions& options() const { return options_; }
  // A file that gives no sign of progress for this long is abandoned: the
  // worker is killed and the next file goes on in a new one.
  void setStallTimeout(int milliseconds) { stallTimeoutMs_ = milliseconds; }

  PluginRegistry& registry();
  bool isRunning() const { return running_; }

 public slots:
  // Imports `paths` (files or folders). Ignored while an import is running.
  void start(const QStringList& paths);
  // Stops at once: the worker is killed; files already imported are kept.
  void cancel();

 signals:
  void fileStarted(int index, int count, const QString& path);
  // `total` is 0 while the size is unknown (scanning a folder).
  void fileProgress(int index, int done, int total, const QString& detail);
  // Each file once, imported or failed (document.error), in completion order.
  void fileFinished(int index, const sambalens::ImportedDocument& document, bool fromCache);
  // Every file that finished, in the order of `paths`.
  void finished(const QList<sambalens::ImportedDocument>& documents, bool cancelled);

 private:
  struct CacheProbe;
  void lookUpCache();
  void onCacheLookedUp(quint64 job, const QList<CacheProbe>& probes);
  void startWorker();
  void startInProcess();
  void onWorkerOutput();
  void onWorkerEnded(int exitCode, QProcess::ExitStatus status);
  void onWorkerFailedToStart();
  void onStalled();
  void handleEvent(const QJsonObject& event);
  void finishFile(int index, ImportedDocument document, bool fromCache);
  void maybeFinish();
  void stopWorker();

  QString workerProgram_;
  QStringList workerArguments_;
  QStringList importerDirs_;
  ImportCache* cache_ = nullptr;
  ImportOptions options_;
  int stallTimeoutMs_ = 120000;
  std::unique_ptr<PluginRegistry> registry_;

  bool running_ = false;
  quint64 job_ = 0;
  QStringList paths_;
  QList<std::optional<ImportedDocument>> results_;
  QList<int> pending_;          // indices still to be imported by a worker
  int current_ = -1;            // index the worker is reading now
  QProcess* worker_ = nullptr;
  QList<QPointer<QProcess>> retiring_;  // done, exiting on their own
  QByteArray workerBuffer_;
  QTimer stallTimer_;
  std::shared_ptr<std::atomic<bool>> cancelFlag_;
  bool stalled_ = false;
  QFuture<void> background_;  // cache look-ups or the in-process import
  QList<QFuture<void>> cacheWrites_;  // import-cache entries being written
};

}  // namespace sambalens
