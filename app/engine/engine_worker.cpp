#include "engine_worker.h"

#include <QDir>
#include <QElapsedTimer>
#include <QFileInfo>
#include <new>

#include "model_fingerprint.h"
#include "samba/backend.h"
#include "samba/error.h"
#include "samba/model_state.h"
#include "samba/tokenizer.h"
#include "samba/weights.h"

namespace sambalens {

QString describeEngineError(const std::exception& error) {
  const QString what = QString::fromUtf8(error.what());
  if (dynamic_cast<const std::bad_alloc*>(&error)) {
    return QStringLiteral("out of memory: the model and its input do not fit; try a smaller model or the other backend");
  }
  if (const auto* e = dynamic_cast<const samba::Error*>(&error)) {
    switch (e->kind()) {
      case samba::ErrorKind::InvalidModel: return QStringLiteral("invalid model: %1").arg(what);
      case samba::ErrorKind::OutOfMemory: return QStringLiteral("out of memory: %1").arg(what);
      case samba::ErrorKind::Device: return QStringLiteral("GPU error: %1").arg(what);
      case samba::ErrorKind::Cancelled: return QStringLiteral("stopped");
      case samba::ErrorKind::Io:
      case samba::ErrorKind::InvalidArgument: return what;
    }
  }
  return QStringLiteral("engine error: %1").arg(what);
}

QString ModelInfo::summary() const {
  QString s = QStringLiteral("%1 on %2").arg(name, backendDescription);
  if (!fallbackReason.isEmpty()) s += QStringLiteral(" (not on the GPU: %1)").arg(fallbackReason);
  return s;
}

EngineWorker::EngineWorker(std::shared_ptr<EngineStream> stream) : stream_(std::move(stream)) {}

EngineWorker::~EngineWorker() = default;

void EngineWorker::load(const QString& folder, const QString& backend,
                        EngineController::BackendFactory factory) {
  const QString absolute = QFileInfo(folder).absoluteFilePath();
  bool keptPrevious = true;
  try {
    if (!QFileInfo(absolute).isDir()) {
      throw samba::Error(samba::ErrorKind::Io, QStringLiteral("no model folder at %1").arg(absolute).toStdString());
    }
    if (!QFileInfo::exists(QDir(absolute).filePath(QStringLiteral("config.json")))) {
      throw samba::Error(samba::ErrorKind::InvalidModel,
                         QStringLiteral("%1 is not a model folder: no config.json (expected config.json, "
                                        "*.safetensors and tokenizer.model)")
                             .arg(absolute)
                             .toStdString());
    }
    std::unique_ptr<samba::ModelFiles> files = samba::ModelFiles::open(absolute.toStdString());
    std::shared_ptr<const samba::Tokenizer> tokenizer = samba::load_tokenizer(absolute.toStdString());
    const samba::ModelConfig& config = files->config();
    if (tokenizer->vocab_size() > config.vocab_size) {
      throw samba::Error(samba::ErrorKind::InvalidModel,
                         QStringLiteral("%1: the tokenizer has %2 pieces, more than the model's vocab_size %3")
                             .arg(absolute)
                             .arg(tokenizer->vocab_size())
                             .arg(config.vocab_size)
                             .toStdString());
    }
    // The files are valid: free the old model (its GPU memory) before the
    // new backend allocates.
    keptPrevious = false;
    backend_.reset();
    files_.reset();
    tokenizer_.reset();
    const std::string kind = backend.toStdString();
    samba::BackendChoice choice = factory ? factory(*files, kind) : samba::create_backend(*files, kind, 0);
    if (!choice.backend) {
      throw samba::Error(samba::ErrorKind::Device, "no backend could be created for this model");
    }
    ModelInfo info;
    info.folder = absolute;
    info.name = QString::fromStdString(config.name);
    if (info.name.isEmpty() || info.name == QLatin1String("samba")) info.name = QFileInfo(absolute).fileName();
    info.backendRequested = backend;
    info.backendDescription = QString::fromStdString(choice.backend->description());
    info.fallbackReason = QString::fromStdString(choice.fallback_reason);
    info.tokenizerFamily = QString::fromStdString(tokenizer->family());
    info.fingerprint = modelFingerprint(absolute, config.fingerprint());
    info.parameters = config.parameter_count();
    info.weightBytes = qint64(files->stored_bytes());
    info.stateBytes = samba::state_bytes(config);
    info.layers = config.n_layer;
    info.dModel = config.d_model;
    info.window = config.window;
    info.trainLength = config.train_length;
    info.vocabSize = config.vocab_size;

    files_ = std::move(files);
    backend_ = std::move(choice.backend);
    tokenizer_ = tokenizer;
    model_ = info;
    {
      QMutexLocker lock(&stream_->mutex);
      stream_->tokenizer = tokenizer;
    }
    emit loaded(info);
  } catch (const std::exception& e) {
    if (!keptPrevious) {
      QMutexLocker lock(&stream_->mutex);
      stream_->tokenizer.reset();
    }
    emit loadFailed(absolute, describeEngineError(e), keptPrevious);
  }
}

void EngineWorker::publishProgress(quint64 id, const PrefillProgress& progress) {
  QMutexLocker lock(&stream_->mutex);
  stream_->progress = progress;
  stream_->progressDirty = true;
  stream_->progressId = id;
}

void EngineWorker::runTask(quint64 id, const EngineController::EngineTask& task) {
  EngineTaskContext context;
  context.backend = backend_.get();
  context.tokenizer = tokenizer_.get();
  context.files = files_.get();
  context.model = model_;
  context.cancel = &stream_->cancel;
  try {
    task(context);
  } catch (const std::exception& e) {
    // Tasks report their own errors; this only keeps the engine thread alive.
    qWarning("engine task %llu ended with an exception: %s", static_cast<unsigned long long>(id), e.what());
  }
  emit taskFinished(id);
}

void EngineWorker::run(quint64 id, const GenerationRequest& request) {
  GenerationStats stats;
  QString produced;          // text streamed so far, kept if a stop interrupts
  qint64 producedTokens = 0;
  QElapsedTimer clock;
  clock.start();
  const samba::CancelToken* cancel = &stream_->cancel;
  try {
    if (!backend_ || !tokenizer_) {
      emit failed(id, QStringLiteral("no model is loaded"));
      return;
    }
    const samba::ModelConfig& config = backend_->config();
    const std::vector<int32_t> instruction = tokenizer_->encode(request.instruction.toStdString());
    if (instruction.empty()) {
      emit failed(id, QStringLiteral("the prompt has no instruction after the documents"));
      return;
    }
    stats.instructionTokens = qint64(instruction.size());

    // 1. The context: restored from a snapshot, or read.
    bool restored = false;
    if (!request.snapshot.isEmpty()) {
      try {
        const samba::ModelState state = samba::deserialize_state(
            config, reinterpret_cast<const uint8_t*>(request.snapshot.constData()), size_t(request.snapshot.size()));
        backend_->load_state(state);
        restored = true;
        stats.contextTokens = state.position;
        stats.reusedTokens = state.position;
        emit stateReused(id, state.position);
      } catch (const samba::Error& e) {
        stats.snapshotNote = QStringLiteral("the saved model state could not be used (%1); the documents were read again")
                                 .arg(QString::fromUtf8(e.what()));
      }
    }
    double contextSeconds = 0;
    if (!restored) {
      backend_->reset();
      const std::vector<int32_t> context = tokenizer_->encode(request.context.toStdString());
      stats.contextTokens = qint64(context.size());
      const qint64 total = stats.contextTokens + stats.instructionTokens;
      samba::PrefillOptions options;
      options.chunk_tokens = request.prefillChunk;
      options.cancel = cancel;
      options.on_progress = [&](int64_t done, int64_t) {
        const double elapsed = clock.elapsed() / 1000.0;
        PrefillProgress p;
        p.done = done;
        p.total = total;
        p.tokensPerSecond = elapsed > 0 ? done / elapsed : 0;
        p.etaSeconds = p.tokensPerSecond > 0 ? (total - done) / p.tokensPerSecond : -1;
        publishProgress(id, p);
      };
      publishProgress(id, PrefillProgress{0, total, 0, 0, -1});
      if (!context.empty()) samba::prefill(*backend_, context, options);
      contextSeconds = clock.elapsed() / 1000.0;
      if (request.wantSnapshot && !context.empty()) {
        const std::vector<uint8_t> bytes = samba::serialize_state(backend_->save_state());
        emit snapshotTaken(id, QByteArray(reinterpret_cast<const char*>(bytes.data()), qsizetype(bytes.size())),
                           request.contextKey, stats.contextTokens);
      }
    }

    // 2. The instruction, then the answer.
    const qint64 base = stats.contextTokens;
    const qint64 total = base + stats.instructionTokens;
    const double instructionStart = clock.elapsed() / 1000.0;
    samba::GenerateOptions options;
    options.sampling.temperature = request.temperature;
    options.sampling.top_k = request.topK;
    options.sampling.top_p = request.topP;
    options.sampling.repetition_penalty = request.repetitionPenalty;
    options.sampling.seed = request.seed;
    options.max_new_tokens = request.maxNewTokens;
    for (const QString& s : request.stopStrings) options.stop_strings.push_back(s.toStdString());
    options.prefill.chunk_tokens = request.prefillChunk;
    options.prefill.cancel = cancel;
    options.prefill.on_progress = [&](int64_t done, int64_t) {
      const double elapsed = clock.elapsed() / 1000.0;
      const qint64 read = (base - stats.reusedTokens) + done;  // tokens actually read this run
      PrefillProgress p;
      p.done = base + done;
      p.total = total;
      p.reused = stats.reusedTokens;
      p.tokensPerSecond = elapsed > 0 ? read / elapsed : 0;
      p.etaSeconds = p.tokensPerSecond > 0 ? (total - p.done) / p.tokensPerSecond : -1;
      publishProgress(id, p);
    };
    if (restored) publishProgress(id, PrefillProgress{base, total, stats.reusedTokens, 0, -1});
    bool first = true;
    options.on_token = [&](std::string_view delta, int32_t) {
      if (first) {
        stats.firstTokenSeconds = clock.elapsed() / 1000.0;
        first = false;
      }
      stream_->tokens.fetch_add(1, std::memory_order_relaxed);
      ++producedTokens;
      if (!delta.empty()) {
        const QString text = QString::fromUtf8(delta.data(), qsizetype(delta.size()));
        produced += text;
        QMutexLocker lock(&stream_->mutex);
        stream_->pendingText += text;
      }
      return !cancel->cancelled();
    };
    const samba::GenerateResult result = samba::generate(*backend_, *tokenizer_, instruction, options);

    stats.text = QString::fromStdString(result.text);
    stats.outputTokens = qint64(result.tokens.size());
    stats.prefillSeconds = contextSeconds + result.prefill_seconds;
    if (first) stats.firstTokenSeconds = instructionStart + result.first_token_seconds;
    stats.decodeSeconds = result.decode_seconds;
    stats.decodeTokensPerSecond = result.decode_seconds > 0 ? stats.outputTokens / result.decode_seconds : 0;
    const qint64 read = stats.promptTokens() - stats.reusedTokens;
    stats.prefillTokensPerSecond = stats.prefillSeconds > 0 ? read / stats.prefillSeconds : 0;
    stats.cancelled = cancel->cancelled() || result.stop_reason == samba::StopReason::Cancelled;
    stats.stopReason = stats.cancelled ? QStringLiteral("cancelled")
                                       : QString::fromUtf8(samba::stop_reason_name(result.stop_reason))
                                             .replace(QLatin1Char('_'), QLatin1Char(' '));
    emit finished(id, stats);
  } catch (const samba::Error& e) {
    if (e.kind() == samba::ErrorKind::Cancelled) {
      // Stopped while reading, or the engine ended the decode by throwing.
      stats.text = produced;
      stats.outputTokens = producedTokens;
      stats.cancelled = true;
      stats.stopReason = QStringLiteral("cancelled");
      stats.prefillSeconds = clock.elapsed() / 1000.0;
      emit finished(id, stats);
      return;
    }
    emit failed(id, describeEngineError(e));
  } catch (const std::exception& e) {
    emit failed(id, describeEngineError(e));
  }
}

}  // namespace sambalens
