#include "pdf_render_client.h"

#include <QCoreApplication>
#include <QDir>
#include <QFileInfo>

namespace sambalens {

namespace {
constexpr const char* kWorkerName = "sambalens-pdf-render";
}  // namespace

PdfRenderClient::PdfRenderClient(QObject* parent) : QObject(parent), timer_(this) {
  program_ = defaultWorkerProgram();
  timer_.setSingleShot(true);
  connect(&timer_, &QTimer::timeout, this, &PdfRenderClient::onTimeout);
}

PdfRenderClient::~PdfRenderClient() {
  stopWorker();
  // The worker and any killed one not yet reaped: wait for them here (they
  // were killed, so it is brief) rather than leave QProcess to complain.
  for (QProcess* process : findChildren<QProcess*>(Qt::FindDirectChildrenOnly)) {
    process->disconnect(this);
    if (process->state() != QProcess::NotRunning) {
      process->kill();
      process->waitForFinished(2000);
    }
  }
}

QString PdfRenderClient::defaultWorkerProgram() {
  const QString env = qEnvironmentVariable("SAMBALENS_PDF_RENDER_WORKER");
  if (!env.isEmpty()) return env;
  if (QCoreApplication::instance()) {
    const QString beside = QDir(QCoreApplication::applicationDirPath()).absoluteFilePath(QLatin1String(kWorkerName));
    if (QFileInfo(beside).isExecutable()) return beside;
  }
#ifdef SAMBALENS_BUILD_BIN_DIR
  const QString built = QDir(QStringLiteral(SAMBALENS_BUILD_BIN_DIR)).absoluteFilePath(QLatin1String(kWorkerName));
  if (QFileInfo(built).isExecutable()) return built;
#endif
  return QLatin1String(kWorkerName);  // let QProcess look on PATH (and say so if it fails)
}

void PdfRenderClient::setWorkerProgram(const QString& program, const QStringList& arguments) {
  program_ = program;
  arguments_ = arguments;
}

void PdfRenderClient::open(const QString& path) {
  close();
  path_ = path;
  fileName_ = QFileInfo(path).fileName();
  Request request;
  request.id = nextId_++;
  request.isOpen = true;
  request.wantSizes = true;
  if (!startWorker()) {
    dead_ = tr("%1: %2").arg(fileName_, startError_);
    emit openFailed(dead_);
    return;
  }
  send(request);
}

void PdfRenderClient::render(int pageIndex, double dpi) {
  if (path_.isEmpty() || !dead_.isEmpty()) {
    emit renderFailed(pageIndex, dead_.isEmpty() ? tr("no document is open") : dead_);
    return;
  }
  if (givenUp_.contains(pageIndex)) {
    emit renderFailed(pageIndex, givenUp_.value(pageIndex));
    return;
  }
  if (!worker_) {
    // The last worker crashed with nothing else to do: a new one reopens the file.
    if (!startWorker()) {
      emit renderFailed(pageIndex, tr("this page could not be drawn: %1").arg(startError_));
      return;
    }
    Request reopen;
    reopen.id = nextId_++;
    reopen.isOpen = true;
    send(reopen);
  }
  Request request;
  request.id = nextId_++;
  request.pageIndex = pageIndex;
  request.dpi = dpi;
  send(request);
}

void PdfRenderClient::close() {
  stopWorker();
  sent_.clear();
  crashes_.clear();
  givenUp_.clear();
  dead_.clear();
  path_.clear();
  fileName_.clear();
}

bool PdfRenderClient::startWorker() {
  stopWorker();
  reader_.reset();
  worker_ = new QProcess(this);
  worker_->setProgram(program_);
  worker_->setArguments(arguments_);
  worker_->setProcessChannelMode(QProcess::ForwardedErrorChannel);
  connect(worker_, &QProcess::readyReadStandardOutput, this, &PdfRenderClient::onOutput);
  connect(worker_, &QProcess::finished, this, &PdfRenderClient::onWorkerFinished);
  connect(worker_, &QProcess::errorOccurred, this, &PdfRenderClient::onWorkerError);
  ++workersStarted_;
  startError_.clear();
  // Asynchronous: requests written now wait in the pipe until it runs. A
  // program that cannot be found may fail at once (onWorkerError, worker_ null).
  worker_->start();
  return worker_ != nullptr;
}

void PdfRenderClient::send(const Request& request) {
  if (!worker_) return;
  if (sent_.isEmpty()) timer_.start(timeoutMs_);
  sent_.append(request);
  worker_->write(request.isOpen ? pdfrender::openRequest(request.id, path_, request.wantSizes)
                                : pdfrender::renderRequest(request.id, request.pageIndex, request.dpi));
}

void PdfRenderClient::onOutput() {
  if (!worker_) return;
  QProcess* worker = worker_;
  if (!sent_.isEmpty()) timer_.start(timeoutMs_);  // it is alive and answering
  const QList<pdfrender::FrameReader::Frame> frames =
      reader_.take([worker](char* data, qint64 size) { return worker->read(data, size); });
  for (const pdfrender::FrameReader::Frame& frame : frames) {
    onFrame(frame);
    if (worker_ != worker) return;  // a frame ended this worker (a failed reopen)
  }
  if (!reader_.error().isEmpty()) {
    workerLost(tr("sent a broken answer (%1)").arg(reader_.error()), false);
  }
}

void PdfRenderClient::onFrame(const pdfrender::FrameReader::Frame& frame) {
  const quint64 id = quint64(frame.header.value("id").toInteger());
  // The worker answers in order; an answer to nothing we asked is ignored.
  if (sent_.isEmpty() || sent_.front().id != id) return;
  const Request request = sent_.takeFirst();
  if (sent_.isEmpty()) {
    timer_.stop();
  } else {
    timer_.start(timeoutMs_);
  }
  const QString event = frame.header.value("event").toString();
  const QString message = frame.header.value("message").toString();
  if (request.isOpen) {
    if (event == QLatin1String("opened")) {
      if (request.wantSizes) emit opened(pdfrender::pageSizesFrom(frame.header));
      return;
    }
    if (request.wantSizes) {
      stopWorker();
      sent_.clear();
      dead_ = message;
      emit openFailed(message);
    } else {
      // The file changed or went away since it was first opened.
      failEverything(tr("this page could not be drawn: %1").arg(message));
    }
    return;
  }
  if (event == QLatin1String("page") && !frame.image.isNull()) {
    emit rendered(request.pageIndex, request.dpi, frame.image);
  } else {
    emit renderFailed(request.pageIndex,
                      message.isEmpty() ? tr("page %1 of %2 could not be drawn").arg(request.pageIndex + 1).arg(fileName_)
                                        : message);
  }
}

void PdfRenderClient::onWorkerFinished(int exitCode, QProcess::ExitStatus status) {
  if (!worker_) return;
  onOutput();  // what it said before it ended
  if (!worker_) return;
  if (sent_.isEmpty()) {
    // Ended between requests (killed from outside, say): the next request starts another.
    stopWorker();
    return;
  }
  workerLost(status == QProcess::CrashExit ? tr("stopped (crashed)") : tr("stopped (exit code %1)").arg(exitCode),
             false);
}

void PdfRenderClient::onWorkerError(QProcess::ProcessError error) {
  if (!worker_ || error != QProcess::FailedToStart) return;  // crashes arrive through finished
  const QString message =
      tr("cannot start the PDF renderer %1: %2").arg(program_, worker_->errorString());
  stopWorker();
  if (sent_.isEmpty()) {  // failed inside start(): the caller reports it
    startError_ = message;
    return;
  }
  const bool opening = !sent_.isEmpty() && sent_.front().isOpen && sent_.front().wantSizes;
  if (opening) {
    sent_.clear();
    dead_ = tr("%1: %2").arg(fileName_, message);
    emit openFailed(dead_);
  } else {
    failEverything(tr("this page could not be drawn: %1").arg(message));
  }
}

void PdfRenderClient::onTimeout() {
  if (!worker_ || sent_.isEmpty()) return;
  workerLost(tr("stopped responding (no answer in %1 s)").arg(timeoutMs_ / 1000.0, 0, 'g', 3), true);
}

void PdfRenderClient::workerLost(const QString& why, bool hung) {
  stopWorker();
  if (sent_.isEmpty()) return;
  const Request failed = sent_.takeFirst();
  QList<Request> rest = sent_;
  sent_.clear();
  if (failed.isOpen) {
    const QString message = tr("%1: the PDF renderer %2 while opening the file").arg(fileName_, why);
    if (failed.wantSizes) {
      dead_ = message;
      emit openFailed(message);
    } else {
      sent_ = rest;
      failEverything(tr("this page could not be drawn: %1").arg(message));
    }
    return;
  }
  const int page = failed.pageIndex;
  const int crashes = ++crashes_[page];
  if (hung || crashes >= 2) {
    // Drawing it again would crash or hang again: say so, and never resend it.
    const QString message = tr("this page could not be drawn: the PDF renderer %1 on page %2").arg(why).arg(page + 1);
    givenUp_.insert(page, message);
    emit renderFailed(page, message);
  } else {
    rest.prepend(failed);  // once more, in a fresh worker: the crash may not be the page's fault
  }
  // The other pages go to a new worker, which reopens the document first.
  QList<Request> again;
  for (const Request& r : rest) {
    if (givenUp_.contains(r.pageIndex)) {
      emit renderFailed(r.pageIndex, givenUp_.value(r.pageIndex));
    } else if (!r.isOpen) {
      again.append(r);
    }
  }
  if (again.isEmpty()) return;  // started lazily by the next render()
  if (!startWorker()) {
    for (const Request& r : again) emit renderFailed(r.pageIndex, tr("this page could not be drawn: %1").arg(startError_));
    return;
  }
  Request reopen;
  reopen.id = nextId_++;
  reopen.isOpen = true;
  send(reopen);
  for (const Request& r : again) send(r);
}

void PdfRenderClient::failEverything(const QString& message) {
  stopWorker();
  dead_ = message;
  const QList<Request> unanswered = sent_;
  sent_.clear();
  for (const Request& r : unanswered) {
    if (!r.isOpen) emit renderFailed(r.pageIndex, message);
  }
}

void PdfRenderClient::stopWorker() {
  timer_.stop();
  if (!worker_) return;
  QProcess* worker = worker_;
  worker_ = nullptr;
  worker->disconnect(this);
  if (worker->state() == QProcess::NotRunning) {
    worker->deleteLater();
    return;
  }
  // Killed rather than asked: it may be stuck in poppler. Deleted once it has
  // been reaped, so the GUI never waits for it.
  connect(worker, &QProcess::finished, worker, &QObject::deleteLater);
  worker->kill();
}

}  // namespace sambalens
