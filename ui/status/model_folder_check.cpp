#include "model_folder_check.h"

#include <QCoreApplication>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonDocument>
#include <QJsonParseError>

namespace sambalens::ui {

namespace {
QString tr(const char* text) { return QCoreApplication::translate("ModelFolderCheck", text); }
}

QString checkModelFolder(const QString& folder) {
  const QString shown = QDir::toNativeSeparators(folder);
  const QString layout =
      tr("A model folder holds config.json, one or more *.safetensors files and tokenizer.model "
         "(SentencePiece) or tokenizer.json.");
  const QFileInfo info(folder);
  if (!info.exists()) return tr("%1 does not exist.").arg(shown);
  if (!info.isDir()) return tr("%1 is a file, not a model folder. %2").arg(shown, layout);
  const QDir dir(folder);
  QFile config(dir.filePath(QStringLiteral("config.json")));
  if (!config.exists()) return tr("%1 is not a model folder: config.json is missing. %2").arg(shown, layout);
  if (!config.open(QIODevice::ReadOnly)) {
    return tr("%1: config.json cannot be read (%2).").arg(shown, config.errorString());
  }
  QJsonParseError error;
  const QJsonDocument json = QJsonDocument::fromJson(config.read(4 * 1024 * 1024), &error);
  if (error.error != QJsonParseError::NoError || !json.isObject()) {
    return tr("%1: config.json is not a valid JSON object (%2).").arg(shown, error.errorString());
  }
  if (dir.entryList({QStringLiteral("*.safetensors")}, QDir::Files).isEmpty()) {
    return tr("%1 has no *.safetensors weights. %2").arg(shown, layout);
  }
  if (!dir.exists(QStringLiteral("tokenizer.model")) && !dir.exists(QStringLiteral("tokenizer.json"))) {
    return tr("%1 has no tokenizer (tokenizer.model or tokenizer.json). %2").arg(shown, layout);
  }
  return {};
}

}  // namespace sambalens::ui
