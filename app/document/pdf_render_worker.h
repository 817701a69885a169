// The PDF render worker: `sambalens-pdf-render`, a small program installed
// next to `sambalens`. It opens one PDF with poppler and answers "draw page i
// at d dpi" requests with the page's pixels (pdf_render_protocol.h), one
// request at a time, until its stdin closes. PdfRenderClient starts one per
// document view and restarts it when it crashes or hangs, so a PDF that
// crashes poppler while drawing costs a page, not the window.
//
// Test builds only (the executable `sambalens_pdf_render_test_worker` of
// tests/app, compiled with SAMBALENS_PDF_RENDER_TEST_HOOKS): the environment
// variable SAMBALENS_PDF_RENDER_CRASH_PAGE=N makes it abort half-way through
// writing its answer for 1-based page N, and SAMBALENS_PDF_RENDER_HANG_PAGE=N
// makes it stop answering on page N. The installed worker ignores both.
#pragma once

#include <cstdio>

namespace sambalens {

// Serves requests read from `in`, writing frames to file descriptor
// `outFd`; returns the exit code (0 when `in` ends).
int runPdfRenderWorker(std::FILE* in, int outFd);

}  // namespace sambalens
