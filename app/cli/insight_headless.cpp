#include "insight_headless.h"

#include <QCommandLineParser>
#include <QDir>
#include <QEventLoop>
#include <QFileInfo>
#include <QGuiApplication>
#include <QTimer>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <memory>

#include "app_paths.h"
#include "cli_output.h"
#include "engine_controller.h"
#include "entropy_math.h"
#include "headless.h"
#include "import_cache.h"
#include "import_service.h"
#include "insight_controller.h"
#include "insight_export.h"
#include "insight_parse.h"
#include "insight_store.h"
#include "paint/insight_images.h"
#include "token_budget.h"

namespace sambalens {

namespace {

struct Options {
  QString command;
  QString file;
  QString model;
  QString backend = QStringLiteral("auto");
  PasskeySettings passkey;
  EntropySettings entropy;
  EntropyGridOptions grid;
  EntropyPositionOptions positions;
  QString headsText;
  QString csv;
  QString png;
  QString surprisalCsv;
  bool save = true;
};

class InsightRun : public QObject {
 public:
  explicit InsightRun(const Options& options) : options_(options), insight_(&engine_) {}

  int exec() {
    QString error;
    const QString folder = resolveModelFolder(options_.model, &error);
    if (folder.isEmpty()) {
      status_.line(QStringLiteral("error: %1").arg(error));
      return kExitModel;
    }
    connectSignals();
    QTimer poll;
    watchForInterrupt(poll, [this] {
      status_.line(QStringLiteral("interrupted: stopping"));
      if (insight_.isRunning()) {
        insight_.cancel();  // a sweep still reports the lengths it finished
      } else {
        imports_.cancel();
        loop_.exit(kExitInterrupted);
      }
    });
    engine_.loadModel(folder, options_.backend);
    if (options_.command == QLatin1String("entropy")) {
      cache_ = std::make_unique<ImportCache>();
      imports_.setCache(cache_.get());
      imports_.start({options_.file});
    } else {
      importsDone_ = true;
    }
    const int code = loop_.exec();
    std::signal(SIGINT, SIG_DFL);
    return code;
  }

 private:
  void done(int code) { loop_.exit(code); }

  void connectSignals() {
    reportModelLoad(this, engine_, status_, [this] { maybeStart(); },
                    [this] {
                      imports_.cancel();
                      done(kExitModel);
                    });
    connect(&imports_, &ImportService::fileFinished, this, [this](int, const ImportedDocument& doc, bool) {
      if (!doc.ok()) status_.line(QStringLiteral("error: %1").arg(doc.error));
    });
    connect(&imports_, &ImportService::finished, this, [this](const QList<ImportedDocument>& docs, bool cancelled) {
      if (cancelled) return;
      for (const ImportedDocument& d : docs) {
        if (d.ok()) documents_.append(d);
      }
      if (documents_.isEmpty()) {
        status_.line(QStringLiteral("error: %1 could not be imported").arg(options_.file));
        done(kExitImport);
        return;
      }
      status_.line(QStringLiteral("imported %1 (%2 characters)")
                       .arg(documents_.front().displayName())
                       .arg(composeModelText(documents_).size()));
      importsDone_ = true;
      maybeStart();
    });
    connect(&insight_, &InsightController::progress, this, [this](const InsightProgress& p) {
      QString text = options_.command == QLatin1String("passkey")
                         ? QStringLiteral("trial %1/%2, %3, %4 tokens read").arg(p.done).arg(p.total).arg(p.detail, formatCount(p.tokensRead))
                         : QStringLiteral("reading %1/%2 tokens").arg(formatCount(p.done), formatCount(p.total));
      if (p.etaSeconds >= 0) text += QStringLiteral("  ETA %1").arg(formatDuration(p.etaSeconds));
      status_.progress(text);
    });
    connect(&insight_, &InsightController::passkeyFinished, this, &InsightRun::onPasskey);
    connect(&insight_, &InsightController::entropyFinished, this, &InsightRun::onEntropy);
    connect(&insight_, &InsightController::stopped, this, [this] {
      status_.line(QStringLiteral("stopped before any result"));
      done(kExitInterrupted);
    });
    connect(&insight_, &InsightController::failed, this, [this](const QString& message) {
      status_.line(QStringLiteral("error: %1").arg(message));
      done(kExitEngine);
    });
  }

  void maybeStart() {
    if (started_ || !importsDone_ || !engine_.isModelLoaded()) return;
    started_ = true;
    const bool started = options_.command == QLatin1String("passkey")
                             ? insight_.startPasskey(options_.passkey)
                             : insight_.startEntropy(composeModelText(documents_),
                                                     QFileInfo(options_.file).absoluteFilePath(), options_.entropy);
    if (!started) {
      status_.line(QStringLiteral("error: %1").arg(insight_.lastError()));
      done(kExitEngine);
    }
  }

  bool write(const QString& path, const QByteArray& bytes, const QString& what) {
    QString error;
    if (!writeExport(path, bytes, &error)) {
      status_.line(QStringLiteral("error: %1").arg(error));
      return false;
    }
    status_.line(QStringLiteral("wrote %1 %2").arg(what, path));
    return true;
  }

  bool writePng(const QString& path, const QImage& image) {
    QString error;
    if (!savePng(image, path, &error)) {
      status_.line(QStringLiteral("error: %1").arg(error));
      return false;
    }
    status_.line(QStringLiteral("wrote PNG %1 (%2×%3)").arg(path).arg(image.width()).arg(image.height()));
    return true;
  }

  void saveRecord(const std::function<std::optional<qint64>(InsightStore&)>& save, const QString& what) {
    if (!options_.save) return;
    InsightStore store;
    if (!store.open()) {
      status_.line(QStringLiteral("warning: the %1 is not saved: %2").arg(what, store.lastError()));
      return;
    }
    if (const auto id = save(store)) {
      status_.line(QStringLiteral("saved the %1 as run %2 in %3").arg(what).arg(*id).arg(store.path()));
    } else {
      status_.line(QStringLiteral("warning: the %1 is not saved: %2").arg(what, store.lastError()));
    }
  }

  void onPasskey(const PasskeySweepRecord& sweep) {
    // The grid on stdout: depth rows (0% at the top), length columns.
    const QList<qint64> lengths = sweep.lengths();
    QString table = QStringLiteral("depth \\ length");
    for (qint64 l : lengths) table += QStringLiteral("\t%1").arg(l);
    table += QLatin1Char('\n');
    for (double d : sweep.depths()) {
      table += QStringLiteral("%1%").arg(QString::number(d * 100, 'g', 4));
      for (qint64 l : lengths) {
        const auto c = sweep.cell(l, d);
        table += c ? QStringLiteral("\t%1/%2").arg(c->correct).arg(c->trials) : QStringLiteral("\t-");
      }
      table += QLatin1Char('\n');
    }
    writeStdout(table);
    status_.line(QStringLiteral("%1 trials in %2; %3 tokens read for %4 tokens of prompts (prefix reuse %5×)%6")
                     .arg(sweep.trials.size())
                     .arg(formatDuration(sweep.seconds))
                     .arg(formatCount(sweep.tokensRead), formatCount(sweep.tokensInPrompts))
                     .arg(sweep.tokensRead ? double(sweep.tokensInPrompts) / sweep.tokensRead : 0.0, 0, 'f', 1)
                     .arg(sweep.complete ? QString() : QStringLiteral("; stopped early")));
    bool ok = true;
    if (!options_.csv.isEmpty()) ok = write(options_.csv, passkeyCsv(sweep), QStringLiteral("CSV")) && ok;
    if (!options_.png.isEmpty()) ok = writePng(options_.png, renderPasskeyHeatmap(sweep)) && ok;
    saveRecord([&](InsightStore& s) { return s.savePasskeySweep(sweep); }, QStringLiteral("sweep"));
    done(!ok ? kExitUsage : sweep.complete ? kExitOk : kExitInterrupted);
  }

  void onEntropy(const EntropyRunRecord& run) {
    // Mean entropy per SWA layer and head over the whole input.
    QString table = QStringLiteral("mean attention entropy (nats) over %1 tokens, window %2\nlayer")
                        .arg(run.tokens())
                        .arg(run.model.window);
    for (int h = 0; h < run.model.heads; ++h) table += QStringLiteral("\th%1").arg(h);
    table += QLatin1Char('\n');
    for (int s = 0; s < run.model.swaLayers(); ++s) {
      table += QString::number(2 * s + 1);
      for (int h = 0; h < run.model.heads; ++h) {
        table += QStringLiteral("\t%1").arg(rangeMean(run, s, h, 0, run.tokens(), false), 0, 'f', 3);
      }
      table += QLatin1Char('\n');
    }
    double sum = 0;
    for (size_t i = 1; i < run.surprisal.size(); ++i) sum += run.surprisal[i];
    const double mean = run.surprisal.size() > 1 ? sum / double(run.surprisal.size() - 1) : 0.0;
    table += QStringLiteral("mean surprisal %1 nats (perplexity %2)\n")
                 .arg(mean, 0, 'f', 4)
                 .arg(std::exp(mean), 0, 'f', 3);
    writeStdout(table);
    status_.line(QStringLiteral("read %1 tokens in %2; buckets of %3 positions")
                     .arg(formatCount(run.tokens()), formatDuration(run.seconds))
                     .arg(run.bucketWidth));
    EntropyPositionOptions positions = options_.positions;
    if (!options_.headsText.isEmpty()) {
      QString error;
      positions.heads = parseHeads(options_.headsText, run, &error);
      if (!error.isEmpty()) status_.line(QStringLiteral("warning: --heads: %1; showing the default heads").arg(error));
    }
    if (positions.heads.isEmpty()) positions.heads = EntropyPositionPainter::extremeHeads(run, 3);
    bool ok = true;
    if (!options_.csv.isEmpty()) ok = write(options_.csv, entropyCsv(run), QStringLiteral("CSV")) && ok;
    if (!options_.surprisalCsv.isEmpty()) ok = write(options_.surprisalCsv, surprisalCsv(run), QStringLiteral("surprisal CSV")) && ok;
    if (!options_.png.isEmpty()) ok = writePng(options_.png, renderEntropyOverview(run, options_.grid, positions)) && ok;
    saveRecord([&](InsightStore& s) { return s.saveEntropyRun(run); }, QStringLiteral("entropy run"));
    done(ok ? kExitOk : kExitUsage);
  }

  // "3:0,5:2" (block layer : head) -> heads; layers must be SWA (odd).
  static QList<EntropyHead> parseHeads(const QString& text, const EntropyRunRecord& run, QString* error) {
    QList<EntropyHead> heads;
    for (const QString& item : text.split(QLatin1Char(','), Qt::SkipEmptyParts)) {
      const QStringList parts = item.trimmed().split(QLatin1Char(':'));
      bool okL = false, okH = false;
      const int layer = parts.size() == 2 ? parts[0].toInt(&okL) : -1;
      const int head = parts.size() == 2 ? parts[1].toInt(&okH) : -1;
      if (!okL || !okH || layer < 0 || layer >= run.model.layers || run.model.isMambaLayer(layer) || head < 0 ||
          head >= run.model.heads) {
        *error = QStringLiteral("\"%1\" is not LAYER:HEAD of an attention layer (odd layers 1..%2, heads 0..%3)")
                     .arg(item)
                     .arg(run.model.layers - 1)
                     .arg(run.model.heads - 1);
        return {};
      }
      heads.append(EntropyHead{layer / 2, head});
    }
    return heads;
  }

  Options options_;
  StatusLine status_;
  QEventLoop loop_;
  EngineController engine_;
  InsightController insight_;
  ImportService imports_;
  std::unique_ptr<ImportCache> cache_;
  QList<ImportedDocument> documents_;
  bool importsDone_ = false;
  bool started_ = false;
};

int usageError(const QString& message) {
  std::fprintf(stderr, "sambalens: %s\nRun `sambalens --help` for usage.\n", qPrintable(message));
  return kExitUsage;
}

// The folder an output file goes to must exist before a long run starts.
QString checkOutputPath(const QString& option, const QString& path) {
  if (path.isEmpty()) return QString();
  const QFileInfo info(path);
  if (!info.absoluteDir().exists()) return QStringLiteral("--%1 %2: the folder %3 does not exist").arg(option, path, info.absolutePath());
  if (info.isDir()) return QStringLiteral("--%1 %2 is a folder; give a file name").arg(option, path);
  return QString();
}

}  // namespace

bool isInsightCommand(const QString& word) {
  return word == QLatin1String("passkey") || word == QLatin1String("entropy");
}

QString insightUsage() {
  return QStringLiteral(
      "\n"
      "Insight commands (tables on stdout, progress on stderr):\n"
      "  passkey [--lengths L,...] [--depths D,...] [--trials N] [--seed N] [--answer-tokens N]\n"
      "          [--csv F] [--png F]      passkey-retrieval sweep: lengths (e.g. 512,1K,4K) x\n"
      "                                   depths (0..1 or 0%..100%) x trials; the heatmap as PNG\n"
      "  entropy FILE [--buckets N] [--csv F] [--png F] [--surprisal-csv F]\n"
      "          [--from P] [--to P] [--normalised] [--heads L:H,...] [--linear]\n"
      "                                   attention entropy per layer, head and position, and\n"
      "                                   per-token surprisal; the grid and the curves as PNG\n"
      "  Both take --model DIR, --backend KIND and --no-save (runs are saved in the\n"
      "  sessions database by default and can be reopened in the window: Insight menu).\n");
}

int runInsightHeadless(int argc, char** argv) {
  // Charts are painted into images: the offscreen platform needs no display.
  qputenv("QT_QPA_PLATFORM", "offscreen");
  QGuiApplication app(argc, argv);
  applyApplicationIdentity();

  QCommandLineParser parser;
  parser.setSingleDashWordOptionMode(QCommandLineParser::ParseAsLongOptions);
  const QCommandLineOption model(QStringLiteral("model"), QStringLiteral("model folder"), QStringLiteral("DIR"));
  const QCommandLineOption backend(QStringLiteral("backend"), QStringLiteral("auto, cpu or cuda"), QStringLiteral("KIND"),
                                   QStringLiteral("auto"));
  const QCommandLineOption lengths(QStringLiteral("lengths"), QStringLiteral("prompt lengths"), QStringLiteral("L"),
                                   QStringLiteral("1K,2K,4K"));
  const QCommandLineOption depths(QStringLiteral("depths"), QStringLiteral("needle depths"), QStringLiteral("D"),
                                  QStringLiteral("0,0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8,0.9,1"));
  const QCommandLineOption trials(QStringLiteral("trials"), QStringLiteral("trials per cell"), QStringLiteral("N"),
                                  QStringLiteral("5"));
  const QCommandLineOption seed(QStringLiteral("seed"), QStringLiteral("passkey seed"), QStringLiteral("N"), QStringLiteral("1"));
  const QCommandLineOption answerTokens(QStringLiteral("answer-tokens"), QStringLiteral("tokens per answer"),
                                        QStringLiteral("N"), QStringLiteral("10"));
  const QCommandLineOption buckets(QStringLiteral("buckets"), QStringLiteral("position buckets"), QStringLiteral("N"),
                                   QStringLiteral("512"));
  const QCommandLineOption from(QStringLiteral("from"), QStringLiteral("grid range start"), QStringLiteral("P"), QStringLiteral("0"));
  const QCommandLineOption to(QStringLiteral("to"), QStringLiteral("grid range end"), QStringLiteral("P"), QStringLiteral("0"));
  const QCommandLineOption normalised(QStringLiteral("normalised"), QStringLiteral("H / ln min(i+1, W)"));
  const QCommandLineOption heads(QStringLiteral("heads"), QStringLiteral("heads to draw"), QStringLiteral("L:H,..."));
  const QCommandLineOption linear(QStringLiteral("linear"), QStringLiteral("linear position axis"));
  const QCommandLineOption csv(QStringLiteral("csv"), QStringLiteral("CSV output"), QStringLiteral("F"));
  const QCommandLineOption png(QStringLiteral("png"), QStringLiteral("PNG output"), QStringLiteral("F"));
  const QCommandLineOption surprisal(QStringLiteral("surprisal-csv"), QStringLiteral("per-token CSV"), QStringLiteral("F"));
  const QCommandLineOption noSave(QStringLiteral("no-save"), QStringLiteral("do not save the run"));
  parser.addOptions({model, backend, lengths, depths, trials, seed, answerTokens, buckets, from, to, normalised, heads,
                     linear, csv, png, surprisal, noSave});
  if (!parser.parse(app.arguments())) return usageError(parser.errorText());
  QStringList positional = parser.positionalArguments();
  if (positional.isEmpty() || !isInsightCommand(positional.front())) return usageError(QStringLiteral("expected passkey or entropy"));

  Options o;
  o.command = positional.takeFirst();
  o.model = parser.value(model);
  o.backend = parser.value(backend);
  if (!QStringList{"auto", "cpu", "cuda"}.contains(o.backend)) {
    return usageError(QStringLiteral("--backend must be auto, cpu or cuda, not \"%1\"").arg(o.backend));
  }
  o.csv = parser.value(csv);
  o.png = parser.value(png);
  o.surprisalCsv = parser.value(surprisal);
  o.save = !parser.isSet(noSave);
  for (const auto& [name, path] : {std::pair{QStringLiteral("csv"), o.csv}, std::pair{QStringLiteral("png"), o.png},
                                   std::pair{QStringLiteral("surprisal-csv"), o.surprisalCsv}}) {
    const QString problem = checkOutputPath(name, path);
    if (!problem.isEmpty()) return usageError(problem);
  }
  bool ok = false;
  if (o.command == QLatin1String("passkey")) {
    if (!positional.isEmpty()) return usageError(QStringLiteral("passkey takes no files (got \"%1\")").arg(positional.front()));
    const QStringList entropyOnly = {QStringLiteral("buckets"), QStringLiteral("from"), QStringLiteral("to"),
                                     QStringLiteral("normalised"), QStringLiteral("heads"), QStringLiteral("linear"),
                                     QStringLiteral("surprisal-csv")};
    for (const QString& name : entropyOnly) {
      if (parser.isSet(name)) return usageError(QStringLiteral("--%1 is for `entropy`").arg(name));
    }
    QString error;
    o.passkey.lengths = parseLengths(parser.value(lengths), &error);
    if (o.passkey.lengths.isEmpty()) return usageError(QStringLiteral("--lengths: %1").arg(error));
    o.passkey.depths = parseDepths(parser.value(depths), &error);
    if (o.passkey.depths.isEmpty()) return usageError(QStringLiteral("--depths: %1").arg(error));
    o.passkey.trials = parser.value(trials).toInt(&ok);
    if (!ok) return usageError(QStringLiteral("--trials must be a whole number"));
    o.passkey.seed = parser.value(seed).toULongLong(&ok);
    if (!ok) return usageError(QStringLiteral("--seed must be a whole number >= 0"));
    o.passkey.answerTokens = parser.value(answerTokens).toInt(&ok);
    if (!ok) return usageError(QStringLiteral("--answer-tokens must be a whole number"));
    const QString invalid = validatePasskeySettings(o.passkey);
    if (!invalid.isEmpty()) return usageError(invalid);
  } else {
    if (positional.size() != 1) return usageError(QStringLiteral("entropy takes one FILE"));
    for (const QString& name : {QStringLiteral("lengths"), QStringLiteral("depths"), QStringLiteral("trials"),
                                QStringLiteral("seed"), QStringLiteral("answer-tokens")}) {
      if (parser.isSet(name)) return usageError(QStringLiteral("--%1 is for `passkey`").arg(name));
    }
    o.file = positional.front();
    if (!QFileInfo::exists(o.file)) return usageError(QStringLiteral("%1: no such file").arg(o.file));
    o.entropy.maxBuckets = parser.value(buckets).toInt(&ok);
    if (!ok || o.entropy.maxBuckets < 1 || o.entropy.maxBuckets > 1 << 20) {
      return usageError(QStringLiteral("--buckets must be a whole number between 1 and 1048576"));
    }
    o.grid.from = parser.value(from).toLongLong(&ok);
    if (!ok || o.grid.from < 0) return usageError(QStringLiteral("--from must be a position >= 0"));
    o.grid.to = parser.value(to).toLongLong(&ok);
    if (!ok || o.grid.to < 0 || (o.grid.to > 0 && o.grid.to <= o.grid.from)) {
      return usageError(QStringLiteral("--to must be a position after --from (0 = the end)"));
    }
    o.grid.normalised = parser.isSet(normalised);
    o.positions.normalised = o.grid.normalised;
    o.positions.logX = !parser.isSet(linear);
    o.headsText = parser.value(heads);
  }
  InsightRun run(o);
  return run.exec();
}

}  // namespace sambalens
