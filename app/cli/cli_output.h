// What the headless commands share: stdout for the answer, one status line
// on stderr for progress, Ctrl-C as a flag polled by the event loop, the
// --model folder check and how a model load is reported.
#pragma once

#include <QElapsedTimer>
#include <QString>
#include <QTimer>
#include <functional>

namespace sambalens {

class EngineController;

// Writes `text` to stdout as UTF-8 and flushes (answers stream as they come).
void writeStdout(const QString& text);

// One line on stderr; progress lines replace each other on a terminal, and a
// log file gets a progress line every 2 s at most.
class StatusLine {
 public:
  StatusLine();
  void progress(const QString& text);
  void line(const QString& text);
  void endProgress();

 private:
  bool tty_;
  bool open_ = false;
  QElapsedTimer sinceLast_;
};

// Installs a SIGINT handler that only sets a flag (a second Ctrl-C ends the
// process at once); the commands poll interruptRequested().
void installInterruptFlag();
bool interruptRequested();

// Installs the flag and polls it every 100 ms on `timer` (which the caller
// keeps for as long as the command runs); calls `onInterrupt` once, from the
// event loop, after the first Ctrl-C.
void watchForInterrupt(QTimer& timer, std::function<void()> onInterrupt);

// The model folder to use: `option` if given and a folder, else the default
// model. Empty with `error` set when there is none.
QString resolveModelFolder(const QString& option, QString* error);

// Reports `engine`'s model load on `status` ("model: ..." or "error: cannot
// load the model: ..."), then calls `onLoaded` or `onFailed`, in `context`'s thread.
void reportModelLoad(QObject* context, EngineController& engine, StatusLine& status, std::function<void()> onLoaded,
                     std::function<void()> onFailed);

}  // namespace sambalens
