#include "import_service.h"

#include <QCoreApplication>
#include <QElapsedTimer>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QtConcurrent/QtConcurrentRun>

#include "content_hash.h"
#include "import_one.h"

namespace sambalens {

struct ImportService::CacheProbe {
  int index = -1;
  std::optional<ImportedDocument> document;
};

namespace {
ImportedDocument failedDocument(const QString& path, const QString& message) {
  ImportedDocument doc;
  doc.path = QFileInfo(path).absoluteFilePath();
  doc.error = message;
  return doc;
}
}  // namespace

ImportService::ImportService(QObject* parent) : QObject(parent) {
  workerProgram_ = QCoreApplication::applicationFilePath();
  workerArguments_ = {QStringLiteral("--import-worker")};
  importerDirs_ = PluginRegistry::defaultDirectories();
  stallTimer_.setSingleShot(true);
  connect(&stallTimer_, &QTimer::timeout, this, &ImportService::onStalled);
}

ImportService::~ImportService() {
  if (cancelFlag_) cancelFlag_->store(true);
  background_.waitForFinished();
  for (QFuture<void>& write : cacheWrites_) write.waitForFinished();
  stopWorker();
  for (const QPointer<QProcess>& p : retiring_) {
    if (p && !p->waitForFinished(2000)) {
      p->kill();
      p->waitForFinished(1000);
    }
  }
}

void ImportService::setWorkerCommand(const QString& program, const QStringList& arguments) {
  workerProgram_ = program;
  workerArguments_ = arguments;
}

void ImportService::setImporterDirectories(const QStringList& directories) {
  importerDirs_ = directories;
  if (!running_) registry_.reset();
}

void ImportService::setCache(ImportCache* cache) { cache_ = cache; }

PluginRegistry& ImportService::registry() {
  if (!registry_) registry_ = std::make_unique<PluginRegistry>(importerDirs_);
  return *registry_;
}

void ImportService::start(const QStringList& paths) {
  if (running_) return;
  background_.waitForFinished();  // a cancelled job's thread, about to see its flag
  running_ = true;
  ++job_;
  paths_ = paths;
  results_ = QList<std::optional<ImportedDocument>>(paths.size());
  pending_.clear();
  current_ = -1;
  cancelFlag_ = std::make_shared<std::atomic<bool>>(false);
  if (paths.isEmpty()) {
    maybeFinish();
    return;
  }
  lookUpCache();
}

void ImportService::lookUpCache() {
  if (!cache_) {
    QList<CacheProbe> none;
    for (int i = 0; i < paths_.size(); ++i) none.append(CacheProbe{i, std::nullopt});
    onCacheLookedUp(job_, none);
    return;
  }
  PluginRegistry* reg = &registry();  // loaded here, on this thread
  const quint64 job = job_;
  const auto flag = cancelFlag_;
  const QStringList paths = paths_;
  const ImportCache* cache = cache_;
  const ImportOptions options = options_;
  const QList<QFuture<void>> writes = cacheWrites_;
  // Hashing a large PDF takes a moment: never on the GUI thread.
  background_ = QtConcurrent::run([this, reg, job, flag, paths, cache, options, writes] {
    // Entries of the previous import may still be being written.
    for (QFuture<void> write : writes) write.waitForFinished();
    QList<CacheProbe> probes;
    for (int i = 0; i < paths.size() && !flag->load(); ++i) {
      CacheProbe probe{i, std::nullopt};
      const QFileInfo info(paths[i]);
      if (info.isFile()) {
        if (ImporterPlugin* importer = reg->importerFor(paths[i])) {
          const QString hash = fileSha256(paths[i], nullptr, flag.get());
          probe.document =
              cache->lookup(paths[i], hash, importer->id(), importer->version(), options);
        }
      }
      probes.append(probe);
    }
    QMetaObject::invokeMethod(
        this, [this, job, probes] { onCacheLookedUp(job, probes); }, Qt::QueuedConnection);
  });
}

void ImportService::onCacheLookedUp(quint64 job, const QList<CacheProbe>& probes) {
  if (job != job_ || !running_) return;
  for (const CacheProbe& probe : probes) {
    if (probe.document) {
      emit fileStarted(probe.index, paths_.size(), paths_[probe.index]);
      finishFile(probe.index, *probe.document, true);
    } else {
      pending_.append(probe.index);
    }
  }
  if (!running_ || pending_.isEmpty()) return;
  if (workerProgram_.isEmpty()) {
    startInProcess();
  } else {
    startWorker();
  }
}

void ImportService::startWorker() {
  if (pending_.isEmpty()) {
    maybeFinish();
    return;
  }
  stalled_ = false;
  current_ = -1;
  workerBuffer_.clear();
  worker_ = new QProcess(this);
  worker_->setProgram(workerProgram_);
  worker_->setArguments(workerArguments_);
  worker_->setProcessChannelMode(QProcess::ForwardedErrorChannel);
  connect(worker_, &QProcess::readyReadStandardOutput, this, &ImportService::onWorkerOutput);
  connect(worker_, &QProcess::finished, this, &ImportService::onWorkerEnded);
  connect(worker_, &QProcess::errorOccurred, this, [this](QProcess::ProcessError error) {
    if (error == QProcess::FailedToStart) onWorkerFailedToStart();
  });
  QJsonArray paths;
  QJsonArray indices;
  for (int index : pending_) {
    paths.append(paths_[index]);
    indices.append(index);
  }
  const QJsonObject request{{"paths", paths},
                            {"indices", indices},
                            {"options", options_.toJson()},
                            {"importerDirs", QJsonArray::fromStringList(importerDirs_)}};
  worker_->start();
  worker_->write(QJsonDocument(request).toJson(QJsonDocument::Compact) + '\n');
  worker_->closeWriteChannel();
  stallTimer_.start(stallTimeoutMs_);
}

void ImportService::onWorkerFailedToStart() {
  if (!worker_) return;
  const QString why = worker_->errorString();
  worker_->disconnect(this);
  worker_->deleteLater();
  worker_ = nullptr;
  stallTimer_.stop();
  const QList<int> pending = pending_;
  pending_.clear();
  for (int index : pending) {
    finishFile(index,
               failedDocument(paths_[index], QStringLiteral("%1: cannot start the import worker %2: %3")
                                                 .arg(QFileInfo(paths_[index]).fileName(),
                                                      workerProgram_, why)),
               false);
  }
}

void ImportService::onWorkerOutput() {
  if (!worker_) return;
  workerBuffer_ += worker_->readAllStandardOutput();
  int newline;
  while ((newline = workerBuffer_.indexOf('\n')) >= 0) {
    const QByteArray line = workerBuffer_.left(newline);
    workerBuffer_.remove(0, newline + 1);
    const QJsonDocument json = QJsonDocument::fromJson(line);
    if (json.isObject()) handleEvent(json.object());
    if (!running_) return;
  }
  stallTimer_.start(stallTimeoutMs_);
}

void ImportService::handleEvent(const QJsonObject& event) {
  const QString type = event.value("event").toString();
  const int index = event.value("index").toInt(-1);
  const bool validIndex = index >= 0 && index < paths_.size();
  if (type == QLatin1String("start") && validIndex) {
    current_ = index;
    emit fileStarted(index, paths_.size(), paths_[index]);
  } else if (type == QLatin1String("progress") && validIndex) {
    emit fileProgress(index, event.value("done").toInt(), event.value("total").toInt(),
                      event.value("detail").toString());
  } else if (type == QLatin1String("document") && validIndex) {
    ImportedDocument doc = ImportedDocument::fromJson(event.value("document").toObject());
    pending_.removeOne(index);
    current_ = -1;
    if (doc.ok() && cache_) {
      if (ImporterPlugin* importer = registry().importer(doc.importerId)) {
        // Serialising and writing a 500-page document takes tens of
        // milliseconds: do it off the GUI thread (entries are written under a
        // temporary name and renamed, so a reader never sees half of one).
        ImportCache* cache = cache_;
        const int version = importer->version();
        const ImportOptions options = options_;
        cacheWrites_.removeIf([](const QFuture<void>& f) { return f.isFinished(); });
        cacheWrites_.append(QtConcurrent::run([cache, doc, version, options] { cache->store(doc, version, options); }));
      }
    }
    finishFile(index, std::move(doc), false);
  } else if (type == QLatin1String("fatal")) {
    const QString message = event.value("message").toString();
    const QList<int> pending = pending_;
    pending_.clear();
    for (int i : pending) finishFile(i, failedDocument(paths_[i], message), false);
  }
}

void ImportService::onWorkerEnded(int exitCode, QProcess::ExitStatus status) {
  onWorkerOutput();  // events still in the pipe
  stallTimer_.stop();
  if (worker_) {
    worker_->disconnect(this);
    worker_->deleteLater();
    worker_ = nullptr;
  }
  if (!running_ || pending_.isEmpty()) {
    maybeFinish();
    return;
  }
  // The worker ended in the middle: the file it was reading is the cause.
  const int culprit = current_ >= 0 ? current_ : pending_.front();
  QString what;
  if (stalled_) {
    what = QStringLiteral("the importer stopped responding (no progress for %1 s) and was stopped")
               .arg(stallTimeoutMs_ / 1000);
  } else if (status == QProcess::CrashExit) {
    what = QStringLiteral("the importer crashed while reading this file");
  } else {
    what = QStringLiteral("the import worker exited with code %1 while reading this file").arg(exitCode);
  }
  pending_.removeOne(culprit);
  finishFile(culprit,
             failedDocument(paths_[culprit], QStringLiteral("%1: %2; the other files are not affected")
                                                 .arg(QFileInfo(paths_[culprit]).fileName(), what)),
             false);
  if (running_) startWorker();  // a fresh process for the rest
}

void ImportService::onStalled() {
  if (!worker_) return;
  stalled_ = true;
  worker_->kill();
}

void ImportService::startInProcess() {
  PluginRegistry* reg = &registry();
  const quint64 job = job_;
  const auto flag = cancelFlag_;
  const ImportOptions options = options_;
  QList<QPair<int, QString>> work;
  for (int index : pending_) work.append({index, paths_[index]});
  const auto post = [this, job](QJsonObject event) {
    QMetaObject::invokeMethod(
        this,
        [this, job, event] {
          if (job == job_ && running_) handleEvent(event);
        },
        Qt::QueuedConnection);
  };
  background_ = QtConcurrent::run([reg, flag, options, work, post] {
    for (const auto& [index, path] : work) {
      if (flag->load()) return;
      post(QJsonObject{{"event", "start"}, {"index", index}, {"path", path}});
      QElapsedTimer sinceLast;  // invalid until the first event, which always goes
      const ImportContext context(
          [&, index = index](int done, int total, const QString& detail) {
            if (sinceLast.isValid() && done != total && sinceLast.elapsed() < 50) return;
            sinceLast.start();
            post(QJsonObject{{"event", "progress"},
                             {"index", index},
                             {"done", done},
                             {"total", total},
                             {"detail", detail}});
          },
          flag.get());
      const ImportedDocument doc = importOne(*reg, path, options, context);
      if (flag->load()) return;
      post(QJsonObject{{"event", "document"}, {"index", index}, {"document", doc.toJson()}});
    }
  });
}

void ImportService::finishFile(int index, ImportedDocument document, bool fromCache) {
  if (document.path.isEmpty()) document.path = QFileInfo(paths_[index]).absoluteFilePath();
  results_[index] = document;
  emit fileFinished(index, document, fromCache);
  maybeFinish();
}

void ImportService::maybeFinish() {
  if (!running_) return;
  for (const auto& r : results_) {
    if (!r) return;
  }
  running_ = false;
  if (worker_) {
    // It has sent every document and is about to exit on its own; detach
    // it so a new job never sees its end.
    stallTimer_.stop();
    worker_->disconnect(this);
    connect(worker_, &QProcess::finished, worker_, &QObject::deleteLater);
    retiring_.append(worker_);
    worker_ = nullptr;
  }
  QList<ImportedDocument> docs;
  for (const auto& r : results_) docs.append(*r);
  emit finished(docs, false);
}

void ImportService::stopWorker() {
  stallTimer_.stop();
  if (!worker_) return;
  worker_->disconnect(this);
  worker_->kill();
  worker_->waitForFinished(2000);
  worker_->deleteLater();
  worker_ = nullptr;
}

void ImportService::cancel() {
  if (!running_) return;
  if (cancelFlag_) cancelFlag_->store(true);
  stopWorker();
  running_ = false;
  pending_.clear();
  QList<ImportedDocument> docs;
  for (const auto& r : results_) {
    if (r) docs.append(*r);
  }
  emit finished(docs, true);
}

}  // namespace sambalens
