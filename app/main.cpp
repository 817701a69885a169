// `sambalens`: the window when run without a command, the headless commands
// (summarize, ask, explain, review; passkey and entropy from app/insight),
// and the import worker process.
#include <QCoreApplication>
#include <cstdio>
#include <cstring>

#include <QFileInfo>

#include "app_paths.h"
#include "gui_entry.h"
#include "headless.h"
#include "import_worker.h"
#include "insight_headless.h"

int main(int argc, char** argv) {
  const char* first = argc >= 2 ? argv[1] : nullptr;
  if (first && std::strcmp(first, "--import-worker") == 0) {
    QCoreApplication app(argc, argv);
    sambalens::applyApplicationIdentity();
    return sambalens::runImportWorkerOnStdio();
  }
  if (first && (std::strcmp(first, "--help") == 0 || std::strcmp(first, "-h") == 0)) {
    std::fputs(qPrintable(sambalens::headlessUsage()), stdout);
    std::fputs(qPrintable(sambalens::insightUsage()), stdout);
    return 0;
  }
  if (first && std::strcmp(first, "--version") == 0) {
    std::printf("sambalens %s\n", SAMBALENS_VERSION);
    return 0;
  }
  // The insight commands paint charts, so they make their own (offscreen)
  // QGuiApplication; the first command word on the line decides.
  for (int i = 1; i < argc; ++i) {
    const QString word = QString::fromLocal8Bit(argv[i]);
    if (sambalens::isInsightCommand(word)) return sambalens::runInsightHeadless(argc, argv);
    if (sambalens::isHeadlessCommand(word)) break;
  }
  bool hasCommand = false;  // options may come before the command
  for (int i = 1; i < argc; ++i) hasCommand = hasCommand || sambalens::isHeadlessCommand(QString::fromLocal8Bit(argv[i]));
  // A first word that is neither a command nor an existing file or folder is
  // a typo; `sambalens report.pdf` opens the window with that document.
  if (first && first[0] != '-' && !sambalens::isHeadlessCommand(QString::fromLocal8Bit(first)) &&
      !QFileInfo::exists(QString::fromLocal8Bit(first))) {
    std::fprintf(stderr, "sambalens: unknown command \"%s\"\nRun `sambalens --help` for usage.\n", first);
    return sambalens::kExitUsage;
  }
  if (hasCommand) {
    QCoreApplication app(argc, argv);
    sambalens::applyApplicationIdentity();
    return sambalens::runHeadless(app.arguments());
  }
  if (!sambalens::hasDisplay()) {
    std::fprintf(stderr,
                 "sambalens: no display to open the window on (DISPLAY and WAYLAND_DISPLAY are unset).\n"
                 "Use a headless command, e.g. `sambalens summarize FILE...`; see `sambalens --help`.\n");
    return sambalens::kExitUsage;
  }
  return runGui(argc, argv);
}
