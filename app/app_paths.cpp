#include "app_paths.h"

#include <QCoreApplication>
#include <QDir>
#include <QFileInfo>

namespace sambalens {

void applyApplicationIdentity() {
  QCoreApplication::setOrganizationName(QString());
  QCoreApplication::setApplicationName(QStringLiteral("SambaLens"));
#ifdef SAMBALENS_VERSION
  QCoreApplication::setApplicationVersion(QStringLiteral(SAMBALENS_VERSION));
#endif
}

QStringList defaultModelCandidates() {
  QStringList candidates;
  const QString env = qEnvironmentVariable("SAMBALENS_MODEL");
  if (!env.isEmpty()) candidates.append(env);
  const QString name = QString::fromLatin1(kDefaultModelName);
  if (QCoreApplication::instance()) {
    const QDir bin(QCoreApplication::applicationDirPath());
    candidates.append(bin.absoluteFilePath(QStringLiteral("../share/sambalens/models/") + name));
    candidates.append(bin.absoluteFilePath(QStringLiteral("../resources/models/") + name));
    candidates.append(bin.absoluteFilePath(QStringLiteral("../../resources/models/") + name));
  }
#ifdef SAMBALENS_SOURCE_DIR
  candidates.append(QStringLiteral(SAMBALENS_SOURCE_DIR "/resources/models/") + name);
#endif
  QStringList clean;
  for (const QString& c : candidates) {
    const QString p = QDir::cleanPath(c);
    if (!clean.contains(p)) clean.append(p);
  }
  return clean;
}

QString findDefaultModel() {
  for (const QString& c : defaultModelCandidates()) {
    if (QFileInfo::exists(c + QStringLiteral("/config.json"))) return c;
  }
  return {};
}

QString missingDefaultModelMessage() {
  return QStringLiteral(
             "the default model (%1) was not found; looked in: %2. Pass a model folder with "
             "--model DIR (config.json, *.safetensors and tokenizer.model) or set SAMBALENS_MODEL")
      .arg(QString::fromLatin1(kDefaultModelName), defaultModelCandidates().join(QStringLiteral(", ")));
}

bool hasDisplay() {
  return !qEnvironmentVariableIsEmpty("DISPLAY") || !qEnvironmentVariableIsEmpty("WAYLAND_DISPLAY") ||
         !qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM");
}

}  // namespace sambalens
