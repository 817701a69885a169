// Citations, sessions and layout through the window: a "[page 2]" in an
// answer is a link that opens the PDF at page 2; a file citation opens the
// file at its lines; sessions reopen with their documents, are renamed,
// searched and deleted; the layout comes back; a bad model folder is refused
// with a message that names it.
#include <QDockWidget>
#include <QLineEdit>
#include <QListView>
#include <QMenu>
#include <QMessageBox>
#include <QPushButton>
#include <QTest>

#include "analysis/analysis_pane.h"
#include "analysis/citation_links.h"
#include "analysis/transcript_view.h"
#include "document/code_view.h"
#include "document/document_view.h"
#include "document/pdf_view.h"
#include "library/document_list_model.h"
#include "library/folder_preview_dialog.h"
#include "library/library_panel.h"
#include "library/session_list_model.h"
#include "status/model_status_widget.h"
#include "test_support.h"
#include "ui_test_support.h"

using namespace sambalens;
using namespace sambalens::ui;
using namespace sambalens_test;

namespace {
// A session as the analysis flow stores it: the documents, the user's
// request and an answer with `answerText`.
qint64 storeSession(SessionStore* store, const QList<ImportedDocument>& docs, const QString& title,
                    const QString& answerText) {
  QList<qint64> ids;
  for (const ImportedDocument& d : docs) {
    DocumentRecord record;
    record.path = d.path;
    record.contentHash = d.contentHash;
    record.kind = d.kind;
    record.pages = d.pageCount;
    ids.append(*store->upsertDocument(record));
  }
  const qint64 session = *store->createSession(title, QStringLiteral("tiny"), ids);
  MessageRecord user;
  user.sessionId = session;
  user.role = QStringLiteral("user");
  user.text = QStringLiteral("Summarize");
  user.preset = QStringLiteral("summarize");
  store->appendMessage(user);
  MessageRecord answer;
  answer.sessionId = session;
  answer.role = QStringLiteral("assistant");
  answer.text = answerText;
  answer.outputTokens = 12;
  answer.stopReason = QStringLiteral("end of text");
  store->appendMessage(answer);
  return session;
}
}  // namespace

class WindowSessionsTest : public QObject {
  Q_OBJECT

 private:
  QString pdf_;

 private slots:
  void initTestCase() {
    isolateSettings();
    pdf_ = freshDir(QStringLiteral("sessions-pdf")) + QStringLiteral("/contract.pdf");
    makeTextPdf(pdf_, {QStringLiteral("Parties and scope."), QStringLiteral("Payment: 30 days after invoice."),
                       QStringLiteral("Termination with notice.")});
  }

  void citationClickOpensThePage() {
    WindowFixture w;
    QVERIFY(dropFiles(w.window.get(), {pdf_}));
    QVERIFY(w.waitForImports());
    const ImportedDocument doc = w->documents()->document(0);
    const qint64 session = storeSession(w.context->store(), {doc}, QStringLiteral("Contract terms"),
                                        QStringLiteral("Payment is due in 30 days [page 2]. Termination is on page 3."));
    w->sessions()->refresh();
    // Open the session from the library, as a user would.
    QListView* list = w->library()->sessionList();
    list->setCurrentIndex(w->sessions()->index(w->sessions()->rowOfSession(session)));
    QCOMPARE(w->currentSessionId(), session);

    TranscriptView* transcript = w->analysisPane()->transcript();
    QVERIFY(transcript->toPlainText().contains(QStringLiteral("Payment is due in 30 days")));
    PdfView* pdf = w->documentView()->pdfView();
    QTRY_COMPARE_WITH_TIMEOUT(pdf->pageCount(), 3, 20000);
    QCOMPARE(pdf->markedPage(), 0);

    const QPoint link = linkPosition(transcript, QStringLiteral("page=2"));
    QVERIFY2(link.x() >= 0, qPrintable(transcript->toHtml()));
    QTest::mouseClick(transcript->viewport(), Qt::LeftButton, Qt::NoModifier, link);
    QCOMPARE(pdf->markedPage(), 2);
    QVERIFY(pdf->isPageVisible(2));
    QTRY_VERIFY_WITH_TIMEOUT(pdf->isPageRendered(2), 20000);
    grabIfAsked(w.window.get(), QStringLiteral("page-citation"));

    // "page 3" (without brackets) links too.
    const QPoint third = linkPosition(transcript, QStringLiteral("page=3"));
    QVERIFY(third.x() >= 0);
    QTest::mouseClick(transcript->viewport(), Qt::LeftButton, Qt::NoModifier, third);
    QCOMPARE(pdf->markedPage(), 3);
    QVERIFY(pdf->isPageVisible(3));
  }

  void fileCitationOpensTheLines() {
    const QString root = freshDir(QStringLiteral("sessions-code")) + QStringLiteral("/tool");
    writeFile(root + QStringLiteral("/src/parser.cpp"), "// parser\nint parse();\nint parse() {\n  return 42;\n}\n");
    writeFile(root + QStringLiteral("/README.md"), "# Tool\n");
    WindowFixture w;
    QVERIFY(w.waitForModel());
    connect(w.window.get(), &MainWindow::folderPreviewOpened, this, [](FolderPreviewDialog* d) {
      QObject::connect(d->preview(), &FolderPreview::scanned, d, &QDialog::accept);
    });
    w->importPaths({root});
    QVERIFY(w.waitForImports());
    QTRY_COMPARE_WITH_TIMEOUT(w->documents()->rowCount(), 1, 30000);
    const ImportedDocument doc = w->documents()->document(0);
    const qint64 session = storeSession(w.context->store(), {doc}, QStringLiteral("Parser"),
                                        QStringLiteral("The parser is in `src/parser.cpp:3-5`."));
    w->sessions()->refresh();
    w->openSession(session);
    TranscriptView* transcript = w->analysisPane()->transcript();
    const QPoint link = linkPosition(transcript, QStringLiteral("path=src/parser.cpp"));
    QVERIFY2(link.x() >= 0, qPrintable(transcript->toHtml()));
    QTest::mouseClick(transcript->viewport(), Qt::LeftButton, Qt::NoModifier, link);
    QCOMPARE(w->documentView()->currentFile(), QStringLiteral("src/parser.cpp"));
    const QList<QPair<int, int>> lines = w->documentView()->codeView()->highlightedLines();
    QVERIFY(lines.contains(qMakePair(3, 5)));
    grabIfAsked(w.window.get(), QStringLiteral("file-citation"));
    QVERIFY(w->documentView()->codeView()->toPlainText().contains(QStringLiteral("return 42")));
  }

  void lastSessionReopensWithItsDocuments() {
    const QString store = freshDir(QStringLiteral("sessions-reopen")) + QStringLiteral("/sessions.sqlite");
    qint64 session = 0;
    {
      WindowFixture first(WindowFixture::defaultOptions(), store);
      QVERIFY(dropFiles(first.window.get(), {pdf_}));
      QVERIFY(first.waitForImports());
      session = storeSession(first.context->store(), {first->documents()->document(0)}, QStringLiteral("Kept"),
                             QStringLiteral("See [page 1]."));
      first.context->store()->setLastSessionId(session);
    }
    WindowOptions options = WindowFixture::defaultOptions();
    options.restoreLastSession = true;
    WindowFixture second(options, store);
    QTRY_COMPARE_WITH_TIMEOUT(second->currentSessionId(), session, 10000);
    QCOMPARE(second->library()->selectedSession(), session);
    QVERIFY(second->analysisPane()->transcript()->toPlainText().contains(QStringLiteral("See")));
    // Its document comes back (from the import cache or a fresh import) and is selected.
    QVERIFY(second.waitForImports());
    QTRY_COMPARE_WITH_TIMEOUT(second->documents()->checkedPaths(), QStringList{QFileInfo(pdf_).absoluteFilePath()}, 30000);
    QCOMPARE(second->documentView()->documentPath(), QFileInfo(pdf_).absoluteFilePath());
    // Once the document is there, the stored answer's citation is a link.
    QVERIFY(linkPosition(second->analysisPane()->transcript(), QStringLiteral("page=1")).x() >= 0);
  }

  void renameSearchAndDelete() {
    WindowFixture w;
    QVERIFY(dropFiles(w.window.get(), {pdf_}));
    QVERIFY(w.waitForImports());
    const ImportedDocument doc = w->documents()->document(0);
    SessionStore* store = w.context->store();
    const qint64 a = storeSession(store, {doc}, QStringLiteral("Payment terms"), QStringLiteral("Thirty days."));
    const qint64 b = storeSession(store, {doc}, QStringLiteral("Termination"), QStringLiteral("With notice."));
    w->sessions()->refresh();
    QCOMPARE(w->sessions()->rowCount(), 2);

    // Rename in place.
    QVERIFY(w->sessions()->setData(w->sessions()->index(w->sessions()->rowOfSession(a)), QStringLiteral("Invoices"),
                                   Qt::EditRole));
    QCOMPARE(store->session(a)->title, QStringLiteral("Invoices"));

    // Ctrl+F goes to the search field; typing filters by title and messages.
    w->activateWindow();
    QVERIFY(QTest::qWaitForWindowActive(w.window.get()));
    QTest::keyClick(w.window.get(), Qt::Key_F, Qt::ControlModifier);
    QLineEdit* search = w->library()->searchField();
    QVERIFY(search->hasFocus());
    QTest::keyClicks(search, QStringLiteral("notice"));
    QTRY_COMPARE(w->sessions()->rowCount(), 1);
    QCOMPARE(w->sessions()->sessionId(0), b);
    search->clear();
    QTRY_COMPARE(w->sessions()->rowCount(), 2);

    // Delete, after confirming.
    w->library()->selectSession(b);
    w->library()->deleteSelectedSession();
    QMessageBox* confirm = nullptr;
    QTRY_VERIFY((confirm = w->findChild<QMessageBox*>(QStringLiteral("confirmDelete"))) != nullptr);
    QTest::mouseClick(confirm->button(QMessageBox::Yes), Qt::LeftButton);
    QCOMPARE(w->sessions()->rowCount(), 1);
    QVERIFY(!store->session(b));
    QVERIFY(store->session(a));
  }

  void layoutIsRestored() {
    WindowOptions options = WindowFixture::defaultOptions();
    options.restoreLayout = true;
    options.loadModelAtStart = false;
    {
      WindowFixture first(options);
      first->analysisDock()->hide();
      first->close();  // saves the layout
    }
    WindowFixture second(options);
    QVERIFY(second->libraryDock()->isVisible());
    // The menus are all there, Insight's included.
    QVERIFY(second->findChild<QMenu*>(QStringLiteral("insightMenu")));
    QVERIFY(!second->analysisDock()->isVisible());
    second->analysisDock()->show();
    second->close();
  }

  void badModelFolderIsRefusedWithAMessage() {
    const QString empty = freshDir(QStringLiteral("not-a-model"));
    WindowFixture w;
    QVERIFY(w.waitForModel());
    const QString before = w->modelStatus()->text();
    w->loadModel(empty, true);
    QMessageBox* box = nullptr;
    QTRY_VERIFY((box = w->findChild<QMessageBox*>(QStringLiteral("modelError"))) != nullptr);
    QVERIFY(box->isVisible());
    QVERIFY2(box->text().contains(empty) && box->text().contains(QStringLiteral("config.json")), qPrintable(box->text()));
    // The model in use stays.
    QVERIFY(w.context->engine().isModelLoaded());
    QCOMPARE(w->modelStatus()->text(), before);
    QVERIFY2(before.contains(QStringLiteral("cpu")), qPrintable(before));
    box->close();

    // A folder that passes the quick check but that the engine rejects.
    const QString broken = freshDir(QStringLiteral("broken-model"));
    writeFile(broken + QStringLiteral("/config.json"), "{\"model_type\": \"samba\"}");
    writeFile(broken + QStringLiteral("/model.safetensors"), "not a safetensors file");
    writeFile(broken + QStringLiteral("/tokenizer.model"), "nor a tokenizer");
    w->loadModel(broken, true);
    QTRY_VERIFY_WITH_TIMEOUT((box = w->findChild<QMessageBox*>(QStringLiteral("modelError"))) != nullptr && box->isVisible(),
                             20000);
    QVERIFY2(box->text().contains(broken), qPrintable(box->text()));
    QVERIFY(w.context->engine().isModelLoaded());
  }

  void citationLinksInMarkdown() {
    ImportedDocument pdf;
    pdf.path = QStringLiteral("/docs/report (final).pdf");
    pdf.kind = QStringLiteral("pdf");
    pdf.pageCount = 5;
    ImportedDocument code;
    code.path = QStringLiteral("/src/app");
    code.kind = QStringLiteral("code");
    code.sections = {DocumentSection{0, QStringLiteral("src/main.cpp"), QStringLiteral("int main() {}"), 13},
                     DocumentSection{0, QStringLiteral("lib/util.h"), QStringLiteral("#pragma once"), 12}};
    QList<CitationTarget> found;
    const QString md = linkifyCitations(
        QStringLiteral("See [page 2] and pages 4-5, not page 9. `src/main.cpp:10` and util.h lines 3-4.\n"
                       "```\nsrc/main.cpp [page 1]\n```\n"),
        {pdf, code}, &found);
    QCOMPARE(found.size(), 4);
    QCOMPARE(found[0].page, 2);
    QCOMPARE(found[1].page, 4);
    QCOMPARE(found[2].relativePath, QStringLiteral("src/main.cpp"));
    QCOMPARE(found[2].firstLine, 10);
    QCOMPARE(found[3].relativePath, QStringLiteral("lib/util.h"));
    QCOMPARE(qMakePair(found[3].firstLine, found[3].lastLine), qMakePair(3, 4));
    // Links round-trip through their URL, even with spaces and parentheses.
    for (const CitationTarget& t : found) QCOMPARE(CitationTarget::fromUrl(t.toUrl()), std::optional<CitationTarget>(t));
    QVERIFY2(md.contains(QStringLiteral("[\\[page 2\\]](sambalens:page?")), qPrintable(md));
    QVERIFY2(md.contains(QStringLiteral("[`src/main.cpp:10`](sambalens:file?")), qPrintable(md));
    QVERIFY2(md.contains(QStringLiteral("not page 9")), qPrintable(md));  // no such page: no link
    QVERIFY2(md.contains(QStringLiteral("```\nsrc/main.cpp [page 1]\n```")), qPrintable(md));  // code block untouched
    QVERIFY(!md.contains(QStringLiteral("report (final)")));  // parentheses are encoded in the address
  }
};

QTEST_MAIN(WindowSessionsTest)
#include "test_window_sessions.moc"
