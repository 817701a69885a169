#include "headless.h"

#include <QCommandLineParser>
#include <QCoreApplication>
#include <QEventLoop>
#include <QFileInfo>
#include <QFutureWatcher>
#include <QThreadPool>
#include <QTimer>
#include <csignal>
#include <cstdio>
#include <optional>

#include "analysis_controller.h"
#include "app_paths.h"
#include "cli_output.h"
#include "engine_controller.h"
#include "import_cache.h"
#include "import_service.h"
#include "prompt_presets.h"
#include "session_store.h"
#include "token_budget.h"

namespace sambalens {

namespace {

const QStringList kCommands = {QStringLiteral("summarize"), QStringLiteral("ask"),
                               QStringLiteral("explain"), QStringLiteral("review")};

QString presetFor(const QString& command) {
  if (command == QLatin1String("explain")) return QStringLiteral("explain_code");
  if (command == QLatin1String("review")) return QStringLiteral("review_code");
  return command;
}

struct Options {
  QString command;
  QStringList files;
  QString model;
  QString backend = QStringLiteral("auto");
  QString question;
  int maxTokens = 512;
  float temperature = 0.0f;
  float topP = 1.0f;
  int topK = 0;
  float repetitionPenalty = 1.15f;
  quint64 seed = 0;
  bool save = true;
};

class HeadlessRun : public QObject {
 public:
  explicit HeadlessRun(const Options& options) : options_(options) {}

  int exec() {
    QString error;
    const QString modelFolder = resolveModelFolder(options_.model, &error);
    if (modelFolder.isEmpty()) {
      status_.line(QStringLiteral("error: %1").arg(error));
      return kExitModel;
    }
    if (options_.save) {
      store_.emplace();
      if (!store_->open()) {
        status_.line(QStringLiteral("warning: sessions are not saved: %1").arg(store_->lastError()));
        store_.reset();
      }
    }
    analysis_ = new AnalysisController(&engine_, store_ ? &*store_ : nullptr, this);
    cache_ = std::make_unique<ImportCache>();
    imports_.setCache(cache_.get());
    connectSignals();

    QTimer interruptPoll;
    watchForInterrupt(interruptPoll, [this] {
      interrupted_ = true;
      status_.line(QStringLiteral("interrupted"));
      if (analysis_->isRunning()) {
        analysis_->stop();  // finishes with the partial answer
      } else {
        imports_.cancel();
        done(kExitInterrupted);
      }
    });

    engine_.loadModel(modelFolder, options_.backend);
    imports_.start(options_.files);
    const int code = loop_.exec();
    QThreadPool::globalInstance()->waitForDone();  // a snapshot still being written
    std::signal(SIGINT, SIG_DFL);
    return code;
  }

 private:
  void done(int code) {
    status_.endProgress();
    loop_.exit(code);
  }

  void connectSignals() {
    connect(&imports_, &ImportService::fileStarted, this, [this](int index, int count, const QString& path) {
      currentFile_ = QStringLiteral("import [%1/%2] %3").arg(index + 1).arg(count).arg(QFileInfo(path).fileName());
      status_.progress(currentFile_);
    });
    connect(&imports_, &ImportService::fileProgress, this, [this](int, int, int, const QString& detail) {
      status_.progress(detail.isEmpty() ? currentFile_ : currentFile_ + QStringLiteral(": ") + detail);
    });
    connect(&imports_, &ImportService::fileFinished, this,
            [this](int, const ImportedDocument& doc, bool fromCache) {
              if (!doc.ok()) {
                status_.line(QStringLiteral("error: %1").arg(doc.error));
                return;
              }
              QString facts = doc.kind == QLatin1String("pdf")   ? QStringLiteral("%1 pages").arg(doc.pageCount)
                              : doc.kind == QLatin1String("code") ? QStringLiteral("%1 files, %2 excluded")
                                                                        .arg(doc.sections.size())
                                                                        .arg(doc.excluded.size())
                                                                  : QStringLiteral("%1 characters").arg(doc.characterCount());
              if (fromCache) facts += QStringLiteral(", unchanged since last import");
              status_.line(QStringLiteral("imported %1 (%2)").arg(doc.displayName(), facts));
              for (const QString& w : doc.warnings) status_.line(QStringLiteral("warning: %1").arg(w));
            });
    connect(&imports_, &ImportService::finished, this,
            [this](const QList<ImportedDocument>& docs, bool cancelled) {
              if (cancelled) return;
              for (const ImportedDocument& d : docs) {
                if (d.ok()) documents_.append(d);
              }
              if (documents_.isEmpty()) {
                status_.line(QStringLiteral("error: nothing to read: no file could be imported"));
                done(kExitImport);
                return;
              }
              importsDone_ = true;
              maybeStart();
            });
    reportModelLoad(this, engine_, status_, [this] { maybeStart(); },
                    [this] {
                      imports_.cancel();
                      done(kExitModel);
                    });
    connect(analysis_, &AnalysisController::stateReused, this, [this](qint64 tokens) {
      status_.line(QStringLiteral("reused the stored model state of these documents: %1 tokens not read again")
                       .arg(formatCount(tokens)));
    });
    connect(analysis_, &AnalysisController::prefillProgress, this, [this](const PrefillProgress& p) {
      if (answerStarted_) return;
      QString text = QStringLiteral("reading %1/%2 tokens").arg(formatCount(p.done), formatCount(p.total));
      if (p.tokensPerSecond > 0) text += QStringLiteral("  %1 tok/s").arg(formatCount(qRound64(p.tokensPerSecond)));
      if (p.etaSeconds >= 0) text += QStringLiteral("  ETA %1").arg(formatDuration(p.etaSeconds));
      status_.progress(text);
    });
    connect(analysis_, &AnalysisController::textDelta, this, [this](const QString& text) {
      if (!answerStarted_) {
        answerStarted_ = true;
        status_.endProgress();
      }
      writeStdout(text);
    });
    connect(analysis_, &AnalysisController::warning, this,
            [this](const QString& message) { status_.line(QStringLiteral("warning: %1").arg(message)); });
    connect(analysis_, &AnalysisController::finished, this,
            [this](const MessageRecord& answer, const GenerationStats& stats) {
              if (!answer.text.isEmpty() && !answer.text.endsWith(QLatin1Char('\n'))) writeStdout(QStringLiteral("\n"));
              QString facts = QStringLiteral("%1 output tokens, prompt %2 tokens (read in %3")
                                  .arg(stats.outputTokens)
                                  .arg(formatCount(stats.promptTokens()))
                                  .arg(formatDuration(stats.prefillSeconds));
              if (stats.reusedTokens > 0) facts += QStringLiteral(", %1 restored").arg(formatCount(stats.reusedTokens));
              facts += QStringLiteral("), first token after %1").arg(formatDuration(stats.firstTokenSeconds));
              if (stats.decodeTokensPerSecond > 0) {
                facts += QStringLiteral(", %1 tokens/s").arg(stats.decodeTokensPerSecond, 0, 'f', 1);
              }
              facts += QStringLiteral(", stop: %1").arg(stats.stopReason);
              status_.line(QStringLiteral("done: %1").arg(facts));
              if (answer.sessionId > 0) status_.line(QStringLiteral("saved in session %1").arg(answer.sessionId));
              done(stats.cancelled && interrupted_ ? kExitInterrupted : kExitOk);
            });
    connect(analysis_, &AnalysisController::failed, this, [this](const QString& message) {
      status_.line(QStringLiteral("error: %1").arg(message));
      done(kExitEngine);
    });
  }

  void maybeStart() {
    if (!importsDone_ || !engine_.isModelLoaded() || startedCounting_) return;
    startedCounting_ = true;
    // The budget first: what will be read and what that means.
    auto* watcher = new QFutureWatcher<qint64>(this);
    connect(watcher, &QFutureWatcher<qint64>::finished, this, [this, watcher] {
      const qint64 tokens = watcher->result();
      watcher->deleteLater();
      if (tokens >= 0) {
        const TokenBudget budget = assessTokenBudget(tokens, engine_.model());
        status_.line(QStringLiteral("budget: %1").arg(budget.detail));
      }
      AnalysisRequest request;
      request.presetId = presetFor(options_.command);
      request.question = options_.question;
      request.documents = documents_;
      request.generation.maxNewTokens = options_.maxTokens;
      request.generation.temperature = options_.temperature;
      request.generation.topP = options_.topP;
      request.generation.topK = options_.topK;
      request.generation.repetitionPenalty = options_.repetitionPenalty;
      request.generation.seed = options_.seed;
      if (!analysis_->start(request)) return;  // failed() already ended the run
    });
    watcher->setFuture(engine_.countTokens(composeModelText(documents_)));
  }

  Options options_;
  StatusLine status_;
  QEventLoop loop_;
  EngineController engine_;
  ImportService imports_;
  std::unique_ptr<ImportCache> cache_;
  std::optional<SessionStore> store_;
  AnalysisController* analysis_ = nullptr;
  QList<ImportedDocument> documents_;
  QString currentFile_;
  bool importsDone_ = false;
  bool startedCounting_ = false;
  bool answerStarted_ = false;
  bool interrupted_ = false;
};

}  // namespace

bool isHeadlessCommand(const QString& word) { return kCommands.contains(word); }

QString headlessUsage() {
  return QStringLiteral(
      "Usage: sambalens [COMMAND] [OPTIONS] FILE...\n"
      "\n"
      "Without a command, opens the window (needs a display).\n"
      "\n"
      "Commands (answer on stdout, progress on stderr):\n"
      "  summarize FILE...          summarize the documents\n"
      "  ask FILE... -q QUESTION    answer a question about the documents\n"
      "  explain FOLDER...          explain a code folder\n"
      "  review FOLDER...           review a code folder\n"
      "\n"
      "FILE is a PDF, a text or Markdown file, a source file or a code folder.\n"
      "\n"
      "Options:\n"
      "  --model DIR          model folder (config.json, *.safetensors, tokenizer.model);\n"
      "                       default: resources/models/samba-lens-default\n"
      "  --backend KIND       auto (default), cpu or cuda\n"
      "  --max-tokens N       longest answer in tokens (default 512)\n"
      "  --temperature T      0 = greedy (default), higher = more varied\n"
      "  --top-p P, --top-k K, --seed N   sampling\n"
      "  --repetition-penalty R  on the last 64 tokens (default 1.15; 1 = off)\n"
      "  -q, --question TEXT  the question for `ask`\n"
      "  --no-save            do not record a session or reuse stored model states\n"
      "\n"
      "Exit status: 0 done, 1 usage, 2 model, 3 import, 4 engine error, 130 interrupted.\n");
}

int runHeadless(const QStringList& arguments) {
  QCommandLineParser parser;
  parser.setSingleDashWordOptionMode(QCommandLineParser::ParseAsLongOptions);
  const QCommandLineOption model(QStringLiteral("model"), QStringLiteral("model folder"), QStringLiteral("DIR"));
  const QCommandLineOption backend(QStringLiteral("backend"), QStringLiteral("auto, cpu or cuda"), QStringLiteral("KIND"),
                                   QStringLiteral("auto"));
  const QCommandLineOption maxTokens(QStringLiteral("max-tokens"), QStringLiteral("answer length"), QStringLiteral("N"),
                                     QStringLiteral("512"));
  const QCommandLineOption temperature(QStringLiteral("temperature"), QStringLiteral("sampling temperature"),
                                       QStringLiteral("T"), QStringLiteral("0"));
  const QCommandLineOption topP(QStringLiteral("top-p"), QStringLiteral("nucleus sampling"), QStringLiteral("P"),
                                QStringLiteral("1"));
  const QCommandLineOption topK(QStringLiteral("top-k"), QStringLiteral("top-k sampling"), QStringLiteral("K"),
                                QStringLiteral("0"));
  const QCommandLineOption seed(QStringLiteral("seed"), QStringLiteral("sampling seed"), QStringLiteral("N"),
                                QStringLiteral("0"));
  const QCommandLineOption repetitionPenalty(QStringLiteral("repetition-penalty"),
                                             QStringLiteral("penalty on the last 64 tokens (1 = off)"),
                                             QStringLiteral("R"), QStringLiteral("1.15"));
  const QCommandLineOption question({QStringLiteral("q"), QStringLiteral("question")}, QStringLiteral("question"),
                                    QStringLiteral("TEXT"));
  const QCommandLineOption noSave(QStringLiteral("no-save"), QStringLiteral("do not record a session"));
  const QCommandLineOption help({QStringLiteral("h"), QStringLiteral("help")}, QStringLiteral("usage"));
  parser.addOptions({model, backend, maxTokens, temperature, topP, topK, seed, repetitionPenalty, question, noSave, help});
  const auto usageError = [](const QString& message) {
    std::fprintf(stderr, "sambalens: %s\nRun `sambalens --help` for usage.\n", qPrintable(message));
    return int(kExitUsage);
  };
  if (!parser.parse(arguments)) return usageError(parser.errorText());
  if (parser.isSet(help)) {
    std::fputs(qPrintable(headlessUsage()), stdout);
    return kExitOk;
  }
  QStringList positional = parser.positionalArguments();
  if (positional.isEmpty() || !isHeadlessCommand(positional.front())) {
    return usageError(QStringLiteral("expected a command: %1").arg(kCommands.join(QStringLiteral(", "))));
  }
  Options options;
  options.command = positional.takeFirst();
  options.files = positional;
  if (options.files.isEmpty()) return usageError(QStringLiteral("%1: no files given").arg(options.command));
  options.model = parser.value(model);
  options.backend = parser.value(backend);
  if (!QStringList{"auto", "cpu", "cuda"}.contains(options.backend)) {
    return usageError(QStringLiteral("--backend must be auto, cpu or cuda, not \"%1\"").arg(options.backend));
  }
  bool ok = false;
  options.maxTokens = parser.value(maxTokens).toInt(&ok);
  if (!ok || options.maxTokens <= 0) return usageError(QStringLiteral("--max-tokens must be a positive whole number"));
  options.temperature = parser.value(temperature).toFloat(&ok);
  if (!ok || options.temperature < 0) return usageError(QStringLiteral("--temperature must be a number >= 0"));
  options.topP = parser.value(topP).toFloat(&ok);
  if (!ok || options.topP <= 0 || options.topP > 1) return usageError(QStringLiteral("--top-p must be in (0, 1]"));
  options.repetitionPenalty = parser.value(repetitionPenalty).toFloat(&ok);
  if (!ok || options.repetitionPenalty <= 0)
    return usageError(QStringLiteral("--repetition-penalty must be a number > 0"));
  options.topK = parser.value(topK).toInt(&ok);
  if (!ok || options.topK < 0) return usageError(QStringLiteral("--top-k must be a whole number >= 0"));
  options.seed = parser.value(seed).toULongLong(&ok);
  if (!ok) return usageError(QStringLiteral("--seed must be a whole number >= 0"));
  options.question = parser.value(question);
  const std::optional<PromptPreset> preset = findPromptPreset(presetFor(options.command));
  if (!preset) return usageError(QStringLiteral("the prompt preset for %1 is missing from this build").arg(options.command));
  if (preset->needsQuestion() && options.question.trimmed().isEmpty()) {
    return usageError(QStringLiteral("%1 needs a question: -q \"...\"").arg(options.command));
  }
  if (!preset->needsQuestion() && !options.question.isEmpty()) {
    return usageError(QStringLiteral("-q is for `ask`; %1 takes no question").arg(options.command));
  }
  options.save = !parser.isSet(noSave);
  HeadlessRun run(options);
  return run.exec();
}

}  // namespace sambalens
