#include "importer_plugin.h"

namespace sambalens {

QJsonObject ImportOptions::toJson() const {
  return QJsonObject{{"maxFileBytes", maxFileBytes},
                     {"useGitignore", useGitignore},
                     {"defaultExcludes", defaultExcludes}};
}

ImportOptions ImportOptions::fromJson(const QJsonObject& o) {
  ImportOptions options;
  options.maxFileBytes = o.value("maxFileBytes").toInteger(options.maxFileBytes);
  options.useGitignore = o.value("useGitignore").toBool(options.useGitignore);
  options.defaultExcludes = o.value("defaultExcludes").toBool(options.defaultExcludes);
  return options;
}

QString ImportOptions::cacheKey() const {
  return QStringLiteral("max%1-gi%2-de%3")
      .arg(maxFileBytes)
      .arg(useGitignore ? 1 : 0)
      .arg(defaultExcludes ? 1 : 0);
}

}  // namespace sambalens
