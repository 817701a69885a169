// The pieces the insight views share (ui/insight): the chart widgets' frame
// (InsightChartWidget: empty state, chart painting, per-point tooltips,
// left clicks), the tooltip answer of answerToolTipEvent, and the export
// prompt (exportToChosenFile: the writer gets the chosen path, a failure is
// shown, a cancel writes nothing). A small chart with known behaviour
// stands in for the real ones, whose pixels test_insight_views checks.
#include <QApplication>
#include <QFileDialog>
#include <QHelpEvent>
#include <QMessageBox>
#include <QPainter>
#include <QTemporaryDir>
#include <QTest>
#include <QTimer>
#include <QToolTip>

#include "export_file_prompt.h"
#include "insight_chart_widget.h"
#include "tooltip_event.h"

using namespace sambalens::ui;

namespace {

// Green everywhere once it has data; a tooltip only on the left half.
class KnownChart : public InsightChartWidget {
 public:
  bool data = false;
  QList<QPoint> clicks;

  QString toolTipAt(const QPoint& point) const override {
    return point.x() < width() / 2 ? QStringLiteral("left half at %1,%2").arg(point.x()).arg(point.y()) : QString();
  }

 protected:
  bool hasChart() const override { return data; }
  void paintChart(QPainter& painter) override { painter.fillRect(rect(), QColor(0, 160, 0)); }
  void chartClicked(const QPoint& point) override { clicks.append(point); }
};

bool sendToolTipRequest(QWidget* widget, const QPoint& point) {
  QHelpEvent event(QEvent::ToolTip, point, widget->mapToGlobal(point));
  return QApplication::sendEvent(widget, &event);
}

// Runs `act` on the next modal dialog of type T once it is open.
template <typename T>
void whenModalOpens(const std::function<void(T*)>& act) {
  auto* timer = new QTimer;
  timer->setInterval(20);
  QObject::connect(timer, &QTimer::timeout, [timer, act] {
    if (auto* dialog = qobject_cast<T*>(QApplication::activeModalWidget())) {
      timer->stop();
      timer->deleteLater();
      act(dialog);
    }
  });
  timer->start();
}

}  // namespace

class InsightChartFrameTest : public QObject {
  Q_OBJECT

 private slots:
  void initTestCase() {
    // Qt's own file dialog (no platform one), so the test can fill it in.
    QApplication::setAttribute(Qt::AA_DontUseNativeDialogs);
  }

  void frameGrowsTracksTheMouseAndIsOpaque() {
    KnownChart chart;
    QCOMPARE(chart.sizePolicy().horizontalPolicy(), QSizePolicy::Expanding);
    QCOMPARE(chart.sizePolicy().verticalPolicy(), QSizePolicy::Expanding);
    QVERIFY(chart.hasMouseTracking());
    QVERIFY(chart.testAttribute(Qt::WA_OpaquePaintEvent));
  }

  void paintsTheEmptyStateUntilThereIsData() {
    KnownChart chart;
    chart.resize(200, 120);
    const QColor base = chart.palette().color(QPalette::Base);
    const QImage empty = chart.grab().toImage();
    QCOMPARE(empty.pixelColor(5, 5), base);
    QCOMPARE(empty.pixelColor(195, 115), base);
    chart.data = true;
    const QImage drawn = chart.grab().toImage();
    QCOMPARE(drawn.pixelColor(5, 5), QColor(0, 160, 0));
    QCOMPARE(drawn.pixelColor(195, 115), QColor(0, 160, 0));
  }

  void tooltipFollowsThePointAndIsConsumedWhereThereIsNone() {
    KnownChart chart;
    chart.resize(200, 120);
    chart.data = true;
    chart.show();
    QVERIFY(QTest::qWaitForWindowExposed(&chart));
    QVERIFY(sendToolTipRequest(&chart, QPoint(30, 40)));
    QCOMPARE(QToolTip::text(), QStringLiteral("left half at 30,40"));
    QVERIFY(sendToolTipRequest(&chart, QPoint(60, 10)));
    QCOMPARE(QToolTip::text(), QStringLiteral("left half at 60,10"));
    // The right half has no tooltip: the request is still used up (no
    // widget-wide toolTip() shows instead).
    chart.setToolTip(QStringLiteral("must never show"));
    QVERIFY(sendToolTipRequest(&chart, QPoint(150, 40)));
    QVERIFY(QToolTip::text() != QStringLiteral("must never show"));
  }

  void answerToolTipEventLeavesOtherEventsToTheCaller() {
    QWidget owner;
    int asked = 0;
    const auto textAt = [&](const QPoint&) {
      ++asked;
      return QStringLiteral("x");
    };
    QEvent other(QEvent::Enter);
    QVERIFY(!answerToolTipEvent(&other, &owner, textAt));
    QCOMPARE(asked, 0);
    QHelpEvent help(QEvent::ToolTip, QPoint(1, 2), QPoint(1, 2));
    QVERIFY(answerToolTipEvent(&help, &owner, textAt));
    QCOMPARE(asked, 1);
  }

  void onlyALeftClickReachesTheChart() {
    KnownChart chart;
    chart.resize(200, 120);
    chart.data = true;
    QTest::mouseClick(&chart, Qt::LeftButton, {}, QPoint(12, 34));
    QTest::mouseClick(&chart, Qt::RightButton, {}, QPoint(50, 60));
    QTest::mouseClick(&chart, Qt::MiddleButton, {}, QPoint(70, 80));
    QCOMPARE(chart.clicks, QList<QPoint>{QPoint(12, 34)});
  }

  void exportWritesToTheChosenPath() {
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const QString chosen = dir.filePath(QStringLiteral("chart.png"));
    QWidget parent;
    QString caption, writtenTo;
    whenModalOpens<QFileDialog>([&](QFileDialog* dialog) {
      caption = dialog->windowTitle();
      dialog->selectFile(chosen);
      static_cast<QDialog*>(dialog)->accept();  // public in QDialog, protected in QFileDialog
    });
    exportToChosenFile(&parent, QStringLiteral("Export Test Chart"), QStringLiteral("chart.png"), pngFileFilter(),
                       [&](const QString& path, QString*) {
                         writtenTo = path;
                         return true;
                       });
    QCOMPARE(caption, QStringLiteral("Export Test Chart"));
    QCOMPARE(writtenTo, chosen);
  }

  void exportShowsTheWritersError() {
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    QWidget parent;
    QString shown;
    whenModalOpens<QFileDialog>([&](QFileDialog* dialog) {
      dialog->selectFile(dir.filePath(QStringLiteral("table.csv")));
      static_cast<QDialog*>(dialog)->accept();  // public in QDialog, protected in QFileDialog
      whenModalOpens<QMessageBox>([&](QMessageBox* box) {
        shown = box->text();
        box->accept();
      });
    });
    exportToChosenFile(&parent, QStringLiteral("Export Test Table"), QStringLiteral("table.csv"), csvFileFilter(),
                       [](const QString& path, QString* error) {
                         *error = QStringLiteral("cannot write %1: disk full").arg(path);
                         return false;
                       });
    QCOMPARE(shown, QStringLiteral("cannot write %1: disk full").arg(dir.filePath(QStringLiteral("table.csv"))));
  }

  void cancellingTheExportWritesNothing() {
    QWidget parent;
    bool wrote = false;
    whenModalOpens<QFileDialog>([](QFileDialog* dialog) { dialog->reject(); });
    exportToChosenFile(&parent, QStringLiteral("Export Test Chart"), QStringLiteral("chart.png"), pngFileFilter(),
                       [&](const QString&, QString*) {
                         wrote = true;
                         return true;
                       });
    QVERIFY(!wrote);
  }
};

QTEST_MAIN(InsightChartFrameTest)
#include "test_insight_chart_frame.moc"
