// Importing through the window: files dropped on it (or on any part of it)
// are imported with per-file progress and become the documents read; a
// folder shows its preview with token counts before anything is read; a
// broken file is reported by name and the others still import.
#include <QDir>
#include <QLineEdit>
#include <QPushButton>
#include <QStandardItemModel>
#include <QSignalSpy>
#include <QTest>
#include <QTreeWidget>

#include "analysis/analysis_pane.h"
#include "common/message_bar.h"
#include "document/code_view.h"
#include "document/document_view.h"
#include "document/pdf_view.h"
#include "library/document_list_model.h"
#include "library/folder_preview_dialog.h"
#include "library/import_progress_view.h"
#include "library/import_queue.h"
#include "library/library_panel.h"
#include "test_support.h"
#include "ui_test_support.h"

using namespace sambalens;
using namespace sambalens::ui;
using namespace sambalens_test;

class WindowImportTest : public QObject {
  Q_OBJECT

  QString longPdf_;

  // A 500-page PDF, made once.
  QString longPdf() {
    if (!longPdf_.isEmpty()) return longPdf_;
    QStringList pages;
    for (int p = 1; p <= 500; ++p) {
      QString text;
      for (int line = 0; line < 40; ++line) text += QStringLiteral("Section %1, line %2: terms and conditions apply.\n").arg(p).arg(line);
      pages.append(text);
    }
    longPdf_ = freshDir(QStringLiteral("long-pdf")) + QStringLiteral("/long.pdf");
    makeTextPdf(longPdf_, pages);
    return longPdf_;
  }

 private slots:
  void initTestCase() { isolateSettings(); }

  void droppedPdfBecomesADocument() {
    const QString pdf = freshDir(QStringLiteral("drop")) + QStringLiteral("/minutes.pdf");
    makeTextPdf(pdf, {QStringLiteral("Minutes of the meeting.\nThe board met."), QStringLiteral("Second page."),
                      QStringLiteral("Third page: decisions.")});
    WindowFixture w;
    QVERIFY(dropFiles(w.window.get(), {pdf}));
    QVERIFY(w.waitForImports());

    QCOMPARE(w->documents()->rowCount(), 1);
    const ImportedDocument doc = w->documents()->document(0);
    QVERIFY2(doc.ok(), qPrintable(doc.error));
    QCOMPARE(doc.kind, QStringLiteral("pdf"));
    QCOMPARE(doc.pageCount, 3);
    QCOMPARE(w->documents()->checkedPaths(), QStringList{QFileInfo(pdf).absoluteFilePath()});
    // Per-file progress says what was read.
    ImportProgressView* progress = w->library()->importProgress();
    QCOMPARE(progress->rows(), 1);
    QVERIFY2(progress->statusText(0).contains(QStringLiteral("3 pages")), qPrintable(progress->statusText(0)));
    // The document view shows the PDF's pages, drawn by poppler.
    QCOMPARE(w->documentView()->documentPath(), doc.path);
    PdfView* view = w->documentView()->pdfView();
    QTRY_COMPARE_WITH_TIMEOUT(view->pageCount(), 3, 20000);
    QTRY_VERIFY_WITH_TIMEOUT(view->isPageRendered(1), 20000);
    grabIfAsked(w.window.get(), QStringLiteral("dropped-pdf"));
    // Zooming draws the page again at the new size (Ctrl++).
    w->activateWindow();
    QVERIFY(QTest::qWaitForWindowActive(w.window.get()));
    QTest::keyClick(w.window.get(), Qt::Key_Equal, Qt::ControlModifier);
    QVERIFY(view->zoom() > 1.0);
    QTRY_VERIFY_WITH_TIMEOUT(view->isPageRendered(view->currentPage()), 20000);
  }

  void dropOnTheQuestionFieldImportsInsteadOfPasting() {
    const QString text = freshDir(QStringLiteral("drop-child")) + QStringLiteral("/notes.md");
    writeFile(text, "# Notes\n\nThe deadline is Friday.\n");
    WindowFixture w;
    QLineEdit* question = w->analysisPane()->questionField();
    QVERIFY(dropFiles(question, {text}));
    QVERIFY(w.waitForImports());
    QCOMPARE(w->documents()->rowCount(), 1);
    QVERIFY(question->text().isEmpty());
    QVERIFY(w->documentView()->codeView()->toPlainText().contains(QStringLiteral("The deadline is Friday.")));
  }

  void brokenFileIsReportedAndOthersImport() {
    const QString dir = freshDir(QStringLiteral("drop-broken"));
    const QString good = dir + QStringLiteral("/good.pdf");
    const QString broken = dir + QStringLiteral("/broken.pdf");
    makeTextPdf(good, {QStringLiteral("A good page.")});
    makeTextPdf(dir + QStringLiteral("/whole.pdf"), {QStringLiteral("One page."), QStringLiteral("Two pages.")});
    truncateCopy(dir + QStringLiteral("/whole.pdf"), broken, 0.4);
    WindowFixture w;
    QVERIFY(dropFiles(w.window.get(), {broken, good}));
    QVERIFY(w.waitForImports());
    QCOMPARE(w->documents()->rowCount(), 1);
    QCOMPARE(w->documents()->document(0).path, QFileInfo(good).absoluteFilePath());
    const QStringList shown = w->messages()->texts();
    QVERIFY2(shown.size() == 1 && shown.front().contains(QStringLiteral("broken.pdf")), qPrintable(shown.join('\n')));
    // The progress list keeps the failure on its row.
    ImportProgressView* progress = w->library()->importProgress();
    QVERIFY(progress->isVisible());
    QVERIFY2(progress->statusText(0).contains(QStringLiteral("broken.pdf")), qPrintable(progress->statusText(0)));
    grabIfAsked(w.window.get(), QStringLiteral("broken-import"));
  }

  void eventLoopKeepsTurningWhileImportingALongPdf() {
    // 500 pages through the import worker: the GUI thread only hears about
    // progress, and opening the result (pages drawn on the render thread,
    // tokens counted on a pool thread) does not take it over either: a 10 ms
    // timer keeps firing while the import runs. The longest stall is a speed
    // figure, measured by tests/ui/bench_gui_stalls.cpp (docs/BENCHMARKS.md).
    const QString pdf = longPdf();
    WindowFixture w;
    QVERIFY(w.waitForModel());
    QSignalSpy progress(w->importQueue(), &ImportQueue::fileProgress);
    LoopTicker ticker([&] { return !progress.isEmpty() && w->importQueue()->isBusy(); },
                      [&] { return progress.count(); });
    QVERIFY(dropFiles(w.window.get(), {pdf}));
    QVERIFY(w.waitForImports(300000));
    ticker.stop();
    const QString counts = ticker.summary(QStringLiteral("importing"), QStringLiteral("progress reports"));
    qInfo("%s", qPrintable(counts));
    QVERIFY2(ticker.ticks() >= 2, qPrintable(counts));
    // A tick came in the middle of the import: more progress followed it.
    QVERIFY2(ticker.progressAtFirstTick() < progress.count(), qPrintable(counts));
    // And the import completes into a shown, counted document.
    QTRY_VERIFY_WITH_TIMEOUT(w->documents()->rowCount() == 1 && w->documents()->tokens(0) > 0, 120000);
    QTRY_VERIFY_WITH_TIMEOUT(w->documentView()->pdfView()->visiblePagesRendered(), 30000);
    QCOMPARE(w->documents()->document(0).pageCount, 500);
  }

  void importCanBeCancelled() {
    const QString pdf = longPdf();
    const QString small = freshDir(QStringLiteral("cancel")) + QStringLiteral("/small.pdf");
    makeTextPdf(small, {QStringLiteral("Small.")});
    WindowFixture w;
    QSignalSpy progress(w->importQueue(), &ImportQueue::fileProgress);
    QVERIFY(dropFiles(w.window.get(), {pdf, small}));
    QVERIFY(progress.wait(60000));  // the long one is being read, page by page
    QPushButton* cancel = w->library()->importProgress()->findChild<QPushButton*>(QStringLiteral("cancelImport"));
    QVERIFY(cancel->isEnabled());
    QSignalSpy finished(w->importQueue(), &ImportQueue::batchFinished);
    QTest::mouseClick(cancel, Qt::LeftButton);
    QVERIFY(finished.count() == 1 || finished.wait(5000));
    QVERIFY(finished.at(0).at(2).toBool());  // cancelled
    QVERIFY(!w->importQueue()->isBusy());
    QCOMPARE(w->documents()->rowCount(), 0);
    QVERIFY2(w->library()->importProgress()->statusText(1).contains(QStringLiteral("cancelled")),
             qPrintable(w->library()->importProgress()->statusText(1)));
  }

  void missingPathIsReported() {
    WindowFixture w;
    w->importPaths({QStringLiteral("/no/such/file.pdf")});
    QCOMPARE(w->messages()->count(), 1);
    QVERIFY(w->messages()->texts().front().contains(QStringLiteral("/no/such/file.pdf")));
    QCOMPARE(w->documents()->rowCount(), 0);
  }

  void folderIsPreviewedWithTokenCountsBeforeReading() {
    const QString root = freshDir(QStringLiteral("drop-folder")) + QStringLiteral("/project");
    writeFile(root + QStringLiteral("/src/alpha.cpp"), "int alpha() { return 1; }\nint beta() { return 2; }\n");
    writeFile(root + QStringLiteral("/src/gamma.py"), "def gamma():\n    return 3\n");
    writeFile(root + QStringLiteral("/.gitignore"), "generated/\n");
    writeFile(root + QStringLiteral("/generated/out.cpp"), "int generated();\n");
    WindowFixture w;
    QVERIFY(w.waitForModel());

    FolderPreviewDialog* preview = nullptr;
    connect(w.window.get(), &MainWindow::folderPreviewOpened, this, [&](FolderPreviewDialog* d) { preview = d; });
    QVERIFY(dropFiles(w.window.get(), {root}));
    QVERIFY(preview);
    QVERIFY(preview->isVisible());
    QTRY_VERIFY_WITH_TIMEOUT(preview->isComplete(), 30000);
    // Nothing is imported while the user looks at the preview.
    QCOMPARE(w->documents()->rowCount(), 0);

    const ScanResult& scan = preview->preview()->result();
    // .gitignore, src/alpha.cpp, src/gamma.py; generated/ is left out.
    QCOMPARE(scan.files.size(), 3);
    QCOMPARE(scan.exclusions.size(), 1);
    QCOMPARE(scan.exclusions.front().relativePath, QStringLiteral("generated"));
    qint64 sum = 0;
    for (int i = 0; i < scan.files.size(); ++i) {
      QVERIFY(preview->preview()->tokens(i) > 0);
      sum += preview->preview()->tokens(i);
    }
    QCOMPARE(preview->preview()->totalTokens(), sum);
    const QString summary = preview->summaryText();
    QVERIFY2(summary.contains(QStringLiteral("3 files to read")), qPrintable(summary));
    QVERIFY2(summary.contains(QStringLiteral("%1 tokens").arg(preview->preview()->totalTokens())), qPrintable(summary));
    // The tree shows the excluded folder with its reason.
    const QList<QStandardItem*> excluded =
        preview->treeModel()->findItems(QStringLiteral("generated/"), Qt::MatchExactly | Qt::MatchRecursive);
    QCOMPARE(excluded.size(), 1);
    const QString reason = preview->treeModel()->item(excluded.front()->row(), 3)->text();
    QVERIFY2(reason.contains(QStringLiteral(".gitignore")), qPrintable(reason));
    grabIfAsked(preview, QStringLiteral("folder-preview"));

    QTest::mouseClick(preview->findChild<QPushButton*>(QStringLiteral("readFolder")), Qt::LeftButton);
    QVERIFY(w.waitForImports());
    QCOMPARE(w->documents()->rowCount(), 1);
    const ImportedDocument doc = w->documents()->document(0);
    QCOMPARE(doc.kind, QStringLiteral("code"));
    QCOMPARE(doc.sections.size(), 3);
    // The code view shows a file, with the folder's files in a tree.
    QTreeWidget* tree = w->documentView()->fileTree();
    QVERIFY(tree->isVisible());
    QVERIFY(!w->documentView()->currentFile().isEmpty());
    QVERIFY(w->documentView()->showFile(QStringLiteral("src/gamma.py"), 2, 2));
    QVERIFY(w->documentView()->codeView()->toPlainText().contains(QStringLiteral("def gamma")));
    grabIfAsked(w.window.get(), QStringLiteral("code-folder"));
  }

  void cancelledPreviewReadsNothing() {
    const QString root = freshDir(QStringLiteral("drop-folder-cancel"));
    writeFile(root + QStringLiteral("/main.c"), "int main(void) { return 0; }\n");
    WindowFixture w;
    FolderPreviewDialog* preview = nullptr;
    connect(w.window.get(), &MainWindow::folderPreviewOpened, this, [&](FolderPreviewDialog* d) { preview = d; });
    w->importPaths({root});
    QVERIFY(preview);
    preview->reject();
    QVERIFY(w.waitForImports());
    QCOMPARE(w->documents()->rowCount(), 0);
  }
};

QTEST_MAIN(WindowImportTest)
#include "test_window_import.moc"
