// The object that owns the engine, living in EngineController's thread.
// Internal to the app library: the UI uses EngineController.
#pragma once

#include <QMutex>
#include <QObject>
#include <atomic>
#include <memory>

#include "engine_controller.h"
#include "engine_types.h"
#include "samba/generate.h"

namespace samba {
class Backend;
class ModelFiles;
class Tokenizer;
}  // namespace samba

namespace sambalens {

// Shared between the engine thread (writer) and the controller (reader).
struct EngineStream {
  samba::CancelToken cancel;
  std::atomic<qint64> tokens{0};
  QMutex mutex;                  // guards the members below
  QString pendingText;
  PrefillProgress progress;
  bool progressDirty = false;
  quint64 progressId = 0;
  std::shared_ptr<const samba::Tokenizer> tokenizer;  // set when a model loads
};

class EngineWorker : public QObject {
  Q_OBJECT

 public:
  explicit EngineWorker(std::shared_ptr<EngineStream> stream);
  ~EngineWorker() override;

  void load(const QString& folder, const QString& backend, EngineController::BackendFactory factory);
  void run(quint64 id, const GenerationRequest& request);
  void runTask(quint64 id, const EngineController::EngineTask& task);

 signals:
  void loaded(const sambalens::ModelInfo& model);
  // `keptPrevious`: the model loaded before is still usable.
  void loadFailed(const QString& folder, const QString& message, bool keptPrevious);
  void stateReused(quint64 id, qint64 tokens);
  void snapshotTaken(quint64 id, const QByteArray& state, const QString& contextKey, qint64 tokens);
  void finished(quint64 id, const sambalens::GenerationStats& stats);
  void failed(quint64 id, const QString& message);
  void taskFinished(quint64 id);

 private:
  void publishProgress(quint64 id, const PrefillProgress& progress);

  std::shared_ptr<EngineStream> stream_;
  std::unique_ptr<samba::ModelFiles> files_;
  std::unique_ptr<samba::Backend> backend_;
  std::shared_ptr<const samba::Tokenizer> tokenizer_;
  ModelInfo model_;
};

// One line for the user from an engine exception.
QString describeEngineError(const std::exception& error);

}  // namespace sambalens
