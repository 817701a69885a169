// `sambalens-pdf-render`: the PDF render worker (see pdf_render_worker.h).
// Started by the app with pipes on stdin and stdout; not meant to be run by
// hand.
#include <fcntl.h>
#include <unistd.h>

#include <cstdio>

#include "pdf_render_worker.h"

int main() {
  // The frames go to a private copy of stdout; anything a library prints
  // there (a stray debug line) goes to stderr instead of tearing a frame.
  const int protocolFd = ::dup(STDOUT_FILENO);
  if (protocolFd < 0 || ::dup2(STDERR_FILENO, STDOUT_FILENO) < 0) {
    std::perror("sambalens-pdf-render: cannot set up its output");
    return 2;
  }
  // A page is megabytes: a 1 MiB pipe (the usual limit for unprivileged
  // processes) rather than 64 KiB means far fewer wake-ups per page. Only a
  // speed-up; the default size works too.
  ::fcntl(protocolFd, F_SETPIPE_SZ, 1 << 20);
  return sambalens::runPdfRenderWorker(stdin, protocolFd);
}
