// The importer plugins, loaded the way the app loads them, on real files
// made during the test: PDFs drawn with QPdfWriter (several pages, one
// encrypted with qpdf, one cut short, one damaged, one of images only), text
// and Markdown in several encodings, and a code folder.
#include <QDir>
#include <QImage>
#include <QPainter>
#include <QPdfWriter>
#include <QtTest>

#include "content_hash.h"
#include "import_one.h"
#include "plugin_registry.h"
#include "test_support.h"

using namespace sambalens;
using namespace sambalens_test;

namespace {

const QStringList kPages = {
    QStringLiteral("Alpha report\nThe first page introduces the alpha project."),
    QStringLiteral("Budget\nThe second page lists a budget of 4200 euros."),
    QStringLiteral("Risks\nThe third page names the main risk: late delivery."),
    QStringLiteral("Schedule\nThe fourth page gives the schedule for spring."),
    QStringLiteral("Conclusion\nThe fifth page concludes that alpha is on track."),
};

ImportedDocument importWith(const PluginRegistry& registry, const QString& path) {
  const ImportContext context({}, nullptr);
  return importOne(registry, path, ImportOptions{}, context);
}

}  // namespace

class ImportersTest : public QObject {
  Q_OBJECT
  std::unique_ptr<PluginRegistry> registry_;
  QString dir_;

 private slots:
  void initTestCase() {
    registry_ = std::make_unique<PluginRegistry>(QStringList{QStringLiteral(SAMBALENS_TEST_IMPORTER_DIR)});
    dir_ = freshDir(QStringLiteral("importers"));
  }

  void registryFindsEveryImporter() {
    QVERIFY2(registry_->loadErrors().isEmpty(), qPrintable(registry_->loadErrors().join('\n')));
    QStringList ids;
    for (ImporterPlugin* p : registry_->importers()) ids.append(p->id());
    ids.sort();
    QCOMPARE(ids, (QStringList{"code", "pdf", "text"}));
  }

  void picksTheImporterByContent() {
    makeTextPdf(dir_ + "/pick.pdf", {"one page"});
    writeFile(dir_ + "/disguised.bin", readFile(dir_ + "/pick.pdf"));  // a PDF by content
    writeFile(dir_ + "/notes.md", "# Notes\n");
    writeFile(dir_ + "/main.cpp", "int main() {}\n");
    writeFile(dir_ + "/NOTES", "plain words\n");
    writeFile(dir_ + "/blob.dat", QByteArray("\0\1\2\3", 4));
    QCOMPARE(registry_->importerFor(dir_ + "/pick.pdf")->id(), QStringLiteral("pdf"));
    QCOMPARE(registry_->importerFor(dir_ + "/disguised.bin")->id(), QStringLiteral("pdf"));
    QCOMPARE(registry_->importerFor(dir_ + "/notes.md")->id(), QStringLiteral("text"));
    QCOMPARE(registry_->importerFor(dir_ + "/main.cpp")->id(), QStringLiteral("code"));
    QCOMPARE(registry_->importerFor(dir_)->id(), QStringLiteral("code"));
    QCOMPARE(registry_->importerFor(dir_ + "/NOTES")->id(), QStringLiteral("text"));
    QString why;
    QVERIFY(!registry_->importerFor(dir_ + "/blob.dat", &why));
    QVERIFY2(why.contains("blob.dat") && why.contains("unsupported"), qPrintable(why));
    QVERIFY(!registry_->importerFor(dir_ + "/missing.pdf", &why));
    QVERIFY2(why.contains("no such file"), qPrintable(why));
  }

  void pdfTextPerPageWithMarkers() {
    const QString path = dir_ + "/report.pdf";
    makeTextPdf(path, kPages);
    const ImportedDocument doc = importWith(*registry_, path);
    QVERIFY2(doc.ok(), qPrintable(doc.error));
    QCOMPARE(doc.kind, QStringLiteral("pdf"));
    QCOMPARE(doc.pageCount, 5);
    QCOMPARE(doc.sections.size(), 5);
    QVERIFY(doc.warnings.isEmpty());
    QCOMPARE(doc.contentHash, fileSha256(path));
    for (int i = 0; i < 5; ++i) {
      QCOMPARE(doc.sections[i].page, i + 1);
      // Each page's words, and only that page's, in its section.
      const QString firstLineWord = kPages[i].split('\n').front();
      QVERIFY2(doc.sections[i].text.contains(firstLineWord), qPrintable(doc.sections[i].text));
      if (i > 0) QVERIFY(!doc.sections[i].text.contains(kPages[i - 1].split('\n').front()));
    }
    const QString text = doc.modelText();
    QVERIFY(text.startsWith("[page 1]\n"));
    const int page3 = text.indexOf("[page 3]\n");
    QVERIFY(page3 > 0);
    QVERIFY(text.indexOf("late delivery") > page3);
    QVERIFY(text.indexOf("late delivery") < text.indexOf("[page 4]"));
  }

  void encryptedPdfSaysSo() {
    makeTextPdf(dir_ + "/plain.pdf", kPages.mid(0, 2));
    encryptPdf(dir_ + "/plain.pdf", dir_ + "/locked.pdf", "user-secret");
    const ImportedDocument doc = importWith(*registry_, dir_ + "/locked.pdf");
    QVERIFY(!doc.ok());
    QVERIFY2(doc.error.startsWith("locked.pdf: ") && doc.error.contains("encrypted with a password"),
             qPrintable(doc.error));
  }

  void truncatedPdfSaysSo() {
    makeTextPdf(dir_ + "/whole.pdf", kPages);
    truncateCopy(dir_ + "/whole.pdf", dir_ + "/cut.pdf", 0.6);
    const ImportedDocument doc = importWith(*registry_, dir_ + "/cut.pdf");
    QVERIFY(!doc.ok());
    QVERIFY2(doc.error.startsWith("cut.pdf: ") && doc.error.contains("truncated"), qPrintable(doc.error));
  }

  void damagedPdfSaysSo() {
    writeFile(dir_ + "/damaged.pdf", "%PDF-1.7\n1 0 obj << /Type /Catalog /Pages 9 0 R >> garbage\nxref\nnonsense\n%%EOF\n");
    const ImportedDocument doc = importWith(*registry_, dir_ + "/damaged.pdf");
    QVERIFY(!doc.ok());
    QVERIFY2(doc.error.startsWith("damaged.pdf: ") &&
                 (doc.error.contains("damaged") || doc.error.contains("no pages")),
             qPrintable(doc.error));
  }

  void notAPdfSaysSo() {
    writeFile(dir_ + "/fake.pdf", "This is a text file with a .pdf name.\n");
    const ImportedDocument doc = importWith(*registry_, dir_ + "/fake.pdf");
    QVERIFY(!doc.ok());
    QVERIFY2(doc.error.contains("fake.pdf: not a PDF file"), qPrintable(doc.error));
    writeFile(dir_ + "/empty.pdf", QByteArray());
    QVERIFY2(importWith(*registry_, dir_ + "/empty.pdf").error.contains("empty"), "empty file");
  }

  void imageOnlyPdfSaysSo() {
    makeImageOnlyPdf(dir_ + "/scan.pdf", 3);
    const ImportedDocument doc = importWith(*registry_, dir_ + "/scan.pdf");
    QVERIFY(!doc.ok());
    QVERIFY2(doc.error.startsWith("scan.pdf: ") && doc.error.contains("text layer") && doc.error.contains("3 pages"),
             qPrintable(doc.error));
  }

  void mixedPdfWarnsAboutImagePages() {
    const QString path = dir_ + "/mixed.pdf";
    {
      QPdfWriter writer(path);
      writer.setResolution(72);
      QPainter painter(&writer);
      painter.drawText(50, 60, "Words on the first page");
      writer.newPage();
      QImage image(100, 100, QImage::Format_RGB32);
      image.fill(Qt::darkGreen);
      painter.drawImage(QRect(50, 50, 200, 200), image);
      writer.newPage();
      painter.drawText(50, 60, "Words on the third page");
    }
    const ImportedDocument doc = importWith(*registry_, path);
    QVERIFY2(doc.ok(), qPrintable(doc.error));
    QCOMPARE(doc.pageCount, 3);
    QCOMPARE(doc.sections.size(), 3);  // page numbers stay the reader's
    QVERIFY(doc.sections[1].text.isEmpty());
    QCOMPARE(doc.warnings.size(), 1);
    QVERIFY2(doc.warnings[0].contains("page(s) 2"), qPrintable(doc.warnings[0]));
    QVERIFY(doc.modelText().contains("[page 3]\nWords on the third page"));
  }

  void textAndMarkdown() {
    writeFile(dir_ + "/guide.md", "# Guide\r\nFirst line.\r\nSecond line.\r\n");
    ImportedDocument md = importWith(*registry_, dir_ + "/guide.md");
    QVERIFY2(md.ok(), qPrintable(md.error));
    QCOMPARE(md.kind, QStringLiteral("markdown"));
    QCOMPARE(md.sections.size(), 1);
    QCOMPARE(md.sections[0].text, QStringLiteral("# Guide\nFirst line.\nSecond line.\n"));
    QCOMPARE(md.modelText(), QStringLiteral("# Guide\nFirst line.\nSecond line."));

    writeFile(dir_ + "/latin.txt", QByteArray("caf\xe9 cr\xe8me\n"));
    const ImportedDocument latin = importWith(*registry_, dir_ + "/latin.txt");
    QVERIFY(latin.ok());
    QCOMPARE(latin.sections[0].text, QStringLiteral("café crème\n"));
    QCOMPARE(latin.warnings.size(), 1);
    QVERIFY(latin.warnings[0].contains("Latin-1"));

    QByteArray utf16("\xff\xfe", 2);
    for (QChar c : QStringLiteral("héllo")) {
      utf16.append(char(c.unicode() & 0xff));
      utf16.append(char(c.unicode() >> 8));
    }
    writeFile(dir_ + "/wide.txt", utf16);
    const ImportedDocument wide = importWith(*registry_, dir_ + "/wide.txt");
    QVERIFY2(wide.ok(), qPrintable(wide.error));
    QCOMPARE(wide.sections[0].text, QStringLiteral("héllo"));

    writeFile(dir_ + "/binary.txt", QByteArray("abc\0def", 7));
    const ImportedDocument binary = importWith(*registry_, dir_ + "/binary.txt");
    QVERIFY(!binary.ok());
    QVERIFY2(binary.error.contains("binary.txt: binary file"), qPrintable(binary.error));

    writeFile(dir_ + "/blank.txt", "  \n\n");
    QVERIFY(importWith(*registry_, dir_ + "/blank.txt").error.contains("no text"));
  }

  void codeFolderCarriesPaths() {
    const QString root = freshDir("codefolder");
    writeFile(root + "/.gitignore", "*.tmp\n");
    writeFile(root + "/src/engine.cpp", "int answer() { return 42; }\n");
    writeFile(root + "/src/engine.h", "int answer();\n");
    writeFile(root + "/README.md", "# Demo\n");
    writeFile(root + "/scratch.tmp", "ignored\n");
    writeFile(root + "/node_modules/x/index.js", "ignored\n");
    const ImportedDocument doc = importWith(*registry_, root);
    QVERIFY2(doc.ok(), qPrintable(doc.error));
    QCOMPARE(doc.kind, QStringLiteral("code"));
    QStringList paths;
    for (const DocumentSection& s : doc.sections) paths.append(s.relativePath);
    QCOMPARE(paths, (QStringList{".gitignore", "README.md", "src/engine.cpp", "src/engine.h"}));
    QStringList excluded;
    for (const ExcludedEntry& e : doc.excluded) excluded.append(e.relativePath + " (" + e.reason + ")");
    QCOMPARE(excluded, (QStringList{"node_modules (installed dependencies)", "scratch.tmp (.gitignore:1: *.tmp)"}));
    const QString text = doc.modelText();
    QVERIFY2(text.contains("File: src/engine.cpp\nint answer() { return 42; }\n\nFile: src/engine.h\n"), qPrintable(text));

    // The hash covers content and names: a change anywhere changes it.
    const QString before = doc.contentHash;
    QCOMPARE(importWith(*registry_, root).contentHash, before);
    writeFile(root + "/src/engine.cpp", "int answer() { return 43; }\n");
    QVERIFY(importWith(*registry_, root).contentHash != before);

    const ImportedDocument single = importWith(*registry_, root + "/src/engine.h");
    QVERIFY(single.ok());
    QCOMPARE(single.modelText(), QStringLiteral("File: engine.h\nint answer();"));
  }

  void severalDocumentsAreNumbered() {
    ImportedDocument a;
    a.path = "/x/a.txt";
    a.sections.append(DocumentSection{0, {}, "alpha", 5});
    ImportedDocument b;
    b.path = "/x/b.txt";
    b.sections.append(DocumentSection{0, {}, "beta", 4});
    QCOMPARE(composeModelText({a, b}), QStringLiteral("[document 1 of 2: a.txt]\nalpha\n\n[document 2 of 2: b.txt]\nbeta"));
    QCOMPARE(composeModelText({a}), QStringLiteral("alpha"));
    // JSON round trip (the worker protocol and the cache use it).
    a.excluded.append(ExcludedEntry{"x", true, "why"});
    a.warnings.append("w");
    const ImportedDocument back = ImportedDocument::fromJson(a.toJson());
    QCOMPARE(back.modelText(), a.modelText());
    QCOMPARE(back.excluded.size(), 1);
    QCOMPARE(back.excluded[0].reason, QStringLiteral("why"));
    QCOMPARE(back.warnings, QStringList{"w"});
  }
};

QTEST_MAIN(ImportersTest)
#include "test_importers.moc"
