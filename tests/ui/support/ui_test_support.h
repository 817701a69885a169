// What the widget tests share: a window on a scratch database, import cache
// and settings, with the tiny test model loaded and imports going through
// the real worker process (the sambalens binary); and a few helpers to drop
// files on it and to find things in it.
#pragma once

#include <QPoint>
#include <QStringList>
#include <QTimer>
#include <QUrl>
#include <functional>
#include <memory>

#include "app_context.h"
#include "main_window.h"
#include "window_options.h"

class QTextBrowser;
class QWidget;

namespace sambalens_test {

// Points QSettings at a scratch folder and gives the application a test
// name, so tests never read or write the user's settings. Call once in
// initTestCase().
void isolateSettings();

struct WindowFixture {
  // `options.modelFolder` empty: the tiny test model. `storePath` empty: a
  // new database in a fresh folder.
  explicit WindowFixture(sambalens::ui::WindowOptions options = defaultOptions(), const QString& storePath = QString());
  ~WindowFixture();

  static sambalens::ui::WindowOptions defaultOptions();

  sambalens::ui::MainWindow* operator->() const { return window.get(); }
  // Waits until the model has loaded (false on timeout or load failure).
  bool waitForModel(int timeoutMs = 60000) const;
  // Waits until no import is queued or running.
  bool waitForImports(int timeoutMs = 120000) const;

  QString folder;  // scratch folder of this window (database, cache)
  QString storePath;
  std::unique_ptr<sambalens::ui::AppContext> context;
  std::unique_ptr<sambalens::ui::MainWindow> window;
};

// Sends a drag-enter and a drop of `paths` (as file URLs) to `target`, like
// a file manager would; returns whether the drag was accepted.
bool dropFiles(QWidget* target, const QStringList& paths);

// The position, in `view`'s viewport, of the first link whose address
// contains `hrefPart`; (-1, -1) when there is none.
QPoint linkPosition(QTextBrowser* view, const QString& hrefPart);

// Saves a picture of `widget` as NAME.png in $SAMBALENS_UI_TEST_GRAB_DIR
// when that is set (to look at what a test saw); otherwise does nothing.
void grabIfAsked(QWidget* widget, const QString& name);

// Shows that the GUI thread's event loop keeps turning while work runs
// elsewhere, with no time bound: counts the ticks of a 10 ms timer while
// `during()` holds, and what `progress()` said at the first of them. A test
// then asks for a few ticks and for progress after the first one (the tick
// came in the middle of the work, not after it).
class LoopTicker {
 public:
  LoopTicker(std::function<bool()> during, std::function<qsizetype()> progress);
  void stop() { timer_.stop(); }
  int ticks() const { return ticks_; }
  qsizetype progressAtFirstTick() const { return progressAtFirstTick_; }
  // "N timer ticks while WHAT; M UNITS, K of them before the first tick".
  QString summary(const QString& what, const QString& units) const;

 private:
  std::function<bool()> during_;
  std::function<qsizetype()> progress_;
  QTimer timer_;
  int ticks_ = 0;
  qsizetype progressAtFirstTick_ = -1;
};

// Whether the letters and digits of `needle` appear, in order, in `haystack`
// (Markdown rendering drops marks but keeps the words).
bool containsWordsInOrder(const QString& haystack, const QString& needle);

}  // namespace sambalens_test
