// runGui(): the window of `sambalens` (see app/gui_entry.h). Options:
//   --model DIR, --backend auto|cpu|cuda   the model to load
//   FILE...                                documents or folders to import
// and, for demos and the screenshot in docs/: --preset=ID [--question=TEXT]
// runs a preset once the model and files are ready; --screenshot=FILE then
// saves a picture of the window and quits. (Write --preset=summarize with
// '=': a bare "summarize" argument selects the headless command.)
#include <QApplication>
#include <QCommandLineParser>
#include <QFileInfo>
#include <QScreen>
#include <cstdio>

#include "app_context.h"
#include "app_paths.h"
#include "gui_entry.h"
#include "main_window.h"
#include "prompt_presets.h"

namespace {

int usageError(const QString& message) {
  std::fprintf(stderr, "sambalens: %s\nRun `sambalens --help` for usage.\n", qPrintable(message));
  return 1;
}

}  // namespace

int runGui(int argc, char** argv) {
  QApplication app(argc, argv);
  sambalens::applyApplicationIdentity();
  QApplication::setApplicationDisplayName(QStringLiteral("SambaLens"));

  QCommandLineParser parser;
  const QCommandLineOption model(QStringLiteral("model"), QStringLiteral("model folder"), QStringLiteral("DIR"));
  const QCommandLineOption backend(QStringLiteral("backend"), QStringLiteral("auto, cpu or cuda"),
                                   QStringLiteral("KIND"), QStringLiteral("auto"));
  const QCommandLineOption preset(QStringLiteral("preset"), QStringLiteral("run this preset at start"),
                                  QStringLiteral("ID"));
  const QCommandLineOption question(QStringLiteral("question"), QStringLiteral("question for --preset=ask"),
                                    QStringLiteral("TEXT"));
  const QCommandLineOption maxTokens(QStringLiteral("max-tokens"), QStringLiteral("longest answer"),
                                     QStringLiteral("N"), QStringLiteral("512"));
  const QCommandLineOption screenshot(QStringLiteral("screenshot"), QStringLiteral("save a picture and quit"),
                                      QStringLiteral("FILE"));
  const QCommandLineOption noRestore(QStringLiteral("no-restore"),
                                     QStringLiteral("do not reopen the last session or restore the layout"));
  for (QCommandLineOption option : {preset, question, screenshot, noRestore}) {
    option.setFlags(QCommandLineOption::HiddenFromHelp);
  }
  parser.addOptions({model, backend, preset, question, maxTokens, screenshot, noRestore});
  if (!parser.parse(app.arguments())) return usageError(parser.errorText());

  sambalens::ui::WindowOptions options;
  options.modelFolder = parser.value(model);
  options.backend = parser.value(backend);
  if (!QStringList{"auto", "cpu", "cuda"}.contains(options.backend)) {
    return usageError(QStringLiteral("--backend must be auto, cpu or cuda, not \"%1\"").arg(options.backend));
  }
  if (!options.modelFolder.isEmpty() && !QFileInfo(options.modelFolder).isDir()) {
    return usageError(QStringLiteral("--model %1: no such folder").arg(options.modelFolder));
  }
  for (const QString& path : parser.positionalArguments()) options.openPaths.append(QFileInfo(path).absoluteFilePath());
  options.runPreset = parser.value(preset);
  if (!options.runPreset.isEmpty() && !sambalens::findPromptPreset(options.runPreset)) {
    return usageError(QStringLiteral("--preset: unknown preset \"%1\"").arg(options.runPreset));
  }
  options.question = parser.value(question);
  bool ok = false;
  options.maxNewTokens = parser.value(maxTokens).toInt(&ok);
  if (!ok || options.maxNewTokens <= 0) return usageError(QStringLiteral("--max-tokens must be a positive whole number"));
  options.screenshotPath = parser.value(screenshot);
  if (parser.isSet(noRestore) || !options.screenshotPath.isEmpty()) {
    options.restoreLastSession = false;
    options.restoreLayout = false;
  }

  sambalens::ui::AppContext context;
  sambalens::ui::MainWindow window(&context, options);
  if (!options.screenshotPath.isEmpty()) {
    // The picture shows the whole screen's worth of window (Xvfb has no
    // window manager to maximise it).
    if (const QScreen* screen = QGuiApplication::primaryScreen()) window.setGeometry(screen->availableGeometry());
  }
  window.show();
  return app.exec();
}
