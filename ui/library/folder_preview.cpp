#include "folder_preview.h"

#include <QElapsedTimer>
#include <QFile>
#include <optional>
#include <QtConcurrent/QtConcurrentRun>

#include "text_decoding.h"

namespace sambalens::ui {

FolderPreview::FolderPreview(const QString& root, const ImportOptions& options, EngineController* engine,
                             QObject* parent)
    : QObject(parent),
      root_(root),
      options_(options),
      engine_(engine),
      countTokens_(engine && engine->isModelLoaded()),
      cancel_(std::make_shared<std::atomic<bool>>(false)) {
  pool_.setMaxThreadCount(1);
}

FolderPreview::~FolderPreview() {
  cancel_->store(true);
  pool_.waitForDone();
}

void FolderPreview::cancel() { cancel_->store(true); }

void FolderPreview::start() {
  ScanOptions scan;
  scan.useGitignore = options_.useGitignore;
  scan.defaultExcludes = options_.defaultExcludes;
  scan.maxFileBytes = options_.maxFileBytes;
  const QString root = root_;
  const auto cancel = cancel_;
  (void)QtConcurrent::run(&pool_, [this, root, scan, cancel] {
    QElapsedTimer sinceLast;
    sinceLast.start();
    ScanResult result = scanFolder(root, scan, cancel.get(), [&](int seen) {
      if (sinceLast.elapsed() < 100) return;
      sinceLast.restart();
      QMetaObject::invokeMethod(this, [this, seen] { emit scanProgress(seen); }, Qt::QueuedConnection);
    });
    // `this` outlives the task: the destructor waits for the pool.
    QMetaObject::invokeMethod(this, [this, result] { onScanned(result); }, Qt::QueuedConnection);
  });
}

void FolderPreview::onScanned(const ScanResult& result) {
  result_ = result;
  scanned_ = true;
  tokens_ = QList<qint64>(result.files.size(), -1);
  emit scanned();
  if (!countTokens_ || result.files.isEmpty() || result.cancelled) {
    emit countingFinished();
    return;
  }
  counting_ = true;
  nextFile_ = 0;
  readNextBatch();
}

// Counting goes batch by batch: a pool thread reads and decodes a few files
// (bounded memory, whatever the tree's size), the GUI thread hands each text
// to the engine's tokenizer (EngineController is used from its own thread
// only), and when the batch is counted the next one is read.
void FolderPreview::readNextBatch() {
  if (cancel_->load() || nextFile_ >= result_.files.size() || !engine_->isModelLoaded()) {
    counting_ = false;
    emit countingFinished();
    return;
  }
  QStringList paths;
  qint64 bytes = 0;
  for (int i = nextFile_; i < result_.files.size() && paths.size() < 64 && bytes < 2 * 1024 * 1024; ++i) {
    paths.append(root_ + QLatin1Char('/') + result_.files[i].relativePath);
    bytes += result_.files[i].bytes;
  }
  const int first = nextFile_;
  nextFile_ += int(paths.size());
  const auto cancel = cancel_;
  QtConcurrent::run(&pool_,
                    [paths, cancel] {
                      QList<std::optional<QString>> texts;
                      for (const QString& path : paths) {
                        QFile file(path);
                        if (cancel->load() || !file.open(QIODevice::ReadOnly)) {
                          texts.append(std::nullopt);
                        } else {
                          texts.append(decodeText(file.readAll()).text);
                        }
                      }
                      return texts;
                    })
      .then(this, [this, first](const QList<std::optional<QString>>& texts) {
        QList<QFuture<qint64>> futures;
        for (const std::optional<QString>& text : texts) {
          futures.append(text ? engine_->countTokens(*text) : QtFuture::makeReadyFuture<qint64>(-1));
        }
        QtFuture::whenAll(futures.begin(), futures.end())
            .then(this, [this, first](const QList<QFuture<qint64>>& done) {
              QList<qint64> counts;
              for (const QFuture<qint64>& f : done) counts.append(f.isValid() && f.resultCount() > 0 ? f.result() : -1);
              onCounts(first, counts);
              readNextBatch();
            });
      });
}

void FolderPreview::onCounts(int first, const QList<qint64>& counts) {
  for (int i = 0; i < counts.size() && first + i < tokens_.size(); ++i) {
    tokens_[first + i] = counts[i];
    if (counts[i] >= 0) {
      totalTokens_ += counts[i];
      ++counted_;
    }
  }
  emit tokensCounted(first, counts);
}

}  // namespace sambalens::ui
