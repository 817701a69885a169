#include "file_size_limit.h"

#include <signal.h>

#include <cerrno>
#include <cstring>

namespace sambalens_test {

FileSizeLimit::FileSizeLimit(qint64 bytes) {
  if (::getrlimit(RLIMIT_FSIZE, &previous_) != 0) {
    error_ = QStringLiteral("getrlimit(RLIMIT_FSIZE): %1").arg(QString::fromLocal8Bit(std::strerror(errno)));
    return;
  }
  previousHandler_ = ::signal(SIGXFSZ, SIG_IGN);
  rlimit lowered = previous_;
  lowered.rlim_cur = rlim_t(bytes);
  if (previous_.rlim_max != RLIM_INFINITY && lowered.rlim_cur > previous_.rlim_max) lowered.rlim_cur = previous_.rlim_max;
  if (::setrlimit(RLIMIT_FSIZE, &lowered) != 0) {
    error_ = QStringLiteral("setrlimit(RLIMIT_FSIZE, %1): %2").arg(bytes).arg(QString::fromLocal8Bit(std::strerror(errno)));
    ::signal(SIGXFSZ, previousHandler_);
    return;
  }
  active_ = true;
}

FileSizeLimit::~FileSizeLimit() { lift(); }

void FileSizeLimit::lift() {
  if (!active_) return;
  active_ = false;
  if (::setrlimit(RLIMIT_FSIZE, &previous_) != 0) {
    // Every later file write of the test would fail: stop here, loudly.
    qFatal("cannot restore RLIMIT_FSIZE: %s", std::strerror(errno));
  }
  ::signal(SIGXFSZ, previousHandler_);
}

}  // namespace sambalens_test
