// The PDF view draws its pages through the render worker process: a page
// that crashes the worker shows why in its place, the pages around it are
// drawn, and the GUI thread keeps turning all along. The test worker of
// tests/app (SAMBALENS_PDF_RENDER_CRASH_PAGE, see app/document/pdf_render_worker.h)
// is put in place of the installed one with SAMBALENS_PDF_RENDER_WORKER.
#include <QApplication>
#include <QElapsedTimer>
#include <QSignalSpy>
#include <QtTest>

#include "document/pdf_view.h"
#include "test_support.h"
#include "ui_test_support.h"

using namespace sambalens::ui;
using namespace sambalens_test;

class PdfViewWorkerTest : public QObject {
  Q_OBJECT
  QString pdf_;

 private slots:
  void initTestCase() {
    pdf_ = freshDir(QStringLiteral("pdf-view-worker")) + QStringLiteral("/three.pdf");
    makeTextPdf(pdf_, {QStringLiteral("First page."), QStringLiteral("Second page, the one that crashes."),
                       QStringLiteral("Third page.")});
  }

  void crashingPageShowsWhyAndTheOthersAreDrawn() {
    qputenv("SAMBALENS_PDF_RENDER_WORKER", SAMBALENS_TEST_PDF_RENDER_TEST_WORKER);
    qputenv("SAMBALENS_PDF_RENDER_CRASH_PAGE", "2");
    // The longest gap between ticks of a 10 ms timer: the GUI thread never
    // waits for the worker, not even while it is restarted.
    QElapsedTimer clock;
    clock.start();
    qint64 last = 0, longest = 0;
    QTimer ticker;
    connect(&ticker, &QTimer::timeout, [&] {
      longest = qMax(longest, clock.elapsed() - last);
      last = clock.elapsed();
    });
    ticker.start(10);

    PdfView view;
    view.resize(700, 1400);  // page 1 and most of page 2 in view
    view.show();
    QSignalSpy opened(&view, &PdfView::opened);
    view.open(pdf_);
    QVERIFY(opened.wait(30000));
    QCOMPARE(view.pageCount(), 3);
    QVERIFY(view.isPageVisible(2));
    QTRY_VERIFY_WITH_TIMEOUT(view.visiblePagesRendered(), 30000);
    QVERIFY(view.isPageRendered(1));
    QVERIFY(!view.isPageRendered(2));
    const QString message = view.pageMessage(2);
    QVERIFY2(message.contains(QStringLiteral("could not be drawn")) && message.contains(QStringLiteral("crashed")) &&
                 message.contains(QStringLiteral("page 2")),
             qPrintable(message));
    QVERIFY(view.pageMessage(1).isEmpty());
    QVERIFY(!view.viewport()->grab().isNull());  // the message is painted in the page's place
    view.showPage(2, false);
    grabIfAsked(&view, QStringLiteral("pdf-page-crashed"));
    // The page after it is drawn by a new worker.
    view.showPage(3, false);
    QTRY_VERIFY_WITH_TIMEOUT(view.isPageRendered(3), 30000);
    QVERIFY2(longest < 1000, qPrintable(QStringLiteral("the GUI thread stalled for %1 ms").arg(longest)));
    qunsetenv("SAMBALENS_PDF_RENDER_CRASH_PAGE");
    qunsetenv("SAMBALENS_PDF_RENDER_WORKER");
  }

  void pagesAreDrawnByTheInstalledWorker() {
    PdfView view;
    view.resize(700, 900);
    view.show();
    QSignalSpy rendered(&view, &PdfView::pageRendered);
    view.open(pdf_);
    QTRY_VERIFY_WITH_TIMEOUT(view.isPageRendered(1), 30000);
    QVERIFY(view.pageMessage(1).isEmpty());
  }
};

QTEST_MAIN(PdfViewWorkerTest)
#include "test_pdf_view_worker.moc"
