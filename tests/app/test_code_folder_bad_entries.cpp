// The code-folder importer on folders with entries it cannot read: a named
// pipe (skipped, never opened: opening a FIFO for reading blocks until a
// writer comes), dangling symbolic links and link loops, bytes that are not
// UTF-8, files and folders that vanish during the import, paths that are not
// folders, and — only when not running as root, since permission bits do
// not stop root — chmod-000 entries. Each import must finish (a watchdog
// fails the test instead of hanging), keep what it could read and say which
// entries it left out and why; the same through the worker process.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <QCoreApplication>
#include <QDir>
#include <QGuiApplication>
#include <QSignalSpy>
#include <QtTest>
#include <cstring>
#include <functional>
#include <future>
#include <optional>
#include <thread>

#include "folder_scanner.h"
#include "import_cache.h"
#include "import_one.h"
#include "import_service.h"
#include "import_worker.h"
#include "plugin_registry.h"
#include "test_support.h"

using namespace sambalens;
using namespace sambalens_test;

namespace {

constexpr int kWatchdogMs = 60000;

void makeFifo(const QString& path) {
  if (::mkfifo(QFile::encodeName(path).constData(), 0644) != 0) qFatal("mkfifo %s: %s", qPrintable(path), std::strerror(errno));
}
void makeSymlink(const QString& target, const QString& link) {
  if (::symlink(QFile::encodeName(target).constData(), QFile::encodeName(link).constData()) != 0) {
    qFatal("symlink %s: %s", qPrintable(link), std::strerror(errno));
  }
}

// Lets a reader blocked in open() on `fifo` go on (it then reads end-of-file).
void releaseFifo(const QString& fifo) {
  const int fd = ::open(QFile::encodeName(fifo).constData(), O_WRONLY | O_NONBLOCK);
  if (fd >= 0) ::close(fd);
}

// Runs `work` on a thread of its own and waits at most kWatchdogMs. On a
// timeout the FIFOs are opened for writing so a read blocked on one ends,
// and nullopt tells the test the import hung.
std::optional<ImportedDocument> withinWatchdog(const std::function<ImportedDocument()>& work,
                                               const QStringList& fifos = {}) {
  std::packaged_task<ImportedDocument()> task(work);
  std::future<ImportedDocument> result = task.get_future();
  std::thread thread(std::move(task));
  if (result.wait_for(std::chrono::milliseconds(kWatchdogMs)) == std::future_status::ready) {
    thread.join();
    return result.get();
  }
  for (const QString& f : fifos) releaseFifo(f);
  thread.join();
  return std::nullopt;
}

const ExcludedEntry* findExcluded(const ImportedDocument& doc, const QString& relativePath) {
  for (const ExcludedEntry& e : doc.excluded) {
    if (e.relativePath == relativePath) return &e;
  }
  return nullptr;
}

QStringList sectionPaths(const ImportedDocument& doc) {
  QStringList paths;
  for (const DocumentSection& s : doc.sections) paths.append(s.relativePath);
  return paths;
}

QString describe(const ImportedDocument& doc) {
  QStringList lines{QStringLiteral("error: ") + doc.error, QStringLiteral("sections: ") + sectionPaths(doc).join(", ")};
  for (const ExcludedEntry& e : doc.excluded) lines.append(QStringLiteral("excluded %1: %2").arg(e.relativePath, e.reason));
  for (const QString& w : doc.warnings) lines.append(QStringLiteral("warning: ") + w);
  return lines.join('\n');
}

}  // namespace

class CodeFolderBadEntriesTest : public QObject {
  Q_OBJECT
  std::unique_ptr<PluginRegistry> registry_;

  std::optional<ImportedDocument> import(const QString& path, const QStringList& fifos = {},
                                         ImportContext::ProgressFn progress = {}) {
    const PluginRegistry& registry = *registry_;
    return withinWatchdog(
        [&registry, path, progress] {
          const ImportContext context(progress, nullptr);
          return importOne(registry, path, ImportOptions{}, context);
        },
        fifos);
  }

  // good.c and latin1.c readable; a FIFO, a dangling link, a two-link loop
  // and a binary file with a source suffix beside them.
  QString makeMixedFolder(QStringList* fifos) {
    const QString root = freshDir(QStringLiteral("bad-entries"));
    writeFile(root + "/good.c", "int good(void) { return 1; }\n");
    writeFile(root + "/latin1.c", "/* caf\xe9 cr\xe8me */\nint latin(void) { return 2; }\n");
    writeFile(root + "/binary.c", QByteArray("\x7f" "ELF\0\0\0\1\2\3", 10));
    makeFifo(root + "/pipe.c");
    makeSymlink(root + "/missing-target.c", root + "/dangling.c");
    makeSymlink(root + "/loop-b.c", root + "/loop-a.c");
    makeSymlink(root + "/loop-a.c", root + "/loop-b.c");
    fifos->append(root + "/pipe.c");
    return root;
  }

 private slots:
  void initTestCase() {
    registry_ = std::make_unique<PluginRegistry>(QStringList{QStringLiteral(SAMBALENS_TEST_IMPORTER_DIR)});
    QVERIFY2(registry_->importer(QStringLiteral("code")), qPrintable(registry_->loadErrors().join('\n')));
  }

  void skipsWhatItCannotReadAndSaysWhy() {
    QStringList fifos;
    const QString root = makeMixedFolder(&fifos);
    const std::optional<ImportedDocument> doc = import(root, fifos);
    QVERIFY2(doc, "the import hung (a named pipe was opened for reading?)");
    QVERIFY2(doc->ok(), qPrintable(describe(*doc)));
    QCOMPARE(sectionPaths(*doc), (QStringList{"good.c", "latin1.c"}));

    const ExcludedEntry* pipe = findExcluded(*doc, "pipe.c");
    QVERIFY2(pipe && pipe->reason.contains("named pipe") && pipe->reason.contains("not opened"), qPrintable(describe(*doc)));
    for (const char* link : {"dangling.c", "loop-a.c", "loop-b.c"}) {
      const ExcludedEntry* e = findExcluded(*doc, QString::fromLatin1(link));
      QVERIFY2(e && e->reason.contains("missing target or a link loop"), qPrintable(describe(*doc)));
    }
    const ExcludedEntry* binary = findExcluded(*doc, "binary.c");
    QVERIFY2(binary && binary->reason.contains("binary"), qPrintable(describe(*doc)));

    // Undecodable as UTF-8: read as Latin-1 (no byte lost) and told.
    const QString latin = doc->sections[1].text;
    QVERIFY2(latin.contains(QStringLiteral("café crème")), qPrintable(latin));
    const QString warnings = doc->warnings.join('\n');
    QVERIFY2(warnings.contains("latin1.c: not valid UTF-8, read as Latin-1"), qPrintable(warnings));
    // The pipe is a failure the user hears about in a warning; the links
    // and the binary are the rules working and stay in the excluded list.
    QVERIFY2(warnings.contains("1 entry could not be read") && warnings.contains("pipe.c (named pipe"), qPrintable(warnings));
    QVERIFY2(!warnings.contains("dangling.c"), qPrintable(warnings));
  }

  void folderVanishingDuringTheImport() {
    const QString root = freshDir(QStringLiteral("vanishing"));
    writeFile(root + "/a.c", "int a;\n");
    writeFile(root + "/b.c", "int b;\n");
    writeFile(root + "/sub/c.c", "int c;\n");
    // Just before b.c is read, b.c and sub/ disappear.
    bool removed = false;
    const auto progress = [&](int, int total, const QString& detail) {
      if (total > 0 && detail == QLatin1String("b.c") && !removed) {
        removed = QFile::remove(root + "/b.c") && QDir(root + "/sub").removeRecursively();
      }
    };
    const std::optional<ImportedDocument> doc = import(root, {}, progress);
    QVERIFY(removed);
    QVERIFY2(doc, "the import hung");
    QVERIFY2(doc->ok(), qPrintable(describe(*doc)));
    QCOMPARE(sectionPaths(*doc), QStringList{"a.c"});
    for (const char* gone : {"b.c", "sub/c.c"}) {
      const ExcludedEntry* e = findExcluded(*doc, QString::fromLatin1(gone));
      QVERIFY2(e && e->reason == QLatin1String("vanished during the import"), qPrintable(describe(*doc)));
    }
    const QString warnings = doc->warnings.join('\n');
    QVERIFY2(warnings.contains("2 entries could not be read") && warnings.contains("b.c (vanished during the import)") &&
                 warnings.contains("sub/c.c (vanished during the import)"),
             qPrintable(warnings));
  }

  void wholeFolderVanishingDuringTheImport() {
    const QString root = freshDir(QStringLiteral("vanishing-root"));
    writeFile(root + "/a.c", "int a;\n");
    writeFile(root + "/b.c", "int b;\n");
    bool removed = false;
    const auto progress = [&](int, int total, const QString&) {
      if (total > 0 && !removed) removed = QDir(root).removeRecursively();
    };
    const std::optional<ImportedDocument> doc = import(root, {}, progress);
    QVERIFY(removed);
    QVERIFY2(doc, "the import hung");
    // Nothing read: an error naming the folder, not an empty document.
    QVERIFY2(!doc->ok() && doc->error.startsWith(root) && doc->error.contains("none of the 2 files found could be read") &&
                 doc->error.contains("a.c (vanished during the import)"),
             qPrintable(describe(*doc)));
  }

  void pathsThatAreNotFolders() {
    QStringList fifos;
    const QString root = makeMixedFolder(&fifos);
    // Below a regular file (ENOTDIR).
    std::optional<ImportedDocument> doc = import(root + "/good.c/inside");
    QVERIFY2(doc && !doc->ok() && doc->error.contains(root + "/good.c/inside"), qPrintable(doc ? describe(*doc) : "hung"));
    // The scanner says why it cannot list a file as a folder.
    const ScanResult scan = scanFolder(root + "/good.c", ScanOptions{});
    QCOMPARE(scan.rootError, QString::fromLocal8Bit(std::strerror(ENOTDIR)));
    QVERIFY(scan.files.isEmpty());
    // A named pipe dropped by itself: refused by the registry without being opened...
    doc = import(fifos.front(), fifos);
    QVERIFY2(doc, "the import of a named pipe hung");
    QVERIFY2(!doc->ok() && doc->error.startsWith(fifos.front()) && doc->error.contains("not a regular file or folder"),
             qPrintable(describe(*doc)));
    // ...and by the code importer itself when handed one.
    ImporterPlugin* code = registry_->importer(QStringLiteral("code"));
    doc = withinWatchdog([code, fifo = fifos.front()] { return code->import(fifo, ImportOptions{}, ImportContext({}, nullptr)); },
                         fifos);
    QVERIFY2(doc, "the code importer hung on a named pipe");
    QVERIFY2(!doc->ok() && doc->error.contains("named pipe (FIFO)"), qPrintable(describe(*doc)));
    // A dangling link and a link loop as the dropped path.
    for (const char* link : {"/dangling.c", "/loop-a.c"}) {
      doc = import(root + QString::fromLatin1(link));
      QVERIFY2(doc && !doc->ok() && doc->error.contains("no such file or folder"), qPrintable(doc ? describe(*doc) : "hung"));
    }
  }

  void unreadableEntriesWhenNotRoot() {
    if (::geteuid() == 0) {
      QSKIP("running as root: permission bits do not stop root from reading, so a chmod-000 folder or file "
            "is readable here and this case would pass vacuously; the other cases of this test fail for root too");
    }
    const QString root = freshDir(QStringLiteral("unreadable"));
    writeFile(root + "/ok.c", "int ok;\n");
    writeFile(root + "/locked/hidden.c", "int hidden;\n");
    writeFile(root + "/secret.c", "int secret;\n");
    QVERIFY(::chmod(QFile::encodeName(root + "/locked").constData(), 0) == 0);
    QVERIFY(::chmod(QFile::encodeName(root + "/secret.c").constData(), 0) == 0);
    const std::optional<ImportedDocument> doc = import(root);
    ::chmod(QFile::encodeName(root + "/locked").constData(), 0755);
    ::chmod(QFile::encodeName(root + "/secret.c").constData(), 0644);
    QVERIFY2(doc, "the import hung");
    QVERIFY2(doc->ok(), qPrintable(describe(*doc)));
    QCOMPARE(sectionPaths(*doc), QStringList{"ok.c"});
    const ExcludedEntry* locked = findExcluded(*doc, "locked");
    QVERIFY2(locked && locked->isDirectory && locked->reason.contains(QString::fromLocal8Bit(std::strerror(EACCES))),
             qPrintable(describe(*doc)));
    const ExcludedEntry* secret = findExcluded(*doc, "secret.c");
    QVERIFY2(secret && secret->reason.startsWith("cannot be read"), qPrintable(describe(*doc)));
    const QString warnings = doc->warnings.join('\n');
    QVERIFY2(warnings.contains("2 entries could not be read") && warnings.contains("locked (") && warnings.contains("secret.c ("),
             qPrintable(warnings));
  }

  // Through the worker process, as the app imports: it finishes, and the
  // skipped entries and the warning reach the app.
  void throughTheWorkerProcess() {
    QStringList fifos;
    const QString root = makeMixedFolder(&fifos);
    // Its look-ups hash files (not the pipe). It outlives the service, whose
    // destructor waits for cache writes that use it.
    ImportCache cache(freshDir(QStringLiteral("bad-entries-cache")));
    ImportService service;
    service.setImporterDirectories({QStringLiteral(SAMBALENS_TEST_IMPORTER_DIR)});
    service.setCache(&cache);
    QSignalSpy finished(&service, &ImportService::finished);
    service.start({root, fifos.front()});
    if (!finished.wait(kWatchdogMs)) {
      for (const QString& f : fifos) releaseFifo(f);
      QFAIL("the import through the worker did not finish");
    }
    const QList<ImportedDocument> docs = finished.front().at(0).value<QList<ImportedDocument>>();
    QCOMPARE(docs.size(), 2);
    QVERIFY2(docs[0].ok(), qPrintable(describe(docs[0])));
    QCOMPARE(sectionPaths(docs[0]), (QStringList{"good.c", "latin1.c"}));
    QVERIFY2(findExcluded(docs[0], "pipe.c"), qPrintable(describe(docs[0])));
    QVERIFY2(docs[0].warnings.join('\n').contains("pipe.c (named pipe"), qPrintable(describe(docs[0])));
    QVERIFY2(!docs[1].ok() && docs[1].error.contains("not a regular file or folder"), qPrintable(describe(docs[1])));
  }
};

int main(int argc, char** argv) {
  // This binary is also the import worker of throughTheWorkerProcess().
  if (argc >= 2 && std::strcmp(argv[1], "--import-worker") == 0) {
    QCoreApplication app(argc, argv);
    return runImportWorkerOnStdio();
  }
  QCoreApplication app(argc, argv);
  CodeFolderBadEntriesTest test;
  return QTest::qExec(&test, argc, argv);
}

#include "test_code_folder_bad_entries.moc"
