#include "ui_test_support.h"

#include <QCoreApplication>
#include <QDir>
#include <QPixmap>
#include <QDragEnterEvent>
#include <QDropEvent>
#include <QMimeData>
#include <QSettings>
#include <QTest>
#include <QTextBlock>
#include <QTextBrowser>

#include "test_support.h"
#include "tiny_model.h"

namespace sambalens_test {

LoopTicker::LoopTicker(std::function<bool()> during, std::function<qsizetype()> progress)
    : during_(std::move(during)), progress_(std::move(progress)) {
  QObject::connect(&timer_, &QTimer::timeout, [this] {
    if (!during_()) return;
    if (ticks_++ == 0) progressAtFirstTick_ = progress_();
  });
  timer_.start(10);
}

QString LoopTicker::summary(const QString& what, const QString& units) const {
  return QStringLiteral("%1 timer ticks while %2; %3 %4, %5 of them before the first tick")
      .arg(ticks_)
      .arg(what)
      .arg(progress_())
      .arg(units)
      .arg(progressAtFirstTick_);
}

void isolateSettings() {
  QCoreApplication::setOrganizationName(QStringLiteral("SambaLensTests"));
  QCoreApplication::setApplicationName(QStringLiteral("SambaLensUiTest"));
  const QString dir = freshDir(QStringLiteral("settings"));
  QSettings::setPath(QSettings::NativeFormat, QSettings::UserScope, dir);
  QSettings::setPath(QSettings::IniFormat, QSettings::UserScope, dir);
  QSettings().clear();
}

sambalens::ui::WindowOptions WindowFixture::defaultOptions() {
  sambalens::ui::WindowOptions options;
  options.restoreLayout = false;
  options.restoreLastSession = false;
  options.backend = QStringLiteral("cpu");
  options.maxNewTokens = 48;
  return options;
}

WindowFixture::WindowFixture(sambalens::ui::WindowOptions options, const QString& store) {
  folder = freshDir(QStringLiteral("window"));
  storePath = store.isEmpty() ? folder + QStringLiteral("/sessions.sqlite") : store;
  if (options.modelFolder.isEmpty() && options.loadModelAtStart) options.modelFolder = makeTinyModel();
  sambalens::ui::AppContextOptions contextOptions;
  contextOptions.storePath = storePath;
  contextOptions.overrideImportWorker = true;
  contextOptions.importWorkerProgram = QStringLiteral(SAMBALENS_TEST_BINARY);
  contextOptions.importWorkerArguments = {QStringLiteral("--import-worker")};
  contextOptions.importCacheDirectory = folder + QStringLiteral("/import-cache");
  context = std::make_unique<sambalens::ui::AppContext>(contextOptions);
  window = std::make_unique<sambalens::ui::MainWindow>(context.get(), options);
  window->show();
}

WindowFixture::~WindowFixture() {
  window.reset();  // before the objects it drives
  context.reset();
}

bool WindowFixture::waitForModel(int timeoutMs) const {
  sambalens::EngineController* engine = &context->engine();
  return QTest::qWaitFor([engine] { return engine->isModelLoaded() && !engine->isLoading(); }, timeoutMs);
}

bool WindowFixture::waitForImports(int timeoutMs) const {
  sambalens::ui::ImportQueue* queue = window->importQueue();
  // Queued batches start from the event loop: let one turn pass first.
  QTest::qWait(20);
  return QTest::qWaitFor([queue] { return !queue->isBusy() && queue->queuedBatches() == 0; }, timeoutMs);
}

bool dropFiles(QWidget* target, const QStringList& paths) {
  QMimeData mime;
  QList<QUrl> urls;
  for (const QString& p : paths) urls.append(QUrl::fromLocalFile(p));
  mime.setUrls(urls);
  const QPoint at = target->rect().center();
  QDragEnterEvent enter(at, Qt::CopyAction, &mime, Qt::LeftButton, Qt::NoModifier);
  QCoreApplication::sendEvent(target, &enter);
  if (!enter.isAccepted()) return false;
  QDropEvent drop(QPointF(at), Qt::CopyAction, &mime, Qt::LeftButton, Qt::NoModifier);
  QCoreApplication::sendEvent(target, &drop);
  return drop.isAccepted();
}

QPoint linkPosition(QTextBrowser* view, const QString& hrefPart) {
  QTextDocument* doc = view->document();
  for (QTextBlock block = doc->begin(); block.isValid(); block = block.next()) {
    for (auto it = block.begin(); !it.atEnd(); ++it) {
      const QTextFragment fragment = it.fragment();
      if (!fragment.charFormat().isAnchor() || !fragment.charFormat().anchorHref().contains(hrefPart)) continue;
      QTextCursor cursor(doc);
      cursor.setPosition(fragment.position() + qMin(1, fragment.length() - 1));
      view->ensureCursorVisible();
      view->setTextCursor(cursor);
      view->ensureCursorVisible();
      return view->cursorRect(cursor).center();
    }
  }
  return {-1, -1};
}

void grabIfAsked(QWidget* widget, const QString& name) {
  const QString dir = qEnvironmentVariable("SAMBALENS_UI_TEST_GRAB_DIR");
  if (dir.isEmpty()) return;
  QDir().mkpath(dir);
  widget->grab().save(dir + QLatin1Char('/') + name + QStringLiteral(".png"));
}

bool containsWordsInOrder(const QString& haystack, const QString& needle) {
  QString h, n;
  for (QChar c : haystack) {
    if (c.isLetterOrNumber()) h += c;
  }
  for (QChar c : needle) {
    if (c.isLetterOrNumber()) n += c;
  }
  qsizetype at = 0;
  for (QChar c : n) {
    at = h.indexOf(c, at);
    if (at < 0) return false;
    ++at;
  }
  return true;
}

}  // namespace sambalens_test
