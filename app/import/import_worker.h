// The import worker: `sambalens --import-worker` reads one JSON request line
// on stdin and answers with JSON lines on stdout, one event per line:
//   request: {"paths": [...], "indices": [...], "options": {...}, "importerDirs": [...]}
//   {"event":"start","index":i,"path":p}
//   {"event":"progress","index":i,"done":d,"total":t,"detail":"page 3 of 12"}
//   {"event":"document","index":i,"document":{...ImportedDocument...}}
//   {"event":"done"}
// Running parsers in their own process means a file that crashes poppler
// ends this process only; the app reports that file and starts a new worker
// for the rest.
#pragma once

#include <QByteArray>
#include <QIODevice>

namespace sambalens {

// Serves one request line, writing the events to `out`; returns the
// process exit code.
int runImportWorker(const QByteArray& requestLine, QIODevice& out);
// Reads the request line from stdin and answers on stdout.
int runImportWorkerOnStdio();

}  // namespace sambalens
