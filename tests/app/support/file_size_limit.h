// A full disk, simulated without root or mounts: lowers this process's soft
// RLIMIT_FSIZE so that any write into a regular file at or past `bytes`
// fails with EFBIG (what a full disk or an exhausted quota looks like to the
// writer: a short write, then an error). SIGXFSZ, which the kernel sends
// with EFBIG and which would kill the process, is ignored meanwhile. The
// limit is process-wide (every thread); the destructor (or lift()) restores
// the previous soft limit and signal disposition — raising a soft limit back
// up to the hard limit needs no privilege.
#pragma once

#include <QString>
#include <sys/resource.h>

namespace sambalens_test {

class FileSizeLimit {
 public:
  explicit FileSizeLimit(qint64 bytes);
  ~FileSizeLimit();
  FileSizeLimit(const FileSizeLimit&) = delete;
  FileSizeLimit& operator=(const FileSizeLimit&) = delete;

  // Whether the limit is in force (false: error() says why it could not be set).
  bool active() const { return active_; }
  QString error() const { return error_; }
  // Restores the previous limit now ("space is available again").
  void lift();

 private:
  bool active_ = false;
  rlimit previous_{};
  void (*previousHandler_)(int) = nullptr;
  QString error_;
};

}  // namespace sambalens_test
