// The headless commands on tiny models: `sambalens passkey` writes a CSV
// with one row per cell and a valid PNG, prints the grid, and saves the
// sweep where the window finds it; `sambalens entropy` on a model with
// uniform attention writes per-position values equal to ln(min(i+1, W));
// bad arguments fail with one clear line before any work.
#include <QImage>
#include <QTest>
#include <cmath>

#include "insight_store.h"
#include "insight_test_support.h"
#include "test_support.h"
#include "tiny_model.h"

using namespace sambalens;
using namespace sambalens_test;

namespace {

QStringList dataEnv(const QString& dir) { return {QStringLiteral("SAMBALENS_DATA_DIR=") + dir}; }

QList<QStringList> csvRows(const QString& path) {
  QList<QStringList> rows;
  for (const QByteArray& line : readFile(path).split('\n')) {
    if (!line.isEmpty()) rows.append(QString::fromUtf8(line).split(QLatin1Char(',')));
  }
  return rows;
}

}  // namespace

class InsightHeadlessTest : public QObject {
  Q_OBJECT

 private slots:
  void initTestCase() { model_ = makeTinyModel(); }

  void passkeyWritesCsvPngAndSavesTheSweep() {
    const QString dir = freshDir("headless-passkey");
    const ProcessResult r = runProcess(
        SAMBALENS_TEST_BINARY,
        {"passkey", "--model", model_, "--backend", "cpu", "--lengths", "256,512", "--depths", "0,50%,1", "--trials",
         "2", "--answer-tokens", "4", "--csv", dir + "/sweep.csv", "--png", dir + "/sweep.png"},
        QString(), QByteArray(), 300000, dataEnv(dir + "/data"));
    QVERIFY2(r.exitCode == 0, r.err.constData());
    // CSV: a header and one row per (length, depth) cell, lengths then depths ascending.
    const QList<QStringList> rows = csvRows(dir + "/sweep.csv");
    QCOMPARE(rows.size(), 1 + 6);
    QCOMPARE(rows[0], (QStringList{"length", "depth", "trials", "correct", "accuracy", "wrong_answers"}));
    const QList<QPair<QString, QString>> cells = {{"256", "0"}, {"256", "0.5"}, {"256", "1"},
                                                  {"512", "0"}, {"512", "0.5"}, {"512", "1"}};
    for (int i = 0; i < 6; ++i) {
      QCOMPARE(rows[i + 1][0], cells[i].first);
      QCOMPARE(rows[i + 1][1], cells[i].second);
      QCOMPARE(rows[i + 1][2], QStringLiteral("2"));
      const int correct = rows[i + 1][3].toInt();
      QVERIFY(correct >= 0 && correct <= 2);
      QCOMPARE(rows[i + 1][4].toDouble(), correct / 2.0);
    }
    // PNG: a real image of the heatmap.
    QImage png;
    QVERIFY(png.load(dir + "/sweep.png", "PNG"));
    QVERIFY(png.width() >= 500 && png.height() >= 300);
    QVERIFY(readFile(dir + "/sweep.png").startsWith("\x89PNG\r\n\x1a\n"));
    // The grid on stdout, 0% first.
    const QString out = QString::fromUtf8(r.out);
    QVERIFY2(out.startsWith("depth \\ length\t256\t512\n0%\t"), r.out.constData());
    QVERIFY2(r.err.contains("prefix reuse"), r.err.constData());
    // Saved where the window looks (SAMBALENS_DATA_DIR/sessions.sqlite).
    InsightStore store;
    QVERIFY(store.open(dir + "/data/sessions.sqlite"));
    const QList<InsightRunSummary> runs = store.runs();
    QCOMPARE(runs.size(), 1);
    const auto sweep = store.passkeySweep(runs[0].id);
    QVERIFY(sweep);
    QCOMPARE(sweep->trials.size(), 12);
    QCOMPARE(sweep->model.window, 16);
  }

  void entropyOfUniformAttentionIsTheMaximum() {
    const QString uniform = sambalens_insight_test::uniformAttentionModel(model_);
    const QString dir = freshDir("headless-entropy");
    QString text;
    for (int i = 0; i < 12; ++i) text += QStringLiteral("Line %1 of the document: the value is %2.\n").arg(i).arg(i * 37);
    writeFile(dir + "/doc.txt", text.toUtf8());
    const ProcessResult r = runProcess(SAMBALENS_TEST_BINARY,
                                       {"entropy", dir + "/doc.txt", "--model", uniform, "--backend", "cpu",
                                        "--buckets", "4096", "--csv", dir + "/entropy.csv", "--png",
                                        dir + "/entropy.png", "--surprisal-csv", dir + "/surprisal.csv", "--no-save"},
                                       QString(), QByteArray(), 300000, dataEnv(dir + "/data"));
    QVERIFY2(r.exitCode == 0, r.err.constData());
    const QList<QStringList> rows = csvRows(dir + "/entropy.csv");
    QCOMPARE(rows[0], (QStringList{"layer", "head", "position_from", "position_to", "mean_nats", "min_nats",
                                   "max_nats", "max_possible_nats", "normalised"}));
    // The token count, from the summary on stdout ("... over N tokens, window 16").
    const QString out = QString::fromUtf8(r.out);
    const qsizetype over = out.indexOf(QStringLiteral(" over "));
    QVERIFY2(over > 0, r.out.constData());
    const int n = out.mid(over + 6).section(QLatin1Char(' '), 0, 0).toInt();
    QVERIFY2(n > 60, r.out.constData());
    // The surprisal CSV has one record per token (texts with newlines are quoted).
    const QByteArray surprisal = readFile(dir + "/surprisal.csv");
    QVERIFY(surprisal.startsWith("index,char_from,char_to,surprisal_nats,text\n0,0,"));
    QVERIFY(surprisal.contains(QStringLiteral("\n%1,").arg(n - 1).toUtf8()));
    QVERIFY(!surprisal.contains(QStringLiteral("\n%1,").arg(n).toUtf8()));
    // One row per SWA layer x head x position (tiny model: 1 SWA layer, 2 heads).
    QCOMPARE(rows.size(), 1 + 1 * 2 * n);
    for (int k = 1; k < rows.size(); ++k) {
      const QStringList& row = rows[k];
      QCOMPARE(row[0], QStringLiteral("1"));
      const int position = row[2].toInt();
      QCOMPARE(row[3].toInt(), position + 1);
      const double expected = std::log(double(std::min(position + 1, 16)));
      QVERIFY2(std::abs(row[4].toDouble() - expected) < 1e-4,
               qPrintable(QStringLiteral("position %1: %2 vs %3").arg(position).arg(row[4]).arg(expected)));
      QVERIFY(std::abs(row[7].toDouble() - expected) < 1e-7);
      if (position > 0) QVERIFY(std::abs(row[8].toDouble() - 1.0) < 1e-4);
    }
    QImage png;
    QVERIFY(png.load(dir + "/entropy.png", "PNG"));
    QVERIFY(png.width() >= 900);
    QVERIFY2(!r.err.contains("saved the entropy run"), r.err.constData());  // --no-save
    QVERIFY(!QFileInfo::exists(dir + "/data/sessions.sqlite"));
  }

  void badArgumentsFailBeforeAnyWork_data() {
    QTest::addColumn<QStringList>("args");
    QTest::addColumn<int>("exitCode");
    QTest::addColumn<QString>("message");
    QTest::addRow("bad length") << QStringList{"passkey", "--lengths", "1K,abc"} << 1 << "\"abc\" is not a length";
    QTest::addRow("bad depth") << QStringList{"passkey", "--depths", "0,150%"} << 1 << "\"150%\" is not a depth";
    QTest::addRow("zero trials") << QStringList{"passkey", "--trials", "0"} << 1 << "trials must be between";
    QTest::addRow("no such model") << QStringList{"passkey", "--model", "/nonexistent/model"} << 2 << "no such folder";
    QTest::addRow("csv folder missing") << QStringList{"passkey", "--csv", "/nonexistent/dir/x.csv"} << 1
                                        << "does not exist";
    QTest::addRow("entropy without file") << QStringList{"entropy"} << 1 << "entropy takes one FILE";
    QTest::addRow("entropy missing file") << QStringList{"entropy", "/nonexistent.txt"} << 1 << "no such file";
    QTest::addRow("passkey option on entropy") << QStringList{"entropy", "/etc/hostname", "--trials", "3"} << 1
                                               << "--trials is for `passkey`";
  }
  void badArgumentsFailBeforeAnyWork() {
    QFETCH(QStringList, args);
    QFETCH(int, exitCode);
    QFETCH(QString, message);
    const QString dir = freshDir("headless-bad");
    const ProcessResult r =
        runProcess(SAMBALENS_TEST_BINARY, args, QString(), QByteArray(), 60000, dataEnv(dir + "/data"));
    QCOMPARE(r.exitCode, exitCode);
    QVERIFY2(QString::fromUtf8(r.err).contains(message), r.err.constData());
  }

  void helpListsTheInsightCommands() {
    const ProcessResult r = runProcess(SAMBALENS_TEST_BINARY, {"--help"});
    QCOMPARE(r.exitCode, 0);
    QVERIFY(r.out.contains("passkey [--lengths") && r.out.contains("entropy FILE"));
  }

 private:
  QString model_;
};

QTEST_GUILESS_MAIN(InsightHeadlessTest)
#include "test_insight_headless.moc"
