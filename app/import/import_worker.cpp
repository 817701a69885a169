#include "import_worker.h"

#include <QElapsedTimer>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <cstdio>

#include "import_one.h"
#include "plugin_registry.h"

namespace sambalens {

namespace {
void writeEvent(QIODevice& out, const QJsonObject& event) {
  out.write(QJsonDocument(event).toJson(QJsonDocument::Compact));
  out.write("\n");
  if (auto* file = qobject_cast<QFile*>(&out)) file->flush();
}
}  // namespace

int runImportWorker(const QByteArray& line, QIODevice& out) {
  QJsonParseError parseError;
  const QJsonDocument request = QJsonDocument::fromJson(line, &parseError);
  if (!request.isObject()) {
    writeEvent(out, QJsonObject{{"event", "fatal"},
                                {"message", QStringLiteral("import worker: bad request: %1")
                                                .arg(parseError.errorString())}});
    return 2;
  }
  const QJsonObject r = request.object();
  QStringList dirs;
  for (const QJsonValue& v : r.value("importerDirs").toArray()) dirs.append(v.toString());
  const PluginRegistry registry(dirs.isEmpty() ? PluginRegistry::defaultDirectories() : dirs);
  const ImportOptions options = ImportOptions::fromJson(r.value("options").toObject());
  const QJsonArray paths = r.value("paths").toArray();
  // The caller's numbering of these paths (a retry after a crash sends only
  // the files not yet done).
  const QJsonArray indices = r.value("indices").toArray();

  for (int i = 0; i < paths.size(); ++i) {
    const int index = i < indices.size() ? indices[i].toInt() : i;
    const QString path = paths[i].toString();
    writeEvent(out, QJsonObject{{"event", "start"}, {"index", index}, {"path", path}});
    QElapsedTimer sinceLast;  // invalid until the first event, which always goes
    // Progress is throttled to ~20 events/s, always sending the last one.
    const ImportContext context(
        [&](int done, int total, const QString& detail) {
          if (sinceLast.isValid() && done != total && sinceLast.elapsed() < 50) return;
          sinceLast.start();
          writeEvent(out, QJsonObject{{"event", "progress"},
                                      {"index", index},
                                      {"done", done},
                                      {"total", total},
                                      {"detail", detail}});
        },
        nullptr);
    const ImportedDocument doc = importOne(registry, path, options, context);
    writeEvent(out, QJsonObject{{"event", "document"}, {"index", index}, {"document", doc.toJson()}});
  }
  writeEvent(out, QJsonObject{{"event", "done"}});
  return 0;
}

int runImportWorkerOnStdio() {
  // Plain stdio for the request: QFile on a pipe cannot wait for data.
  QByteArray line;
  char buffer[65536];
  while (!line.endsWith('\n') && std::fgets(buffer, sizeof buffer, stdin)) line += buffer;
  QFile out;
  if (!out.open(stdout, QIODevice::WriteOnly)) return 2;
  return runImportWorker(line, out);
}

}  // namespace sambalens
