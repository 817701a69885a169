#include "insight_controller.h"

#include <QDir>
#include <QElapsedTimer>
#include <QFileInfo>
#include <QMutex>
#include <QPointer>

#include "engine_controller.h"
#include "engine_worker.h"  // describeEngineError
#include "samba/backend.h"
#include "samba/error.h"
#include "samba/tokenizer.h"
#include "samba/weights.h"

namespace sambalens {

// Hands results from the engine thread to the controller. The controller
// clears `receiver` (under the mutex) when it dies, so a task still running
// then posts nothing; events already posted die with the controller.
struct InsightRelay {
  QMutex mutex;
  InsightController* receiver = nullptr;

  void post(std::function<void(InsightController*)> call) {
    QMutexLocker lock(&mutex);
    InsightController* r = receiver;
    if (!r) return;
    QMetaObject::invokeMethod(r, [r, call = std::move(call)] { call(r); }, Qt::QueuedConnection);
  }
};

namespace {

// The model a task runs on: the loaded one, or another folder opened for
// this task alone.
struct TaskModel {
  samba::Backend* backend = nullptr;
  const samba::Tokenizer* tokenizer = nullptr;
  InsightModel info;
  std::unique_ptr<samba::ModelFiles> ownFiles;
  std::unique_ptr<samba::Backend> ownBackend;
  std::unique_ptr<samba::Tokenizer> ownTokenizer;
};

bool sameFolder(const QString& a, const QString& b) {
  return QFileInfo(a).canonicalFilePath() == QFileInfo(b).canonicalFilePath();
}

QString displayName(const std::string& configName, const QString& folder) {
  QString name = QString::fromStdString(configName);
  if (name.isEmpty() || name == QLatin1String("samba")) name = QFileInfo(folder).fileName();
  return name;
}

TaskModel openTaskModel(const EngineTaskContext& ctx, const QString& folder, const QString& backendKind) {
  TaskModel m;
  if (folder.isEmpty() || (ctx.backend && sameFolder(folder, ctx.model.folder))) {
    if (!ctx.backend || !ctx.tokenizer || !ctx.files) {
      throw samba::Error(samba::ErrorKind::InvalidArgument, "no model is loaded: load one or choose a model folder");
    }
    m.backend = ctx.backend;
    m.tokenizer = ctx.tokenizer;
    m.info = describeModel(ctx.files->config(), ctx.model.folder, ctx.model.name, ctx.model.backendDescription);
    return m;
  }
  const QString absolute = QFileInfo(folder).absoluteFilePath();
  if (!QFileInfo::exists(QDir(absolute).filePath(QStringLiteral("config.json")))) {
    throw samba::Error(samba::ErrorKind::InvalidModel,
                       QStringLiteral("%1 is not a model folder: no config.json").arg(absolute).toStdString());
  }
  m.ownFiles = samba::ModelFiles::open(absolute.toStdString());
  m.ownTokenizer = samba::load_tokenizer(absolute.toStdString());
  samba::BackendChoice choice = samba::create_backend(*m.ownFiles, backendKind.toStdString(), 0);
  if (!choice.backend) throw samba::Error(samba::ErrorKind::Device, "no backend could be created for " + absolute.toStdString());
  m.ownBackend = std::move(choice.backend);
  m.backend = m.ownBackend.get();
  m.tokenizer = m.ownTokenizer.get();
  m.info = describeModel(m.ownFiles->config(), absolute, displayName(m.ownFiles->config().name, absolute),
                         QString::fromStdString(m.backend->description()));
  return m;
}

// Entropy runs are compared across runs, models and backends, so they use
// the exact precision (fp32 activations, within 1e-3 nats of the CPU). The
// CPU backend always computes in fp32; a CUDA backend loaded for the chat
// runs with bf16 activations, so the entropy run opens an exact backend of
// the same model for itself, freed when the run ends. If that cannot be made
// (not enough GPU memory next to the loaded model), the run goes on with the
// loaded backend, and the backend text saved with the run says so: the
// description names the activations ("..., bf16 activations").
void useExactPrecision(const EngineTaskContext& ctx, TaskModel& m) {
  const std::string loaded = m.backend->description();
  if (!ctx.files || loaded.rfind("cuda", 0) != 0 || loaded.find("fp32 activations") != std::string::npos) return;
  try {
    samba::BackendChoice choice = samba::create_backend(*ctx.files, "cuda", 0, samba::Precision::exact);
    m.ownBackend = std::move(choice.backend);
    m.backend = m.ownBackend.get();
    m.info.backend = QString::fromStdString(m.backend->description());
  } catch (const samba::Error& e) {
    if (e.kind() == samba::ErrorKind::Cancelled) throw;
    m.info.backend = QStringLiteral("%1 (exact precision unavailable: %2)")
                         .arg(QString::fromStdString(loaded), QString::fromUtf8(e.what()));
  }
}

// Progress at most every `intervalMs`, plus the last report of a run.
InsightProgressFn throttledProgress(InsightRelay& relay, int intervalMs) {
  auto clock = std::make_shared<QElapsedTimer>();
  return [&relay, intervalMs, clock](const InsightProgress& p) {
    const bool last = p.total > 0 && p.done >= p.total;
    if (clock->isValid() && clock->elapsed() < intervalMs && !last) return;
    clock->restart();
    relay.post([p](InsightController* c) { emit c->progress(p); });
  };
}

}  // namespace

InsightController::InsightController(EngineController* engine, QObject* parent)
    : QObject(parent), engine_(engine), relay_(std::make_shared<InsightRelay>()) {
  qRegisterMetaType<sambalens::InsightProgress>();
  qRegisterMetaType<sambalens::PasskeySweepRecord>();
  qRegisterMetaType<sambalens::EntropyRunRecord>();
  relay_->receiver = this;
  // The engine is free only once the task returned: deliver the result then,
  // so a slot may start the next run at once.
  connect(engine_, &EngineController::taskFinished, this, [this](quint64 id) {
    if (id == 0 || id != taskId_) return;
    taskId_ = 0;
    std::function<void()> deliver;
    deliver.swap(pending_);
    if (deliver) {
      deliver();
    } else {
      emit failed(QStringLiteral("the insight run ended without a result"));
    }
  });
}

InsightController::~InsightController() {
  QMutexLocker lock(&relay_->mutex);
  relay_->receiver = nullptr;
  if (taskId_ != 0) engine_->stop();
}

quint64 InsightController::launch(const Job& job) {
  lastError_.clear();
  if (taskId_ != 0) {
    lastError_ = QStringLiteral("another insight run is still going; stop it first");
    return 0;
  }
  pending_ = nullptr;
  std::shared_ptr<InsightRelay> relay = relay_;
  const int interval = progressIntervalMs_;
  const quint64 id = engine_->runTask([relay, job, interval](const EngineTaskContext& ctx) {
    try {
      job(ctx, *relay, throttledProgress(*relay, interval));
    } catch (const samba::Error& e) {
      if (e.kind() == samba::ErrorKind::Cancelled) {
        relay->post([](InsightController* c) { c->pending_ = [c] { emit c->stopped(); }; });
        return;
      }
      const QString message = describeEngineError(e);
      relay->post([message](InsightController* c) { c->pending_ = [c, message] { emit c->failed(message); }; });
    } catch (const std::exception& e) {
      const QString message = describeEngineError(e);
      relay->post([message](InsightController* c) { c->pending_ = [c, message] { emit c->failed(message); }; });
    }
  });
  if (id == 0) {
    lastError_ = QStringLiteral("the engine is busy (an answer is being written); stop it first");
    return 0;
  }
  taskId_ = id;
  return id;
}

bool InsightController::startPasskey(const PasskeySettings& settings) {
  lastError_.clear();
  const QString invalid = validatePasskeySettings(settings);
  if (!invalid.isEmpty()) {
    lastError_ = invalid;
    return false;
  }
  if (settings.modelFolder.isEmpty() && !engine_->isModelLoaded() && !engine_->isLoading()) {
    lastError_ = QStringLiteral("no model is loaded: load one or choose a model folder");
    return false;
  }
  return launch([settings](const EngineTaskContext& ctx, InsightRelay& relay, const InsightProgressFn& progress) {
           TaskModel model = openTaskModel(ctx, settings.modelFolder, settings.backend);
           PasskeySweepRecord sweep = runPasskeyJob(*model.backend, *model.tokenizer, model.info, settings, progress, ctx.cancel);
           if (sweep.trials.isEmpty()) throw samba::Error(samba::ErrorKind::Cancelled, "stopped");
           relay.post([sweep](InsightController* c) { c->pending_ = [c, sweep] { emit c->passkeyFinished(sweep); }; });
         }) != 0;
}

bool InsightController::startEntropy(const QString& text, const QString& document, const EntropySettings& settings) {
  lastError_.clear();
  if (text.trimmed().isEmpty()) {
    lastError_ = QStringLiteral("there is no text to read: open a document first");
    return false;
  }
  if (!engine_->isModelLoaded() && !engine_->isLoading()) {
    lastError_ = QStringLiteral("no model is loaded");
    return false;
  }
  return launch([text, document, settings](const EngineTaskContext& ctx, InsightRelay& relay,
                                           const InsightProgressFn& progress) {
           TaskModel model = openTaskModel(ctx, QString(), QString());
           useExactPrecision(ctx, model);
           EntropyRunRecord run =
               runEntropyJob(*model.backend, *model.tokenizer, model.info, text, document, settings, progress, ctx.cancel);
           relay.post([run](InsightController* c) { c->pending_ = [c, run] { emit c->entropyFinished(run); }; });
         }) != 0;
}

void InsightController::cancel() {
  if (taskId_ != 0) engine_->stop();
}

}  // namespace sambalens
