// Linked into `sambalens` only when the ui/ library (sambalens_ui) is not
// part of the build.
#include <cstdio>

#include "gui_entry.h"

int runGui(int, char**) {
  std::fprintf(stderr,
               "sambalens: this build has no window (the Qt Widgets UI, target sambalens_ui, was not "
               "built).\nUse the headless commands instead, e.g.\n"
               "  sambalens summarize FILE...\n  sambalens ask FILE... -q \"QUESTION\"\n"
               "See `sambalens --help`.\n");
  return 2;
}
