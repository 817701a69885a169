// The Insight dialogs end to end on a tiny model: a sweep run from the
// dialog shows its heatmap, is saved, appears in Saved Runs, reopens and
// compares side by side; an entropy run on the documents shows its grid,
// curves and surprisal, is saved and reopens; the Insight menu has its
// actions.
#include <QAction>
#include <QLineEdit>
#include <QMainWindow>
#include <QMenuBar>
#include <QSignalSpy>
#include <QSpinBox>
#include <QTabWidget>
#include <QTest>
#include <QTreeWidget>

#include "engine_controller.h"
#include "entropy_grid_widget.h"
#include "entropy_run_view.h"
#include "entropy_run_window.h"
#include "insight_controller.h"
#include "insight_hub.h"
#include "insight_runs_dialog.h"
#include "insight_store.h"
#include "passkey_comparison_dialog.h"
#include "passkey_heatmap_widget.h"
#include "passkey_sweep_dialog.h"
#include "surprisal_text_view.h"
#include "test_support.h"
#include "tiny_model.h"

using namespace sambalens;
using namespace sambalens::ui;

class InsightDialogsTest : public QObject {
  Q_OBJECT

 private slots:
  void initTestCase() {
    model_ = sambalens_test::makeTinyModel();
    QSignalSpy loaded(&engine_, &EngineController::modelLoaded);
    engine_.loadModel(model_, QStringLiteral("cpu"));
    QVERIFY(loaded.wait(60000));
    dbPath_ = sambalens_test::freshDir("insight-dialogs") + "/sessions.sqlite";
    hub_ = new InsightHub(
        &engine_, dbPath_,
        [] {
          QString text;
          for (int i = 0; i < 30; ++i) text += QStringLiteral("Paragraph %1 says the value is %2.\n").arg(i).arg(i * 7);
          return InsightDocumentText{text, QStringLiteral("notes.txt")};
        },
        &window_);
  }

  void menuHasTheInsightActions() {
    QMenu* menu = installInsightMenu(&window_, hub_);
    QCOMPARE(menu->title(), QStringLiteral("&Insight"));
    QStringList names;
    for (QAction* a : menu->actions()) {
      if (!a->isSeparator()) names << a->objectName();
    }
    QCOMPARE(names, (QStringList{"insightPasskey", "insightEntropyDocuments", "insightEntropyFile", "insightRuns"}));
    QVERIFY(window_.menuBar()->actions().contains(menu->menuAction()));
  }

  void sweepFromTheDialogIsShownAndSaved() {
    PasskeySweepDialog* dialog = hub_->openPasskeySweep();
    QVERIFY(dialog);
    QCOMPARE(hub_->openPasskeySweep(), dialog);  // one sweep dialog
    dialog->findChild<QLineEdit*>("lengths")->setText("256, 512");
    dialog->findChild<QLineEdit*>("depths")->setText("0%, 100%");
    dialog->findChild<QSpinBox*>("trials")->setValue(2);
    QSignalSpy shown(dialog, &PasskeySweepDialog::sweepShown);
    QVERIFY(dialog->run());
    QVERIFY(dialog->isRunning());
    QVERIFY(!dialog->run());  // a second press while running does nothing
    QVERIFY(shown.wait(120000));
    QVERIFY(!dialog->isRunning());
    QVERIFY(dialog->heatmap()->hasSweep());
    const PasskeySweepRecord& sweep = dialog->heatmap()->sweep();
    QVERIFY(sweep.id > 0);
    QCOMPARE(sweep.cells().size(), 4);
    QCOMPARE(sweep.model.window, 16);
    const QImage image = dialog->heatmap()->grab().toImage();
    QVERIFY(!image.isNull());
    // An invalid field is reported and nothing runs.
    dialog->findChild<QLineEdit*>("depths")->setText("0%, 200%");
    QVERIFY(!dialog->run());
    QVERIFY(dialog->findChild<QLabel*>("sweepStatus")->text().contains("200%"));
    dialog->findChild<QLineEdit*>("depths")->setText("0%, 50%");
    QVERIFY(dialog->run());
    QVERIFY(shown.wait(120000));
    QCOMPARE(hub_->store()->runs().size(), 2);
  }

  void savedRunsReopenAndCompare() {
    InsightRunsDialog* runs = hub_->openSavedRuns();
    QCOMPARE(runs->list()->topLevelItemCount(), 2);
    // Two sweeps selected: compare them side by side.
    runs->list()->clearSelection();
    runs->list()->topLevelItem(0)->setSelected(true);
    runs->list()->topLevelItem(1)->setSelected(true);
    const QList<InsightRunSummary> all = hub_->store()->runs();
    PasskeyComparisonDialog* compare = hub_->compareSweeps(all[1].id, all[0].id);
    QVERIFY(compare);
    QVERIFY(compare->left()->hasSweep() && compare->right()->hasSweep());
    QCOMPARE(compare->left()->sweep().id, all[1].id);
    // Reopen one.
    auto* reopened = qobject_cast<PasskeySweepDialog*>(hub_->openRun(InsightRunSummary::Kind::Passkey, all[0].id));
    QVERIFY(reopened);
    QCOMPARE(reopened->heatmap()->sweep().id, all[0].id);
    QCOMPARE(reopened->heatmap()->sweep().trials.size(), 8);
    QVERIFY(reopened != hub_->openPasskeySweep());  // the sweep dialog stays the one for new sweeps
  }

  void entropyOnTheDocumentsIsShownSavedAndReopened() {
    EntropyRunWindow* window = hub_->runEntropyOnDocuments();
    QVERIFY(window);
    QSignalSpy shown(window, &EntropyRunWindow::runShown);
    QVERIFY(shown.wait(120000));
    const EntropyRunRecord& run = window->view()->run();
    QVERIFY(run.id > 0);
    QCOMPARE(run.document, QStringLiteral("notes.txt"));
    QVERIFY(run.text.contains("Paragraph 29 says"));
    window->view()->tabs()->setCurrentIndex(0);
    QTRY_VERIFY(window->view()->grid()->width() > 100);
    QVERIFY(window->view()->grid()->cellAt(window->view()->grid()->cellRect(1, 0).center().toPoint()).has_value());
    QCOMPARE(window->view()->surprisal()->textView()->toPlainText(), run.text);
    QVERIFY(!window->view()->heads().isEmpty());
    // A grid click toggles a head and shows the position chart.
    const int before = int(window->view()->heads().size());
    emit window->view()->grid()->headClicked(0, 1);
    QVERIFY(window->view()->heads().size() != before);
    QCOMPARE(window->view()->tabs()->currentIndex(), 1);

    const QList<InsightRunSummary> runs = hub_->store()->runs();
    QCOMPARE(runs.front().kind, InsightRunSummary::Kind::Entropy);
    auto* reopened = qobject_cast<EntropyRunWindow*>(hub_->openRun(InsightRunSummary::Kind::Entropy, runs.front().id));
    QVERIFY(reopened);
    QCOMPARE(reopened->view()->run().text, run.text);
    QCOMPARE(reopened->view()->run().surprisal, run.surprisal);
  }

  void cleanupTestCase() {
    for (QWidget* w : QApplication::topLevelWidgets()) w->close();
  }

 private:
  QString model_;
  QString dbPath_;
  EngineController engine_;
  QMainWindow window_;
  InsightHub* hub_ = nullptr;
};

QTEST_MAIN(InsightDialogsTest)
#include "test_insight_dialogs.moc"
