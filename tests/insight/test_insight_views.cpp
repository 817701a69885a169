// The chart widgets grabbed to images: the heatmap's known cells have the
// right colours (accuracy 1 green-ish, 0 red-ish), the shortest length is
// at the left and depth 0% at the top, the window line is drawn; the
// entropy grid's colours follow the known values and Mamba rows are grey;
// tooltips say what the brief asks; the surprisal view maps clicks back to
// tokens; PNG rendering needs no window.
#include <QApplication>
#include <QLabel>
#include <QTest>
#include <cmath>

#include "colour_scale.h"
#include "entropy_grid_widget.h"
#include "entropy_math.h"
#include "entropy_position_painter.h"
#include "entropy_position_widget.h"
#include "insight_export.h"
#include "insight_images.h"
#include "insight_test_support.h"
#include "passkey_comparison_dialog.h"
#include "passkey_heatmap_painter.h"
#include "passkey_heatmap_widget.h"
#include "surprisal_text_view.h"

using namespace sambalens;
using namespace sambalens::ui;
using namespace sambalens_insight_test;

namespace {

bool greenish(const QColor& c) { return c.green() > c.red() + 40 && c.green() > c.blue() + 20; }
bool reddish(const QColor& c) { return c.red() > c.green() + 80 && c.red() > c.blue() + 80; }
int distance(const QColor& a, const QColor& b) {
  return std::abs(a.red() - b.red()) + std::abs(a.green() - b.green()) + std::abs(a.blue() - b.blue());
}

}  // namespace

class InsightViewsTest : public QObject {
  Q_OBJECT

 private slots:
  void heatmapCellColoursAndAxisOrder() {
    // Accuracy 1 only at (shortest length, depth 0%), 0 only at (longest, 100%).
    const PasskeySweepRecord sweep = makeSweep([](int li, int di) {
      if (li == 0 && di == 0) return 4;
      if (li == 2 && di == 2) return 0;
      return 2;
    });
    PasskeyHeatmapWidget widget;
    widget.resize(900, 560);
    widget.setSweep(sweep);
    const QImage image = widget.grab().toImage();
    QCOMPARE(image.size(), QSize(900, 560));

    const QRectF perfect = widget.cellRect(1024, 0.0);
    const QRectF failed = widget.cellRect(4096, 1.0);
    const QRectF half = widget.cellRect(2048, 0.5);
    QVERIFY(perfect.isValid() && failed.isValid() && half.isValid());
    // Axis order: shortest length at the left, depth 0% at the top.
    QVERIFY(perfect.left() < half.left() && half.left() < failed.left());
    QVERIFY(perfect.top() < half.top() && half.top() < failed.top());
    QVERIFY(widget.cellRect(1024, 1.0).top() > widget.cellRect(1024, 0.0).top());
    // Colours of the known cells, read back from the pixels.
    const QColor a = cornerColour(image, perfect);
    const QColor b = cornerColour(image, failed);
    const QColor c = cornerColour(image, half);
    QVERIFY2(greenish(a), qPrintable(a.name()));
    QVERIFY2(reddish(b), qPrintable(b.name()));
    QVERIFY2(!greenish(c) && !reddish(c), qPrintable(c.name()));  // 50%: yellow
    QVERIFY2(distance(a, accuracyColour(1.0)) < 12, qPrintable(a.name()));
    QVERIFY2(distance(b, accuracyColour(0.0)) < 12, qPrintable(b.name()));
    // The cell under the top-left corner is the one the painter says.
    const auto hit = widget.cellAt(perfect.center().toPoint());
    QVERIFY(hit);
    QCOMPARE(hit->length, 1024);
    QCOMPARE(hit->depth, 0.0);
    QCOMPARE(hit->correct, 4);
  }

  void heatmapMarksTheWindowAndTheTrainingLength() {
    const PasskeySweepRecord sweep = makeSweep([](int, int) { return 4; });
    PasskeyHeatmapWidget widget;
    widget.resize(900, 560);
    widget.setSweep(sweep);
    const QImage image = widget.grab().toImage();
    const PasskeyHeatmapPainter chart(sweep, widget.size(), widget.font());
    // The window (2048) is the middle column's centre: a dashed blue line
    // crosses the green cells there, and nowhere else.
    const int x = int(std::round(chart.xOfLength(2048)));
    const QRectF column = chart.cellRect(1, 0);
    int blue = 0;
    for (int y = int(chart.plotRect().top()) + 2; y < int(chart.plotRect().bottom()) - 2; ++y) {
      const QColor p = image.pixelColor(x, y);
      if (p.blue() > p.green() + 40 && p.blue() > p.red() + 40) ++blue;
    }
    QVERIFY2(blue > 20, qPrintable(QString::number(blue)));
    const int xOff = int(column.left()) + 4;
    int blueOff = 0;
    for (int y = int(chart.plotRect().top()) + 2; y < int(chart.plotRect().bottom()) - 2; ++y) {
      const QColor p = image.pixelColor(xOff, y);
      if (p.blue() > p.green() + 40 && p.blue() > p.red() + 40) ++blueOff;
    }
    QCOMPARE(blueOff, 0);
    // The training length (4096) is the last column's centre.
    QVERIFY(std::abs(chart.xOfLength(4096) - chart.cellRect(2, 0).center().x()) < 1.0);
  }

  void heatmapTooltipListsTrialsAndWrongAnswers() {
    const PasskeySweepRecord sweep = makeSweep([](int, int) { return 3; });
    PasskeyHeatmapWidget widget;
    widget.resize(900, 560);
    widget.setSweep(sweep);
    const QString tip = widget.toolTipAt(widget.cellRect(2048, 0.5).center().toPoint());
    QVERIFY2(tip.contains("length 2048") && tip.contains("depth 50%"), qPrintable(tip));
    QVERIFY2(tip.contains("3 of 4 trials"), qPrintable(tip));
    QVERIFY2(tip.contains("42423 is"), qPrintable(tip));  // the failed trial's answer
    QVERIFY(widget.toolTipAt(QPoint(2, 2)).isEmpty());
  }

  void heatmapShowsMissingCellsOfAStoppedSweep() {
    PasskeySweepRecord sweep = makeSweep([](int, int) { return 4; });
    sweep.trials.erase(std::remove_if(sweep.trials.begin(), sweep.trials.end(),
                                      [](const PasskeyTrialRecord& t) { return t.length == 4096 && t.depth > 0.4; }),
                       sweep.trials.end());
    sweep.complete = false;
    PasskeyHeatmapWidget widget;
    widget.resize(900, 560);
    widget.setSweep(sweep);
    const QImage image = widget.grab().toImage();
    QVERIFY(!greenish(cornerColour(image, widget.cellRect(4096, 1.0))));
    QVERIFY(greenish(cornerColour(image, widget.cellRect(4096, 0.0))));
    QVERIFY(!widget.cellAt(widget.cellRect(4096, 1.0).center().toPoint()));
  }

  void comparisonShowsTwoSweeps() {
    PasskeySweepRecord a = makeSweep([](int, int) { return 4; });
    PasskeySweepRecord b = makeSweep([](int, int) { return 0; });
    b.model.name = QStringLiteral("other-model");
    PasskeyComparisonDialog dialog(a, b);
    dialog.resize(1400, 600);
    dialog.show();
    QVERIFY(QTest::qWaitForWindowExposed(&dialog));
    const QImage left = dialog.left()->grab().toImage();
    const QImage right = dialog.right()->grab().toImage();
    QVERIFY(greenish(cornerColour(left, dialog.left()->cellRect(1024, 0.0))));
    QVERIFY(reddish(cornerColour(right, dialog.right()->cellRect(1024, 0.0))));
    const QImage png = renderPasskeyComparison(a, b);
    QVERIFY(png.width() >= 2 * PasskeyHeatmapPainter::preferredSize(a, defaultChartFont()).width() - 2);
    const QByteArray csv = passkeyComparisonCsv(a, b);
    QCOMPARE(csv.count('\n'), 1 + 9 + 9);
    QVERIFY(csv.contains("test-model,1024,0,4,4,1,"));
    QVERIFY(csv.contains("other-model,4096,1,4,0,0,"));
  }

  void entropyGridColoursFollowKnownValues() {
    // (swa 0, head 0) = 0 everywhere; (swa 0, head 1) = the maximum ln(min(i+1, 8));
    // (swa 1, *) = half of ln 8.
    const EntropyRunRecord run = makeEntropyRun([](int swa, int head, int i) {
      if (swa == 0) return head == 0 ? 0.0 : std::log(double(std::min(i + 1, 8)));
      return 0.5 * std::log(8.0);
    });
    EntropyGridWidget widget;
    widget.resize(700, 520);
    widget.setRun(&run);
    EntropyGridOptions options;
    options.from = 8;  // positions that see the whole window
    options.to = 40;
    widget.setOptions(options);
    const QImage image = widget.grab().toImage();
    const double top = scaleMaximum(run, false);
    QCOMPARE(top, std::log(8.0));
    QVERIFY(distance(cornerColour(image, widget.cellRect(1, 0)), entropyColour(0.0)) < 8);
    QVERIFY(distance(cornerColour(image, widget.cellRect(1, 1)), entropyColour(1.0)) < 8);
    QVERIFY(distance(cornerColour(image, widget.cellRect(3, 0)), entropyColour(0.5)) < 8);
    // Mamba rows (0, 2) are grey, and no cell.
    QVERIFY(distance(cornerColour(image, widget.cellRect(0, 0)), notApplicableColour()) < 8);
    QVERIFY(distance(cornerColour(image, widget.cellRect(2, 1)), notApplicableColour()) < 8);
    QVERIFY(!widget.cellAt(widget.cellRect(2, 0).center().toPoint()));
    // Rows top to bottom in layer order, heads left to right.
    QVERIFY(widget.cellRect(0, 0).top() < widget.cellRect(1, 0).top());
    QVERIFY(widget.cellRect(1, 0).left() < widget.cellRect(1, 1).left());

    // Hover: value, layer, head and range.
    const QString tip = widget.toolTipAt(widget.cellRect(3, 1).center().toPoint());
    QVERIFY2(tip.contains("layer 3") && tip.contains("head 1"), qPrintable(tip));
    QVERIFY2(tip.contains(QString::number(0.5 * std::log(8.0), 'f', 3)), qPrintable(tip));
    QVERIFY2(tip.contains("positions 8–39"), qPrintable(tip));
  }

  void entropyGridNormalisedDividesByTheMaximum() {
    // H = ln(min(i+1, W)) everywhere: normalised, every position is 1.
    const EntropyRunRecord run =
        makeEntropyRun([](int, int, int i) { return std::log(double(std::min(i + 1, 8))); });
    EntropyGridWidget widget;
    widget.resize(700, 520);
    widget.setRun(&run);
    EntropyGridOptions options;
    options.normalised = true;  // over all positions, 0 included (skipped: no value there)
    widget.setOptions(options);
    const QImage image = widget.grab().toImage();
    for (int layer : {1, 3}) {
      for (int head : {0, 1}) {
        const auto cell = widget.cellAt(widget.cellRect(layer, head).center().toPoint());
        QVERIFY(cell);
        QVERIFY2(std::abs(cell->value - 1.0) < 1e-6, qPrintable(QString::number(cell->value)));
        QVERIFY(distance(cornerColour(image, widget.cellRect(layer, head)), entropyColour(1.0)) < 8);
      }
    }
    QVERIFY(std::isnan(bucketValue(run, 0, 0, 0, true)));  // position 0: H = max = 0
    QCOMPARE(sumMaxEntropy(0, 20, 8), std::lgamma(9.0) + 12 * std::log(8.0));
  }

  void positionChartFindsTheNearestPoint() {
    const EntropyRunRecord run = makeEntropyRun([](int swa, int head, int i) { return swa + head + 0.01 * i; });
    EntropyPositionWidget widget;
    widget.resize(900, 420);
    widget.setRun(&run);
    EntropyPositionOptions options;
    options.heads = {EntropyHead{1, 1}};
    options.logX = false;
    widget.setOptions(options);
    const EntropyPositionPainter chart(run, options, widget.size(), widget.font());
    const QPoint p(int(chart.xOf(20)), int(chart.yOf(2.2)));
    const QString tip = widget.toolTipAt(p);
    QVERIFY2(tip.contains("L3 h1") && tip.contains("position 20"), qPrintable(tip));
    QVERIFY2(tip.contains("2.200"), qPrintable(tip));
    // The maximum curve is at ln 8 for late positions.
    const QImage image = widget.grab().toImage();
    const int x = int(chart.xOf(30));
    const int y = int(std::round(chart.yOf(std::log(8.0))));
    bool dark = false;
    for (int dy = -2; dy <= 2; ++dy) {
      for (int dx = -6; dx <= 6; ++dx) dark = dark || image.pixelColor(x + dx, y + dy).lightness() < 100;
    }
    QVERIFY(dark);
    QCOMPARE(EntropyPositionPainter::extremeHeads(run, 2).front(), (EntropyHead{0, 0}));
  }

  void surprisalViewColoursTokensAndReportsClicks() {
    const EntropyRunRecord run = makeEntropyRun([](int, int, int) { return 1.0; });
    SurprisalPane pane;
    pane.resize(700, 400);
    pane.setRun(&run);
    pane.show();
    QVERIFY(QTest::qWaitForWindowExposed(&pane));
    SurprisalTextView* view = pane.textView();
    QCOMPARE(view->scaleTop(), 9.0);  // 99th percentile of 0..9
    QCOMPARE(view->tokenColour(10).alpha(), 0);  // surprisal 0: no colour
    const QColor hot = view->tokenColour(9);
    QVERIFY(hot.red() > 180 && hot.green() < 80);
    // Where token 9 is drawn, the background is red-ish.
    QTextCursor cursor(view->document());
    cursor.setPosition(run.tokenStart[9] + 1);
    const QRect caret = view->cursorRect(cursor);
    const QPoint inside(caret.center().x() + 2, caret.center().y());
    QCOMPARE(view->tokenAt(inside), 9);
    const QImage image = view->viewport()->grab().toImage();
    const QColor bg = image.pixelColor(caret.left() + 1, caret.top() + 1);
    QVERIFY2(bg.red() > bg.blue() + 60, qPrintable(bg.name()));
    QTest::mouseClick(view->viewport(), Qt::LeftButton, {}, inside);
    QVERIFY2(pane.detailLabel()->text().contains("token 9") && pane.detailLabel()->text().contains("9.00 nats"),
             qPrintable(pane.detailLabel()->text()));
    QVERIFY(pane.detailLabel()->text().contains(QStringLiteral("characters %1–%2").arg(run.tokenStart[9]).arg(run.tokenStart[10])));
  }

  void entropyOverviewRendersWithoutAWindow() {
    const EntropyRunRecord run = makeEntropyRun([](int swa, int head, int) { return 0.5 + swa + head; });
    EntropyPositionOptions positions;
    positions.heads = EntropyPositionPainter::extremeHeads(run, 3);
    const QImage image = renderEntropyOverview(run, EntropyGridOptions{}, positions);
    QVERIFY(!image.isNull());
    QVERIFY(image.width() >= 900 && image.height() > 500);
  }
};

QTEST_MAIN(InsightViewsTest)
#include "test_insight_views.moc"
