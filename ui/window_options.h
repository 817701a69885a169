// What the window is asked to do at start, from the command line of
// `sambalens` (see gui_main.cpp) or set by the UI tests.
#pragma once

#include <QString>
#include <QStringList>

namespace sambalens::ui {

struct WindowOptions {
  // Model folder to load; empty: the one chosen last (QSettings), else the
  // bundled default model.
  QString modelFolder;
  QString backend = QStringLiteral("auto");
  bool loadModelAtStart = true;
  // Files and folders to import when the window opens.
  QStringList openPaths;
  // Reopen the session shown last (from the sessions database).
  bool restoreLastSession = true;
  // Restore the window's geometry and dock layout from QSettings.
  bool restoreLayout = true;

  // Run this preset once the model is loaded and `openPaths` are imported
  // (used by the screenshot run and scripted demos).
  QString runPreset;
  QString question;
  int maxNewTokens = 512;
  // Save a picture of the window to this file after `runPreset` finished
  // (or after the documents are shown), then quit.
  QString screenshotPath;
};

}  // namespace sambalens::ui
