// Where the app finds what ships with it, and its identity (which decides
// the app-data folder of the sessions database and the cache folder).
#pragma once

#include <QString>
#include <QStringList>

namespace sambalens {

// Sets the application name used by QStandardPaths ("SambaLens"). Call it
// right after creating the Q(Core|Gui)Application, in the GUI too, so both
// use the same database.
void applyApplicationIdentity();

constexpr const char* kDefaultModelName = "samba-lens-default";

// Where the default model may be, in order: $SAMBALENS_MODEL, then
// resources/models/samba-lens-default relative to the executable (build
// tree: <build>/bin/../.., install: <prefix>/share/sambalens/models), then
// the source tree this binary was built from.
QStringList defaultModelCandidates();
// The first candidate that holds a config.json, or an empty string.
QString findDefaultModel();
// A clear message for when no default model is found, naming the places
// looked at and the --model option.
QString missingDefaultModelMessage();

// True when a window can be opened (X11, Wayland or an explicit Qt platform).
bool hasDisplay();

}  // namespace sambalens
