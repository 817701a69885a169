#include "export_file_prompt.h"

#include <QCoreApplication>
#include <QFileDialog>
#include <QMessageBox>

namespace sambalens::ui {

QString pngFileFilter() { return QCoreApplication::translate("sambalens::ui::ExportFilePrompt", "PNG images (*.png)"); }

QString csvFileFilter() { return QCoreApplication::translate("sambalens::ui::ExportFilePrompt", "CSV files (*.csv)"); }

void exportToChosenFile(QWidget* parent, const QString& caption, const QString& suggestedName, const QString& filter,
                        const ExportWriter& write) {
  const QString path = QFileDialog::getSaveFileName(parent, caption, suggestedName, filter);
  if (path.isEmpty()) return;
  QString error;
  if (!write(path, &error)) {
    QMessageBox::warning(parent, QCoreApplication::translate("sambalens::ui::ExportFilePrompt", "Export"), error);
  }
}

}  // namespace sambalens::ui
