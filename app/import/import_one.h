// Imports one path with the best-fitting plugin; shared by the import worker
// process and the in-process fallback.
#pragma once

#include "importer_plugin.h"
#include "plugin_registry.h"

namespace sambalens {

// Never throws: every failure is a document with `error` set.
ImportedDocument importOne(const PluginRegistry& registry, const QString& path,
                           const ImportOptions& options, const ImportContext& context);

}  // namespace sambalens
