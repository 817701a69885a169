// The window's entry point. The Qt Widgets library (ui/, target
// sambalens_ui) implements it; a binary built without the UI links
// gui_unavailable.cpp instead, which says so. main() calls it when there is
// no subcommand and a display is available. The implementation creates the
// QApplication itself and should call sambalens::applyApplicationIdentity().
#pragma once

int runGui(int argc, char** argv);
