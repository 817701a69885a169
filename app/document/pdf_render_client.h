// Draws the pages of one PDF in a worker process (`sambalens-pdf-render`,
// pdf_render_worker.h), so that a PDF which crashes or hangs poppler while
// drawing costs that page, not the app. Every call returns at once; answers
// come as signals from the event loop of the thread this object lives in.
//
// One worker per client, started lazily by open() and kept for every page of
// the document. When it crashes, the page it was drawing is tried once more
// in a fresh worker (the other pending pages are sent again); a page that
// crashes it twice, or that it hangs on (no answer within the timeout), gets
// renderFailed with a message saying so and is not sent again while this
// document is open.
#pragma once

#include <QHash>
#include <QList>
#include <QObject>
#include <QProcess>
#include <QSizeF>
#include <QStringList>
#include <QTimer>

#include "pdf_render_protocol.h"

namespace sambalens {

class PdfRenderClient : public QObject {
  Q_OBJECT

 public:
  explicit PdfRenderClient(QObject* parent = nullptr);
  ~PdfRenderClient() override;

  // $SAMBALENS_PDF_RENDER_WORKER, else `sambalens-pdf-render` next to this
  // executable, else the one in the build tree.
  static QString defaultWorkerProgram();
  void setWorkerProgram(const QString& program, const QStringList& arguments = {});
  // How long the worker may go without sending a byte while it owes an answer.
  void setTimeout(int milliseconds) { timeoutMs_ = milliseconds; }
  int timeout() const { return timeoutMs_; }

  // Opens `path` (replacing any document): emits opened or openFailed.
  void open(const QString& path);
  // Draws page `pageIndex` (0-based) at `dpi`: emits rendered or renderFailed.
  // Requests are answered in the order they were made.
  void render(int pageIndex, double dpi);
  // Closes the document and ends the worker.
  void close();

  // How many worker processes this client has started (for the tests).
  int workersStarted() const { return workersStarted_; }

 signals:
  // Page sizes in points (1/72 inch).
  void opened(const QList<QSizeF>& pageSizes);
  void openFailed(const QString& message);
  void rendered(int pageIndex, double dpi, const QImage& image);
  void renderFailed(int pageIndex, const QString& message);

 private:
  struct Request {
    quint64 id = 0;
    bool isOpen = false;
    bool wantSizes = false;  // the first open lists the page sizes; a reopen does not
    int pageIndex = -1;
    double dpi = 0;
  };
  bool startWorker();  // false (startError_ set) when it failed at once
  void send(const Request& request);
  void onOutput();
  void onFrame(const pdfrender::FrameReader::Frame& frame);
  void onWorkerFinished(int exitCode, QProcess::ExitStatus status);
  void onWorkerError(QProcess::ProcessError error);
  void onTimeout();
  // The worker is gone (`why`: "crashed", "stopped responding …"); answers
  // for the request it was on and sends the rest to a new worker.
  void workerLost(const QString& why, bool hung);
  void failEverything(const QString& message);
  void stopWorker();

  QString program_;
  QStringList arguments_;
  int timeoutMs_ = 30000;
  QString path_;
  QString fileName_;
  QProcess* worker_ = nullptr;
  pdfrender::FrameReader reader_;
  QList<Request> sent_;        // sent to the worker, not answered yet, in order
  quint64 nextId_ = 1;
  QHash<int, int> crashes_;    // page index → workers it has crashed
  QHash<int, QString> givenUp_;  // page index → why it is not drawn any more
  QString dead_;               // why nothing of this document can be drawn
  QString startError_;
  QTimer timer_;
  int workersStarted_ = 0;
};

}  // namespace sambalens
