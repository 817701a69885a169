// .gitignore semantics checked against git itself: the same tree, every
// path asked to `git check-ignore` and to our matcher; the folder scanner's
// file list against `git ls-files --others --exclude-standard`; and the
// default excludes (build output, dependencies, venvs, binaries, size).
#include <QDir>
#include <QDirIterator>
#include <QSet>
#include <QtTest>

#include "folder_scanner.h"
#include "gitignore.h"
#include "test_support.h"

using namespace sambalens;
using namespace sambalens_test;

namespace {

const QStringList kGitEnv = {QStringLiteral("GIT_CONFIG_GLOBAL=/dev/null"), QStringLiteral("GIT_CONFIG_NOSYSTEM=1")};

ProcessResult git(const QString& dir, const QStringList& args, const QByteArray& input = {}) {
  return runProcess(QStringLiteral(SAMBALENS_TEST_GIT), args, dir, input, 60000, kGitEnv);
}

// Every path below `root` (files and folders), '/'-separated, without .git.
QStringList allPaths(const QString& root) {
  QStringList paths;
  QDirIterator it(root, QDir::AllEntries | QDir::Hidden | QDir::NoDotAndDotDot, QDirIterator::Subdirectories);
  while (it.hasNext()) {
    const QString rel = QDir(root).relativeFilePath(it.next());
    if (rel == QLatin1String(".git") || rel.startsWith(QLatin1String(".git/"))) continue;
    paths.append(rel);
  }
  paths.sort();
  return paths;
}

GitIgnore loadAllGitignores(const QString& root) {
  GitIgnore ignore;
  for (const QString& rel : allPaths(root)) {
    if (QFileInfo(rel).fileName() != QLatin1String(".gitignore")) continue;
    const QString dir = QFileInfo(rel).path() == QLatin1String(".") ? QString() : QFileInfo(rel).path();
    ignore.addFile(dir, readFile(root + QLatin1Char('/') + rel));
  }
  return ignore;
}

// A tree exercising every rule kind: nested files, negation (including the
// ones git refuses because a parent folder is ignored), directory-only
// patterns, anchoring, "**", classes, escapes, trailing spaces and CRLF.
QString makeRuleTree() {
  const QString root = freshDir(QStringLiteral("gitignore-tree"));
  const auto file = [&](const QString& rel, const QByteArray& content = "x\n") {
    writeFile(root + QLatin1Char('/') + rel, content);
  };
  file(QStringLiteral(".gitignore"),
       "# comment line\n"
       "*.log\n"
       "!keep.log\n"
       "build/\n"
       "/root_only.txt\n"
       "docs/*.md\n"
       "!docs/README.md\n"
       "**/tmp\n"
       "foo/**/bar\n"
       "cache/**\n"
       "!cache/keep/\n"
       "\\#hash.txt\n"
       "trailing.txt   \n"
       "spaced\\ name.txt\n"
       "*.o\n"
       "!important.o\n"
       "[Tt]emp*\n"
       "dir_only_pattern/\n"
       "name_pattern\n"
       "nested/deep/*.dat\n"
       "\\!bang.txt\n"
       "*.py[cod]\n"
       "lib?.a\n"
       "very/deep/**/end\n");
  file(QStringLiteral("sub/.gitignore"), "!*.log\nlocal.txt\n/anchored.txt\nbuild\n");
  file(QStringLiteral("sub/inner/.gitignore"), "*.txt\n!keep.txt\n");
  file(QStringLiteral("crlf/.gitignore"), "crlf.txt\r\nother.txt\r\n");
  for (const char* f : {"a.log", "keep.log", "sub/b.log", "sub/inner/c.log", "sub/inner/keep.log",
                        "build/x.c", "build/keep.log", "src/build/y.c", "sub/build", "sub/deeper/build/z.c",
                        "root_only.txt", "src/root_only.txt", "docs/a.md", "docs/README.md", "docs/sub/b.md",
                        "tmp/t1", "src/tmp/t2", "x/y/tmp", "foo/bar", "foo/a/bar", "foo/a/b/bar/z.c",
                        "foo/barx", "cache/a.txt", "cache/keep/b.txt", "#hash.txt", "trailing.txt",
                        "spaced name.txt", "m.o", "important.o", "src/important.o", "Temp1", "temp2",
                        "src/temporary.c", "dir_only_pattern/f", "src/dir_only_pattern", "name_pattern",
                        "src/name_pattern/f", "nested/deep/a.dat", "nested/deep/more/b.dat",
                        "sub/local.txt", "sub/x/local.txt", "sub/anchored.txt", "sub/x/anchored.txt",
                        "sub/inner/a.txt", "sub/inner/keep.txt", "sub/inner/d/e.txt", "crlf/crlf.txt",
                        "crlf/other.txt", "crlf/third.txt", "!bang.txt", "m.pyc", "m.pyx", "liba.a",
                        "libab.a", "very/deep/end", "very/deep/a/b/end", "very/deepend", "plain/file.c"}) {
    file(QString::fromLatin1(f));
  }
  const ProcessResult init = git(root, {QStringLiteral("init"), QStringLiteral("-q")});
  if (init.exitCode != 0) qFatal("git init failed: %s", init.err.constData());
  return root;
}

}  // namespace

class GitignoreTest : public QObject {
  Q_OBJECT

 private slots:
  void wildmatchCases_data() {
    QTest::addColumn<QString>("pattern");
    QTest::addColumn<QString>("text");
    QTest::addColumn<bool>("pathname");
    QTest::addColumn<bool>("expected");
    const auto row = [](const char* p, const char* t, bool pathname, bool expected) {
      QTest::addRow("%s ~ %s%s", p, t, pathname ? " (path)" : "") << QString::fromUtf8(p) << QString::fromUtf8(t)
                                                                 << pathname << expected;
    };
    row("*.log", "a.log", false, true);
    row("*.log", "a.logx", false, false);
    row("a?c", "abc", true, true);
    row("a?c", "a/c", true, false);
    row("a*c", "a/c", true, false);
    row("a*c", "a/c", false, true);
    row("**/foo", "foo", true, true);
    row("**/foo", "a/b/foo", true, true);
    row("a/**/b", "a/b", true, true);
    row("a/**/b", "a/x/y/b", true, true);
    row("a/**", "a/x/y", true, true);
    row("a/**", "a", true, false);
    row("a**b", "a/x/b", true, false);  // not a whole component: acts as '*'
    row("[a-c]x", "bx", false, true);
    row("[!a-c]x", "bx", false, false);
    row("[^a-c]x", "dx", false, true);
    row("[]]x", "]x", false, true);
    row("[[:digit:]]*", "7up", false, true);
    row("[[:upper:]]*", "up", false, false);
    row("\\*x", "*x", false, true);
    row("\\*x", "ax", false, false);
    row("[a-", "a", false, false);  // malformed class never matches
    row("*", "", false, true);
  }
  void wildmatchCases() {
    QFETCH(QString, pattern);
    QFETCH(QString, text);
    QFETCH(bool, pathname);
    QFETCH(bool, expected);
    QCOMPARE(wildmatch(pattern.toUtf8(), text.toUtf8(), pathname), expected);
  }

  void parsesLinesLikeGit() {
    const QList<GitIgnoreRule> rules =
        parseGitIgnore("# c\n\n!neg\n/anch/\ntrail  \nesc\\ \n\\#lit\nmid/dle\r\n", QString(), ".gitignore");
    QCOMPARE(rules.size(), 6);
    QVERIFY(rules[0].negated);
    QCOMPARE(rules[0].pattern, QByteArray("neg"));
    QVERIFY(rules[1].directoryOnly && rules[1].matchesPath);
    QCOMPARE(rules[1].pattern, QByteArray("anch"));
    QCOMPARE(rules[2].pattern, QByteArray("trail"));
    QCOMPARE(rules[3].pattern, QByteArray("esc\\ "));
    QCOMPARE(rules[4].pattern, QByteArray("\\#lit"));
    QVERIFY(rules[5].matchesPath);
    QCOMPARE(rules[5].pattern, QByteArray("mid/dle"));
    QCOMPARE(rules[5].source, QStringLiteral(".gitignore:8"));
  }

  // Every file and folder of the tree: our answer equals git's.
  void agreesWithGitCheckIgnore() {
    const QString root = makeRuleTree();
    const QStringList paths = allPaths(root);
    QVERIFY(paths.size() > 80);
    const ProcessResult r = git(root, {QStringLiteral("check-ignore"), QStringLiteral("--no-index"),
                                       QStringLiteral("--stdin")},
                                paths.join(QLatin1Char('\n')).toUtf8() + '\n');
    QVERIFY2(r.exitCode == 0 || r.exitCode == 1, r.err.constData());
    QSet<QString> gitIgnored;
    for (const QByteArray& line : r.out.split('\n')) {
      if (!line.isEmpty()) gitIgnored.insert(QString::fromUtf8(line));
    }
    QVERIFY(gitIgnored.size() > 30);  // the tree really exercises the rules

    const GitIgnore ignore = loadAllGitignores(root);
    QStringList mismatches;
    for (const QString& path : paths) {
      const bool ours = ignore.isIgnored(path, QFileInfo(root + QLatin1Char('/') + path).isDir());
      if (ours != gitIgnored.contains(path)) {
        mismatches.append(QStringLiteral("%1: git %2, ours %3")
                              .arg(path, gitIgnored.contains(path) ? "ignored" : "kept", ours ? "ignored" : "kept"));
      }
    }
    QVERIFY2(mismatches.isEmpty(), qPrintable(mismatches.join(QLatin1Char('\n'))));
  }

  // The scanner reads exactly the files git considers untracked and not
  // ignored (with our own default excludes off).
  void scannerMatchesGitLsFiles() {
    const QString root = makeRuleTree();
    ScanOptions options;
    options.defaultExcludes = false;
    options.maxFileBytes = 1 << 30;
    const ScanResult scan = scanFolder(root, options);
    QStringList ours;
    for (const ScannedFile& f : scan.files) ours.append(f.relativePath);
    ours.sort();

    const ProcessResult r = git(root, {QStringLiteral("ls-files"), QStringLiteral("--others"),
                                       QStringLiteral("--exclude-standard")});
    QCOMPARE(r.exitCode, 0);
    QStringList theirs = QString::fromUtf8(r.out).split(QLatin1Char('\n'), Qt::SkipEmptyParts);
    theirs.sort();
    QCOMPARE(ours, theirs);

    // Excluded folders are reported once, with the rule that excluded them,
    // and never entered.
    bool sawBuild = false;
    for (const ScannedExclusion& e : scan.exclusions) {
      QVERIFY2(!e.relativePath.startsWith(QLatin1String("build/")), qPrintable(e.relativePath));
      if (e.relativePath == QLatin1String("build")) {
        sawBuild = true;
        QVERIFY(e.isDirectory);
        QCOMPARE(e.category, ExcludeCategory::Gitignore);
        QCOMPARE(e.reason, QStringLiteral(".gitignore:4: build/"));
      }
    }
    QVERIFY(sawBuild);
  }

  // A folder inside a working tree: the .gitignore files above it apply.
  void rulesAboveTheRootApply() {
    const QString root = makeRuleTree();
    const ScanResult scan = scanFolder(root + QStringLiteral("/sub"), ScanOptions{true, false, 1 << 30});
    QStringList ours;
    for (const ScannedFile& f : scan.files) ours.append(QStringLiteral("sub/") + f.relativePath);
    ours.sort();
    const ProcessResult r = git(root, {QStringLiteral("ls-files"), QStringLiteral("--others"),
                                       QStringLiteral("--exclude-standard"), QStringLiteral("--"), QStringLiteral("sub")});
    QStringList theirs = QString::fromUtf8(r.out).split(QLatin1Char('\n'), Qt::SkipEmptyParts);
    theirs.sort();
    QCOMPARE(ours, theirs);
  }

  void defaultExcludes() {
    const QString root = freshDir(QStringLiteral("defaults"));
    const auto file = [&](const QString& rel, const QByteArray& content) {
      writeFile(root + QLatin1Char('/') + rel, content);
    };
    file(QStringLiteral("src/main.cpp"), "int main() {}\n");
    file(QStringLiteral("node_modules/lib/index.js"), "module.exports = 1;\n");
    file(QStringLiteral("mybuild/CMakeCache.txt"), "CMAKE_BUILD_TYPE:STRING=Release\n");
    file(QStringLiteral("mybuild/gen.cpp"), "int generated;\n");
    file(QStringLiteral("env/pyvenv.cfg"), "home = /usr/bin\n");
    file(QStringLiteral("env/lib/site.py"), "x = 1\n");
    file(QStringLiteral("dist/app.js"), "bundle\n");
    file(QStringLiteral("src/__pycache__/m.cpython-311.pyc"), "cache\n");
    file(QStringLiteral("assets/logo.png"), QByteArray("\x89PNG\r\n\x1a\n\0\0\0\rIHDR", 16));
    file(QStringLiteral("data/big.txt"), QByteArray(3000, 'a'));
    file(QStringLiteral("web/app.min.js"), "var a=1;\n");
    file(QStringLiteral("package-lock.json"), "{}\n");
    file(QStringLiteral(".git/HEAD"), "ref: refs/heads/main\n");
    file(QStringLiteral("README.md"), "# readme\n");
    QVERIFY(QFile::link(root + QStringLiteral("/src/main.cpp"), root + QStringLiteral("/link.cpp")));

    const ScanResult scan = scanFolder(root, ScanOptions{true, true, 2048});
    QStringList files;
    for (const ScannedFile& f : scan.files) files.append(f.relativePath);
    QCOMPARE(files, (QStringList{QStringLiteral("README.md"), QStringLiteral("src/main.cpp")}));

    QHash<QString, ScannedExclusion> excluded;
    for (const ScannedExclusion& e : scan.exclusions) excluded.insert(e.relativePath, e);
    QCOMPARE(excluded.value("node_modules").reason, QStringLiteral("installed dependencies"));
    QCOMPARE(excluded.value("mybuild").reason, QStringLiteral("build output (contains CMakeCache.txt)"));
    QCOMPARE(excluded.value("env").reason, QStringLiteral("Python virtual environment (contains pyvenv.cfg)"));
    QCOMPARE(excluded.value("dist").reason, QStringLiteral("build output"));
    QCOMPARE(excluded.value("src/__pycache__").category, ExcludeCategory::Default);
    QCOMPARE(excluded.value("assets/logo.png").category, ExcludeCategory::Binary);
    QCOMPARE(excluded.value("data/big.txt").category, ExcludeCategory::TooLarge);
    QVERIFY2(excluded.value("data/big.txt").reason.contains(QLatin1String("2.9 KiB")), qPrintable(excluded.value("data/big.txt").reason));
    QCOMPARE(excluded.value("web/app.min.js").category, ExcludeCategory::Default);
    QCOMPARE(excluded.value("package-lock.json").category, ExcludeCategory::Default);
    QCOMPARE(excluded.value(".git").reason, QStringLiteral("git metadata"));
    QCOMPARE(excluded.value("link.cpp").category, ExcludeCategory::Symlink);
    // Nothing inside an excluded folder is listed on its own.
    for (const QString& path : excluded.keys()) QVERIFY2(!path.startsWith(QLatin1String("node_modules/")), qPrintable(path));
  }

  void cancelStopsTheScan() {
    const QString root = freshDir(QStringLiteral("cancel"));
    for (int i = 0; i < 50; ++i) writeFile(root + QStringLiteral("/d%1/f.txt").arg(i), "x\n");
    std::atomic<bool> cancel{true};
    const ScanResult scan = scanFolder(root, ScanOptions{}, &cancel);
    QVERIFY(scan.cancelled);
    QVERIFY(scan.files.size() < 50);
  }
};

QTEST_GUILESS_MAIN(GitignoreTest)
#include "test_gitignore.moc"
