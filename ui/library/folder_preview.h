// The preview of a code folder before the model reads it: the same scan the
// code importer makes (.gitignore at every level, default excludes, binaries,
// size limit), then each file's token count with the loaded model's
// tokenizer. Both run off the GUI thread; results arrive in batches.
#pragma once

#include <QList>
#include <QObject>
#include <QThreadPool>
#include <atomic>
#include <memory>

#include "engine_controller.h"
#include "folder_scanner.h"
#include "importer_plugin.h"

namespace sambalens::ui {

class FolderPreview : public QObject {
  Q_OBJECT

 public:
  // `engine` counts the tokens when it has a model loaded; otherwise only
  // the scan is made (tokens stay unknown, -1).
  FolderPreview(const QString& root, const sambalens::ImportOptions& options, sambalens::EngineController* engine,
                QObject* parent = nullptr);
  ~FolderPreview() override;

  const QString& root() const { return root_; }
  void start();
  void cancel();

  bool isScanned() const { return scanned_; }
  bool isCounting() const { return counting_; }
  bool countsTokens() const { return countTokens_; }
  const sambalens::ScanResult& result() const { return result_; }
  // Token count of result().files[i], -1 when not (yet) known.
  qint64 tokens(int fileIndex) const { return fileIndex < tokens_.size() ? tokens_[fileIndex] : -1; }
  qint64 totalTokens() const { return totalTokens_; }
  int countedFiles() const { return counted_; }

 signals:
  void scanProgress(int entriesSeen);
  void scanned();
  // Counts for files [first, first + counts.size()).
  void tokensCounted(int first, const QList<qint64>& counts);
  void countingFinished();

 private:
  void onScanned(const sambalens::ScanResult& result);
  void readNextBatch();
  void onCounts(int first, const QList<qint64>& counts);

  QString root_;
  sambalens::ImportOptions options_;
  sambalens::EngineController* engine_;
  bool countTokens_ = false;
  QThreadPool pool_;  // its own thread: a big tree never starves the global pool
  std::shared_ptr<std::atomic<bool>> cancel_;
  sambalens::ScanResult result_;
  QList<qint64> tokens_;
  qint64 totalTokens_ = 0;
  int counted_ = 0;
  int nextFile_ = 0;
  bool scanned_ = false;
  bool counting_ = false;
};

}  // namespace sambalens::ui
