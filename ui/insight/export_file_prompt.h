// How every insight export (chart PNGs, CSV tables) reaches the disk: ask
// for a file name, write, and say so in a warning box when writing fails.
// One place, so all the dialogs ask and report the same way.
#pragma once

#include <QString>
#include <functional>

class QWidget;

namespace sambalens::ui {

// Writes the export to `path`; false with `error` set when it cannot.
using ExportWriter = std::function<bool(const QString& path, QString* error)>;

// The file-dialog filters of the two export kinds.
QString pngFileFilter();
QString csvFileFilter();

// Asks for a file (a save dialog over `parent`, `suggestedName` filled in);
// nothing happens when the user cancels. Otherwise runs `write` with the
// chosen path and shows its error in a warning box over `parent` when it
// fails. The export is made only after a path is chosen, inside `write`.
void exportToChosenFile(QWidget* parent, const QString& caption, const QString& suggestedName, const QString& filter,
                        const ExportWriter& write);

}  // namespace sambalens::ui
