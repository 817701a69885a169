// Takes the screenshots of docs/screenshots/ from saved runs: the newest
// passkey sweep and the newest entropy run of a sessions database, shown in
// the real dialogs and grabbed to PNG. Run it under a display (Xvfb), e.g.
//   xvfb-run -a -s "-screen 0 1600x1000x24" BUILD/ui/insight/sambalens_insight_screenshots
//       --db DATA/sessions.sqlite --out docs/screenshots
// The runs themselves come from `sambalens passkey` / `sambalens entropy`
// with the bundled model (they are saved in SAMBALENS_DATA_DIR).
#include <QApplication>
#include <QCommandLineParser>
#include <QDir>
#include <QLabel>
#include <QTabWidget>
#include <QTest>
#include <cstdio>

#include "engine_controller.h"
#include "entropy_run_view.h"
#include "entropy_run_window.h"
#include "insight_hub.h"
#include "insight_store.h"
#include "passkey_sweep_dialog.h"
#include "surprisal_text_view.h"

using namespace sambalens;
using namespace sambalens::ui;

namespace {

bool grab(QWidget* widget, const QString& path) {
  widget->show();
  widget->raise();
  if (!QTest::qWaitForWindowExposed(widget)) return false;
  QTest::qWait(300);  // let layouts settle
  const bool ok = widget->grab().save(path, "PNG");
  std::fprintf(stderr, "%s %s\n", ok ? "wrote" : "could not write", qPrintable(path));
  return ok;
}

}  // namespace

int main(int argc, char** argv) {
  QApplication app(argc, argv);
  QCommandLineParser parser;
  const QCommandLineOption db(QStringLiteral("db"), QStringLiteral("sessions database"), QStringLiteral("FILE"));
  const QCommandLineOption out(QStringLiteral("out"), QStringLiteral("folder for the PNGs"), QStringLiteral("DIR"));
  const QCommandLineOption token(QStringLiteral("token"), QStringLiteral("token to show in the surprisal view"),
                                 QStringLiteral("N"), QStringLiteral("-1"));
  parser.addOptions({db, out, token});
  parser.addHelpOption();
  parser.process(app);
  if (!parser.isSet(db) || !parser.isSet(out)) parser.showHelp(1);
  QDir().mkpath(parser.value(out));
  const QDir dir(parser.value(out));

  InsightStore store;
  if (!store.open(parser.value(db))) {
    std::fprintf(stderr, "%s\n", qPrintable(store.lastError()));
    return 1;
  }
  qint64 sweepId = 0, entropyId = 0;
  for (const InsightRunSummary& r : store.runs()) {  // newest first
    if (r.kind == InsightRunSummary::Kind::Passkey && !sweepId) sweepId = r.id;
    if (r.kind == InsightRunSummary::Kind::Entropy && !entropyId) entropyId = r.id;
  }
  EngineController engine;  // no model: the dialogs only show saved runs
  InsightHub hub(&engine, parser.value(db), {}, nullptr);
  bool ok = true;
  if (sweepId) {
    PasskeySweepDialog dialog(&hub);
    dialog.showSweep(*store.passkeySweep(sweepId));
    dialog.resize(980, 760);
    ok = grab(&dialog, dir.filePath(QStringLiteral("passkey-heatmap.png"))) && ok;
  }
  if (entropyId) {
    EntropyRunWindow window(&hub);
    window.showRun(*store.entropyRun(entropyId));
    window.resize(1280, 820);
    EntropyRunView* view = window.view();
    view->tabs()->setCurrentIndex(0);
    ok = grab(&window, dir.filePath(QStringLiteral("entropy-grid.png"))) && ok;
    view->tabs()->setCurrentIndex(1);
    ok = grab(&window, dir.filePath(QStringLiteral("entropy-position.png"))) && ok;
    view->tabs()->setCurrentIndex(2);
    SurprisalTextView* text = view->surprisal()->textView();
    int shown = parser.value(token).toInt();
    if (shown < 0) {
      // The most surprising token past the first screenful.
      const EntropyRunRecord& run = view->run();
      size_t best = std::min<size_t>(200, run.surprisal.size() - 1);
      for (size_t i = best; i < std::min<size_t>(run.surprisal.size(), 1500); ++i) {
        if (run.surprisal[i] > run.surprisal[best]) best = i;
      }
      shown = int(best);
    }
    text->showToken(shown);
    emit text->tokenClicked(shown);
    ok = grab(&window, dir.filePath(QStringLiteral("surprisal.png"))) && ok;
  }
  if (!sweepId && !entropyId) std::fprintf(stderr, "no saved runs in %s\n", qPrintable(parser.value(db)));
  return ok && (sweepId || entropyId) ? 0 : 1;
}
