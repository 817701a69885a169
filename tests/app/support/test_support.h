// Helpers shared by the app tests: scratch folders, files, child
// processes, and PDFs made during the test (QPdfWriter, qpdf).
#pragma once

#include <QByteArray>
#include <QString>
#include <QStringList>

namespace sambalens_test {

// SAMBALENS_TEST_WORK_DIR (set by ctest) or the system temp folder.
QString workDir();
// A new empty folder under workDir() whose name starts with `name`.
QString freshDir(const QString& name);

void writeFile(const QString& path, const QByteArray& bytes);
QByteArray readFile(const QString& path);

struct ProcessResult {
  int exitCode = -1;
  bool crashed = false;
  bool timedOut = false;
  QByteArray out;
  QByteArray err;
};
ProcessResult runProcess(const QString& program, const QStringList& arguments,
                         const QString& workingDirectory = QString(), const QByteArray& input = QByteArray(),
                         int timeoutMs = 120000, const QStringList& extraEnvironment = {});

// A PDF with one page per entry of `pages`, each page's text drawn as lines.
void makeTextPdf(const QString& path, const QStringList& pages);
// A PDF whose pages hold only a picture (no text layer).
void makeImageOnlyPdf(const QString& path, int pages);
// Encrypts with qpdf (AES-256) so that opening needs `userPassword`.
void encryptPdf(const QString& in, const QString& out, const QString& userPassword);
// Keeps the first `fraction` of a file's bytes.
void truncateCopy(const QString& in, const QString& out, double fraction);

}  // namespace sambalens_test
