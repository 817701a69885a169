// The headless insight commands of `sambalens`, the same computations and
// the same chart painting as the window's Insight views:
//   sambalens passkey --model DIR --lengths 1K,2K --depths 0,0.5,1 --trials N --csv F --png F
//   sambalens entropy FILE --model DIR --csv F --png F
// Results go to the files (and a summary table to stdout), progress to
// stderr; each run is saved in the sessions database unless --no-save.
// The PNG is painted offscreen: no display is needed.
#pragma once

#include <QString>

namespace sambalens {

bool isInsightCommand(const QString& word);
QString insightUsage();
// Creates its own QGuiApplication on the offscreen platform and runs the
// command; returns the exit status (the HeadlessExit values of headless.h).
int runInsightHeadless(int argc, char** argv);

}  // namespace sambalens
