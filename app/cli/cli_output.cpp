#include "cli_output.h"

#include <unistd.h>

#include <QFileInfo>
#include <atomic>
#include <csignal>
#include <cstdio>

#include "app_paths.h"
#include "engine_controller.h"

namespace sambalens {

namespace {
std::atomic<bool> g_interrupted{false};
extern "C" void onInterrupt(int) {
  g_interrupted.store(true);
  std::signal(SIGINT, SIG_DFL);  // a second Ctrl-C ends the process at once
}
}  // namespace

void writeStdout(const QString& text) {
  const QByteArray bytes = text.toUtf8();
  std::fwrite(bytes.constData(), 1, size_t(bytes.size()), stdout);
  std::fflush(stdout);
}

StatusLine::StatusLine() : tty_(isatty(STDERR_FILENO) == 1) { sinceLast_.start(); }

void StatusLine::progress(const QString& text) {
  if (tty_) {
    std::fprintf(stderr, "\r\033[K%s", qPrintable(text));
    std::fflush(stderr);
    open_ = true;
  } else if (sinceLast_.elapsed() >= 2000) {
    sinceLast_.restart();
    std::fprintf(stderr, "%s\n", qPrintable(text));
  }
}

void StatusLine::line(const QString& text) {
  endProgress();
  std::fprintf(stderr, "%s\n", qPrintable(text));
}

void StatusLine::endProgress() {
  if (open_) std::fprintf(stderr, "\n");
  open_ = false;
}

void installInterruptFlag() { std::signal(SIGINT, onInterrupt); }
bool interruptRequested() { return g_interrupted.load(); }

void watchForInterrupt(QTimer& timer, std::function<void()> onInterrupt) {
  installInterruptFlag();
  QObject::connect(&timer, &QTimer::timeout, &timer, [&timer, onInterrupt = std::move(onInterrupt)] {
    if (!interruptRequested()) return;
    timer.stop();  // once
    onInterrupt();
  });
  timer.start(100);
}

QString resolveModelFolder(const QString& option, QString* error) {
  if (option.isEmpty()) {
    const QString folder = findDefaultModel();
    if (folder.isEmpty()) *error = missingDefaultModelMessage();
    return folder;
  }
  if (!QFileInfo(option).isDir()) {
    *error = QStringLiteral("--model %1: no such folder").arg(option);
    return QString();
  }
  return option;
}

void reportModelLoad(QObject* context, EngineController& engine, StatusLine& status, std::function<void()> onLoaded,
                     std::function<void()> onFailed) {
  QObject::connect(&engine, &EngineController::modelLoaded, context,
                   [&status, onLoaded = std::move(onLoaded)](const ModelInfo& model) {
                     status.line(QStringLiteral("model: %1").arg(model.summary()));
                     onLoaded();
                   });
  QObject::connect(&engine, &EngineController::modelLoadFailed, context,
                   [&status, onFailed = std::move(onFailed)](const QString&, const QString& message) {
                     status.line(QStringLiteral("error: cannot load the model: %1").arg(message));
                     onFailed();
                   });
}

}  // namespace sambalens
