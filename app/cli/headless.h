// The headless commands of `sambalens`: the same import, engine and session
// code as the window, driven from the command line. The answer streams to
// stdout; progress (import, then reading tokens/total, tokens/s, time left)
// and messages go to stderr; every error is one clear line and a non-zero
// exit status.
#pragma once

#include <QStringList>

namespace sambalens {

// Exit statuses of the headless commands.
enum HeadlessExit {
  kExitOk = 0,
  kExitUsage = 1,
  kExitModel = 2,      // no model, or it failed to load
  kExitImport = 3,     // no document could be imported
  kExitEngine = 4,     // the engine failed while generating
  kExitInterrupted = 130,
};

// True for the subcommands runHeadless() serves.
bool isHeadlessCommand(const QString& word);
// Usage text for --help.
QString headlessUsage();
// Runs one command; `arguments` is QCoreApplication::arguments() (program
// name first). Needs a QCoreApplication.
int runHeadless(const QStringList& arguments);

}  // namespace sambalens
