#include "test_support.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QImage>
#include <QPainter>
#include <QPdfWriter>
#include <QProcess>
#include <QUuid>
#include <stdexcept>

namespace sambalens_test {

QString workDir() {
  QString dir = qEnvironmentVariable("SAMBALENS_TEST_WORK_DIR");
  if (dir.isEmpty()) dir = QDir::tempPath() + QStringLiteral("/sambalens-app-tests");
  QDir().mkpath(dir);
  return dir;
}

QString freshDir(const QString& name) {
  const QString dir =
      workDir() + QLatin1Char('/') + name + QLatin1Char('-') + QUuid::createUuid().toString(QUuid::Id128).left(12);
  QDir(dir).removeRecursively();
  if (!QDir().mkpath(dir)) throw std::runtime_error("cannot create " + dir.toStdString());
  return dir;
}

void writeFile(const QString& path, const QByteArray& bytes) {
  QDir().mkpath(QFileInfo(path).absolutePath());
  QFile f(path);
  if (!f.open(QIODevice::WriteOnly) || f.write(bytes) != bytes.size()) {
    throw std::runtime_error("cannot write " + path.toStdString());
  }
}

QByteArray readFile(const QString& path) {
  QFile f(path);
  if (!f.open(QIODevice::ReadOnly)) throw std::runtime_error("cannot read " + path.toStdString());
  return f.readAll();
}

ProcessResult runProcess(const QString& program, const QStringList& arguments, const QString& workingDirectory,
                         const QByteArray& input, int timeoutMs, const QStringList& extraEnvironment) {
  QProcess p;
  if (!workingDirectory.isEmpty()) p.setWorkingDirectory(workingDirectory);
  if (!extraEnvironment.isEmpty()) {
    QStringList env = QProcess::systemEnvironment();
    env += extraEnvironment;
    p.setEnvironment(env);
  }
  p.start(program, arguments);
  ProcessResult r;
  if (!p.waitForStarted(10000)) {
    r.err = ("cannot start " + program + ": " + p.errorString()).toUtf8();
    return r;
  }
  if (!input.isEmpty()) p.write(input);
  p.closeWriteChannel();
  if (!p.waitForFinished(timeoutMs)) {
    r.timedOut = true;
    p.kill();
    p.waitForFinished(5000);
  }
  r.crashed = p.exitStatus() == QProcess::CrashExit;
  r.exitCode = p.exitCode();
  r.out = p.readAllStandardOutput();
  r.err = p.readAllStandardError();
  return r;
}

void makeTextPdf(const QString& path, const QStringList& pages) {
  QPdfWriter writer(path);
  writer.setResolution(72);
  writer.setPageSize(QPageSize(QPageSize::A4));
  QPainter painter(&writer);
  QFont font(QStringLiteral("DejaVu Sans"));
  font.setPointSize(11);
  painter.setFont(font);
  for (int i = 0; i < pages.size(); ++i) {
    if (i > 0) writer.newPage();
    int y = 60;
    for (const QString& line : pages[i].split(QLatin1Char('\n'))) {
      painter.drawText(50, y, line);
      y += 18;
    }
  }
  painter.end();
  if (!QFileInfo(path).isFile()) throw std::runtime_error("QPdfWriter wrote nothing: " + path.toStdString());
}

void makeImageOnlyPdf(const QString& path, int pages) {
  QPdfWriter writer(path);
  writer.setResolution(72);
  QPainter painter(&writer);
  QImage image(200, 120, QImage::Format_RGB32);
  for (int i = 0; i < pages; ++i) {
    if (i > 0) writer.newPage();
    image.fill(QColor::fromHsv((i * 60) % 360, 200, 220));
    painter.drawImage(QRect(50, 50, 400, 240), image);
  }
  painter.end();
}

void encryptPdf(const QString& in, const QString& out, const QString& userPassword) {
  const ProcessResult r = runProcess(QStringLiteral(SAMBALENS_TEST_QPDF),
                                     {QStringLiteral("--encrypt"), userPassword, QStringLiteral("owner-secret"),
                                      QStringLiteral("256"), QStringLiteral("--"), in, out});
  // qpdf exits 3 for warnings, with a usable output.
  if (r.exitCode != 0 && r.exitCode != 3) {
    throw std::runtime_error("qpdf --encrypt failed (is Debian's qpdf installed?): " + r.err.toStdString());
  }
}

void truncateCopy(const QString& in, const QString& out, double fraction) {
  const QByteArray bytes = readFile(in);
  writeFile(out, bytes.left(qsizetype(bytes.size() * fraction)));
}

}  // namespace sambalens_test
