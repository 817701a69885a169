// Prompt presets (the templates in resources/prompts), citation extraction
// from answers, and the token budget's statements.
#include <QtTest>

#include "citations.h"
#include "prompt_presets.h"
#include "token_budget.h"

using namespace sambalens;

namespace {

ImportedDocument pdf(const QString& path, int pages) {
  ImportedDocument d;
  d.path = path;
  d.kind = "pdf";
  d.pageCount = pages;
  for (int i = 1; i <= pages; ++i) d.sections.append(DocumentSection{i, {}, QStringLiteral("text %1").arg(i), 0});
  return d;
}

ImportedDocument code(const QString& path, const QStringList& files) {
  ImportedDocument d;
  d.path = path;
  d.kind = "code";
  for (const QString& f : files) d.sections.append(DocumentSection{0, f, "x", 1});
  return d;
}

QStringList describe(const QJsonArray& citations) {
  QStringList out;
  for (const QJsonValue& v : citations) {
    const QJsonObject c = v.toObject();
    const QString doc = QFileInfo(c.value("document").toString()).fileName();
    out.append(c.contains("page") ? QStringLiteral("%1#%2").arg(doc).arg(c.value("page").toInt())
                                  : QStringLiteral("%1:%2").arg(doc, c.value("file").toString()));
  }
  return out;
}

ModelInfo modelWith(int trainLength, int window) {
  ModelInfo m;
  m.trainLength = trainLength;
  m.window = window;
  return m;
}

}  // namespace

class PromptsCitationsTest : public QObject {
  Q_OBJECT

 private slots:
  void presetsComeFromTheResourceFiles() {
    QStringList ids;
    for (const PromptPreset& p : promptPresets()) ids.append(p.id);
    QCOMPARE(ids.mid(0, 4), (QStringList{"summarize", "ask", "explain_code", "review_code"}));
    QCOMPARE(findPromptPreset("explain_code")->title, QStringLiteral("Explain code"));
    QVERIFY(findPromptPreset("ask")->needsQuestion());
    QVERIFY(!findPromptPreset("summarize")->needsQuestion());
    QVERIFY(!findPromptPreset("nonexistent"));
    // The compiled-in template is the file the training tools read.
    QFile file(QStringLiteral(SAMBALENS_TEST_SOURCE_DIR "/resources/prompts/summarize.txt"));
    QVERIFY(file.open(QIODevice::ReadOnly));
    QCOMPARE(findPromptPreset("summarize")->templateText, QString::fromUtf8(file.readAll()));
  }

  void renderingSplitsContextAndInstruction() {
    QString error;
    const auto summary = renderPrompt(*findPromptPreset("summarize"), "DOC", QString(), &error);
    QVERIFY2(summary, qPrintable(error));
    QVERIFY(summary->context.endsWith("DOC"));
    QVERIFY(!summary->instruction.trimmed().isEmpty());
    QVERIFY(!summary->instruction.contains("{"));

    QVERIFY(!renderPrompt(*findPromptPreset("ask"), "DOC", "  ", &error));
    QVERIFY(error.contains("needs a question"));
    const auto ask = renderPrompt(*findPromptPreset("ask"), "DOC", "  Where is\n the budget? ", &error);
    QVERIFY(ask);
    QVERIFY2(ask->instruction.contains("Where is the budget?"), qPrintable(ask->instruction));

    // Every preset reads the documents with the same words before them, so
    // one stored model state serves them all.
    for (const PromptPreset& p : promptPresets()) {
      const auto r = renderPrompt(p, "DOC", "q?", &error);
      QVERIFY2(r, qPrintable(p.id + ": " + error));
      QCOMPARE(r->context, summary->context);
    }

    QVERIFY(!renderPrompt(PromptPreset{"bad", "Bad", "no placeholder"}, "DOC", {}, &error));
    QVERIFY(error.contains("{document}"));
    QVERIFY(!renderPrompt(PromptPreset{"bad", "Bad", "Read: {document}\n"}, "DOC", {}, &error));
    QVERIFY(error.contains("nothing follows"));
  }

  void citesPagesOfTheRightPdf() {
    const QList<ImportedDocument> one{pdf("/d/report.pdf", 10)};
    QCOMPARE(describe(extractCitations("See [page 3], pages 5-6 and p. 2; page 99 does not exist. Page 3 again.", one)),
             (QStringList{"report.pdf#3", "report.pdf#5", "report.pdf#6", "report.pdf#2"}));

    const QList<ImportedDocument> two{pdf("/d/contract.pdf", 4), pdf("/d/thesis.pdf", 200)};
    QCOMPARE(describe(extractCitations("The thesis.pdf says so on page 120; contract.pdf has it on page 2.", two)),
             (QStringList{"thesis.pdf#120", "contract.pdf#2"}));
    // No name before it: the first PDF that has the page.
    QCOMPARE(describe(extractCitations("on page 150", two)), QStringList{"thesis.pdf#150"});
    QVERIFY(extractCitations("nothing cited here", two).isEmpty());
  }

  void spansGiveThePlaceAndTheLines() {
    const QList<ImportedDocument> docs{pdf("/d/report.pdf", 10),
                                       code("/src/proj", {"src/engine.cpp", "src/engine.h"})};
    const QString text = QStringLiteral("Pages 4-6 of report.pdf; proj/src/engine.cpp:12-15 and `src/engine.h` lines 3 to 4.");
    const QList<CitationSpan> spans = findCitationSpans(text, docs);
    QCOMPARE(spans.size(), 3);
    QCOMPARE(text.mid(spans[0].start, spans[0].end - spans[0].start), QStringLiteral("Pages 4-6"));
    QCOMPARE(spans[0].page, 4);
    QCOMPARE(spans[0].lastPage, 6);
    // A path given from above the folder, with a line range.
    QCOMPARE(text.mid(spans[1].start, spans[1].end - spans[1].start), QStringLiteral("proj/src/engine.cpp:12-15"));
    QCOMPARE(spans[1].relativePath, QStringLiteral("src/engine.cpp"));
    QCOMPARE(spans[1].firstLine, 12);
    QCOMPARE(spans[1].lastLine, 15);
    QCOMPARE(spans[2].relativePath, QStringLiteral("src/engine.h"));
    QCOMPARE(spans[2].firstLine, 3);
    QCOMPARE(spans[2].lastLine, 4);
    // The stored citations are the same ones, the range spelled out.
    QCOMPARE(describe(extractCitations(text, docs)),
             (QStringList{"report.pdf#4", "report.pdf#5", "report.pdf#6", "proj:src/engine.cpp", "proj:src/engine.h"}));
  }

  void citesFilesOfACodeFolder() {
    const QList<ImportedDocument> docs{code("/src/proj", {"src/engine.cpp", "src/engine.h", "a/util.py", "b/util.py"})};
    QCOMPARE(describe(extractCitations("It is defined in src/engine.h and used by engine.cpp.", docs)),
             (QStringList{"proj:src/engine.h", "proj:src/engine.cpp"}));
    // An ambiguous file name alone cites nothing; a path does.
    QCOMPARE(describe(extractCitations("see util.py, then b/util.py", docs)), QStringList{"proj:b/util.py"});
    QVERIFY(extractCitations("myengine.cppx", docs).isEmpty());
  }

  void tokenBudgetStatements() {
    const TokenBudget empty = assessTokenBudget(0, modelWith(4096, 2048));
    QCOMPARE(empty.level, TokenBudget::Level::Empty);

    const TokenBudget fits = assessTokenBudget(3000, modelWith(4096, 2048), 1000);
    QCOMPARE(fits.level, TokenBudget::Level::Comfortable);
    QCOMPARE(fits.comfortable, 4096);
    QCOMPARE(fits.summary, QStringLiteral("3,000 of 4,096 tokens"));
    QVERIFY(fits.detail.contains("reads all of it"));
    QCOMPARE(fits.readSeconds, 3.0);
    QVERIFY(fits.detail.contains("about 3.0 s"));

    const TokenBudget longer = assessTokenBudget(1'200'000, modelWith(4096, 2048), 2000);
    QCOMPARE(longer.level, TokenBudget::Level::Long);
    QVERIFY(longer.fraction > 290);
    QVERIFY2(longer.detail.contains("1,200,000 tokens") && longer.detail.contains("nothing is cut") &&
                 longer.detail.contains("10 min 0 s"),
             qPrintable(longer.detail));

    const TokenBudget stored = assessTokenBudget(9000, modelWith(4096, 2048), 1000, 9000);
    QVERIFY(stored.detail.contains("will not be read again"));
    QCOMPARE(stored.readSeconds, 0.0);

    const TokenBudget unknown = assessTokenBudget(100, modelWith(0, 2048));
    QCOMPARE(unknown.comfortable, 2048);
    QVERIFY(unknown.comfortableBasis.contains("window"));

    QCOMPARE(formatDuration(0.25), QStringLiteral("250 ms"));
    QCOMPARE(formatDuration(75), QStringLiteral("1 min 15 s"));
    QCOMPARE(formatDuration(7300), QStringLiteral("2 h 1 min"));
    QCOMPARE(formatCount(1234567), QStringLiteral("1,234,567"));
  }
};

QTEST_GUILESS_MAIN(PromptsCitationsTest)
#include "test_prompts_citations.moc"
