#include "analysis_controller.h"

#include "citations.h"
#include "content_hash.h"
#include "prompt_presets.h"

namespace sambalens {

AnalysisController::AnalysisController(EngineController* engine, SessionStore* store, QObject* parent)
    : QObject(parent), engine_(engine), store_(store) {
  connect(engine_, &EngineController::stateReused, this, &AnalysisController::onStateReused);
  connect(engine_, &EngineController::prefillProgress, this, &AnalysisController::onProgress);
  connect(engine_, &EngineController::textDelta, this, &AnalysisController::onDelta);
  connect(engine_, &EngineController::snapshotTaken, this, &AnalysisController::onSnapshot);
  connect(engine_, &EngineController::finished, this, &AnalysisController::onFinished);
  connect(engine_, &EngineController::failed, this, &AnalysisController::onFailed);
}

QString AnalysisController::sessionTitle(const QString& presetId, const QString& question,
                                         const QList<ImportedDocument>& documents) {
  QString docs = documents.isEmpty() ? QStringLiteral("nothing") : documents.front().displayName();
  if (documents.size() > 1) docs += QStringLiteral(" + %1 more").arg(documents.size() - 1);
  if (presetId == QLatin1String("summarize")) return QStringLiteral("Summary of %1").arg(docs);
  if (presetId == QLatin1String("explain_code")) return QStringLiteral("Explanation of %1").arg(docs);
  if (presetId == QLatin1String("review_code")) return QStringLiteral("Review of %1").arg(docs);
  const QString q = question.simplified();
  if (!q.isEmpty()) return q.size() > 70 ? q.left(69) + QStringLiteral("…") : q;
  return docs;
}

bool AnalysisController::refuse(const QString& message) {
  emit failed(message);
  return false;
}

bool AnalysisController::start(const AnalysisRequest& request) {
  if (running_) {
    // Not `failed`: that would read as the running analysis failing.
    emit warning(QStringLiteral("an analysis is already running; stop it first"));
    return false;
  }
  if (!engine_->isModelLoaded()) return refuse(QStringLiteral("no model is loaded"));
  if (request.documents.isEmpty()) return refuse(QStringLiteral("no documents to read: add a PDF, a text file or a code folder"));
  const std::optional<PromptPreset> preset = findPromptPreset(request.presetId);
  if (!preset) return refuse(QStringLiteral("unknown prompt preset \"%1\"").arg(request.presetId));
  QString error;
  const std::optional<RenderedPrompt> prompt =
      renderPrompt(*preset, composeModelText(request.documents), request.question, &error);
  if (!prompt) return refuse(error);

  const ModelInfo& model = engine_->model();
  GenerationRequest generation = request.generation;
  generation.context = prompt->context;
  generation.instruction = prompt->instruction;
  // The snapshot key is the exact context text: same documents, same
  // preset prefix, same importer output -> same state.
  generation.contextKey = bytesSha256(prompt->context.toUtf8());
  generation.snapshot.clear();
  generation.wantSnapshot = store_ != nullptr;

  sessionId_ = request.sessionId;
  qint64 userMessageId = 0;
  if (store_) {
    if (sessionId_ == 0) {
      QList<qint64> documentIds;
      for (const ImportedDocument& d : request.documents) {
        DocumentRecord record;
        record.path = d.path;
        record.contentHash = d.contentHash;
        record.kind = d.kind;
        record.pages = d.pageCount;
        record.bytes = d.bytes;
        if (const std::optional<qint64> id = store_->upsertDocument(record)) documentIds.append(*id);
      }
      const std::optional<qint64> id = store_->createSession(
          sessionTitle(request.presetId, request.question, request.documents), model.folder, documentIds);
      if (!id) return refuse(store_->lastError());
      sessionId_ = *id;
      emit sessionCreated(sessionId_);
    } else {
      store_->setSessionModel(sessionId_, model.folder);
    }
    MessageRecord user;
    user.sessionId = sessionId_;
    user.role = QStringLiteral("user");
    user.preset = request.presetId;
    user.text = preset->needsQuestion() ? request.question.simplified() : preset->title;
    const std::optional<qint64> id = store_->appendMessage(user);
    if (!id) return refuse(store_->lastError());
    userMessageId = *id;
    store_->setLastSessionId(sessionId_);
  }

  presetId_ = request.presetId;
  documents_ = request.documents;
  answer_.clear();
  pending_ = generation;
  modelFingerprint_ = model.fingerprint;
  running_ = true;
  stopRequested_ = false;
  emit started(sessionId_, userMessageId);
  if (!store_) {
    launch();
    return true;
  }
  auto* watcher = new QFutureWatcher<std::optional<SnapshotRecord>>(this);
  connect(watcher, &QFutureWatcher<std::optional<SnapshotRecord>>::finished, this, [this, watcher] {
    const std::optional<SnapshotRecord> snapshot = watcher->result();
    watcher->deleteLater();
    if (snapshot) {
      pending_.snapshot = snapshot->state;
      pending_.wantSnapshot = false;  // it is already stored
    }
    launch();
  });
  watcher->setFuture(store_->findSnapshotAsync(model.fingerprint, generation.contextKey));
  return true;
}

void AnalysisController::launch() {
  if (stopRequested_) {
    // Stopped before the engine started: an empty, cancelled answer.
    GenerationStats stats;
    stats.cancelled = true;
    stats.stopReason = QStringLiteral("cancelled");
    complete(stats);
    return;
  }
  if (engine_->model().fingerprint != modelFingerprint_) {
    // Another model was loaded meanwhile: the state found is not for it.
    pending_.snapshot.clear();
    pending_.wantSnapshot = store_ != nullptr;
  }
  launching_ = true;
  engineId_ = engine_->generate(pending_);
  launching_ = false;
  pending_ = GenerationRequest();
}

void AnalysisController::stop() {
  if (!running_) return;
  stopRequested_ = true;
  if (engineId_ != 0) engine_->stop();
}

void AnalysisController::onStateReused(quint64 id, qint64 tokens) {
  if (id == engineId_) emit stateReused(tokens);
}

void AnalysisController::onProgress(quint64 id, const PrefillProgress& progress) {
  if (id == engineId_) emit prefillProgress(progress);
}

void AnalysisController::onDelta(quint64 id, const QString& text) {
  if (id != engineId_) return;
  answer_ += text;
  emit textDelta(text);
}

void AnalysisController::onSnapshot(quint64 id, const QByteArray& state, const QString& key, qint64 tokens) {
  if (id != engineId_ || !store_) return;
  SnapshotRecord record;
  record.sessionId = sessionId_;
  record.modelFingerprint = engine_->model().fingerprint;
  record.docSetHash = key;
  record.tokens = tokens;
  record.state = state;
  // Tens of MB for larger models: written on a pool thread.
  auto* watcher = new QFutureWatcher<bool>(this);
  snapshotWrites_.append(watcher);
  connect(watcher, &QFutureWatcher<bool>::finished, this, [this, watcher] {
    snapshotWrites_.removeOne(watcher);
    if (!watcher->result()) {
      emit warning(QStringLiteral("the model state could not be saved; the next question will read the documents again"));
    } else {
      store_->pruneSnapshots(snapshotBudget_);
    }
    watcher->deleteLater();
  });
  watcher->setFuture(store_->saveSnapshotAsync(record));
}

void AnalysisController::onFinished(quint64 id, const GenerationStats& stats) {
  if (id != engineId_ || id == 0) return;
  complete(stats);
}

void AnalysisController::complete(const GenerationStats& stats) {
  engineId_ = 0;
  running_ = false;
  MessageRecord answer;
  answer.sessionId = sessionId_;
  answer.role = QStringLiteral("assistant");
  answer.preset = presetId_;
  answer.text = stats.text.isEmpty() ? answer_ : stats.text;
  answer.stopReason = stats.stopReason;
  answer.promptTokens = stats.promptTokens();
  answer.reusedTokens = stats.reusedTokens;
  answer.outputTokens = stats.outputTokens;
  answer.prefillSeconds = stats.prefillSeconds;
  answer.firstTokenSeconds = stats.firstTokenSeconds;
  answer.decodeSeconds = stats.decodeSeconds;
  answer.citations = extractCitations(answer.text, documents_);
  answer.createdAt = QDateTime::currentDateTimeUtc();
  if (!stats.snapshotNote.isEmpty()) emit warning(stats.snapshotNote);
  if (store_) {
    if (const std::optional<qint64> stored = store_->appendMessage(answer)) {
      answer.id = *stored;
    } else {
      emit warning(QStringLiteral("the answer could not be saved: %1").arg(store_->lastError()));
    }
  }
  emit finished(answer, stats);
}

void AnalysisController::onFailed(quint64 id, const QString& message) {
  // id 0: the engine refused the request we were handing it.
  const bool ours = (id != 0 && id == engineId_) || (id == 0 && launching_);
  if (!ours) return;
  engineId_ = 0;
  running_ = false;
  emit failed(message);
}

}  // namespace sambalens
