#include "transcript_view.h"

#include <QDesktopServices>
#include <QRegularExpression>
#include <QScrollBar>
#include <QTextBlock>
#include <QTextCursor>
#include <QTextDocumentFragment>

#include "token_budget.h"

namespace sambalens::ui {

namespace {
const QColor kUserColour(0x1f, 0x5f, 0xb0);
const QColor kAnswerColour(0x2e, 0x7d, 0x32);
const QColor kNoteColour(0x70, 0x70, 0x70);
const QColor kErrorColour(0xb0, 0x20, 0x20);

// Keeps the view pinned to the end while it was at the end.
class FollowEnd {
 public:
  explicit FollowEnd(QScrollBar* bar) : bar_(bar), atEnd_(bar->value() >= bar->maximum() - 4) {}
  ~FollowEnd() {
    if (atEnd_) bar_->setValue(bar_->maximum());
  }

 private:
  QScrollBar* bar_;
  bool atEnd_;
};
}  // namespace

TranscriptView::TranscriptView(QWidget* parent) : QTextBrowser(parent) {
  setOpenLinks(false);
  setOpenExternalLinks(false);
  setPlaceholderText(tr("Answers appear here. Drop a PDF, a text file or a code folder on the window, then choose "
                        "Summarize or ask a question."));
  document()->setDocumentMargin(10);
  renderTimer_.setSingleShot(true);
  connect(&renderTimer_, &QTimer::timeout, this, &TranscriptView::renderStreaming);
  connect(this, &QTextBrowser::anchorClicked, this, &TranscriptView::onAnchor);
}

void TranscriptView::clearTranscript() {
  renderTimer_.stop();
  streaming_ = false;
  streamed_.clear();
  clear();
}

QString TranscriptView::describeAnswer(const MessageRecord& a) {
  QStringList parts;
  if (a.stopReason == QLatin1String("cancelled")) parts << tr("stopped");
  // An answer cut by the length limit says so (it is not the model's end).
  // (the engine names it "max_tokens"; the app's header says "max tokens")
  if (QString(a.stopReason).replace(QLatin1Char('_'), QLatin1Char(' ')) == QLatin1String("max tokens")) {
    parts << tr("reached the answer length limit");
  }
  parts << (a.outputTokens == 1 ? tr("1 token") : tr("%1 tokens").arg(formatCount(a.outputTokens)));
  if (a.firstTokenSeconds > 0) parts << tr("first token after %1").arg(formatDuration(a.firstTokenSeconds));
  if (a.decodeSeconds > 0 && a.outputTokens > 0) {
    parts << tr("%1 tokens/s").arg(a.outputTokens / a.decodeSeconds, 0, 'f', 1);
  }
  if (a.promptTokens > 0) {
    QString read = tr("read %1 tokens").arg(formatCount(a.promptTokens - a.reusedTokens));
    if (a.prefillSeconds > 0) read += tr(" in %1").arg(formatDuration(a.prefillSeconds));
    if (a.reusedTokens > 0) read += tr(", reused %1 from the saved reading").arg(formatCount(a.reusedTokens));
    parts << read;
  }
  return parts.join(QStringLiteral(" · "));
}

void TranscriptView::appendHeading(const QString& who, const QColor& colour) {
  QTextCursor cursor(document());
  cursor.movePosition(QTextCursor::End);
  if (!document()->isEmpty()) cursor.insertBlock();
  QTextBlockFormat block;
  block.setTopMargin(document()->isEmpty() ? 0 : 14);
  block.setBottomMargin(2);
  cursor.setBlockFormat(block);
  QTextCharFormat format;
  format.setFontWeight(QFont::Bold);
  format.setForeground(colour);
  cursor.insertText(who, format);
}

void TranscriptView::appendMarkdown(const QString& markdown) {
  QTextCursor cursor(document());
  cursor.movePosition(QTextCursor::End);
  cursor.insertBlock(QTextBlockFormat(), QTextCharFormat());
  QTextDocument parsed;
  parsed.setMarkdown(markdown);
  cursor.insertFragment(QTextDocumentFragment(&parsed));
}

void TranscriptView::appendNote(const QString& text, const QColor& colour) {
  QTextCursor cursor(document());
  cursor.movePosition(QTextCursor::End);
  QTextCharFormat format;
  format.setForeground(colour);
  format.setFontPointSize(qMax(7.0, font().pointSizeF() * 0.9));
  cursor.insertBlock(QTextBlockFormat(), format);
  cursor.insertText(text, format);
}

void TranscriptView::showMessages(const QList<MessageRecord>& messages, const QList<ImportedDocument>& documents) {
  clearTranscript();
  documents_ = documents;
  for (const MessageRecord& m : messages) {
    if (m.role == QLatin1String("user")) {
      appendHeading(tr("You"), kUserColour);
      appendMarkdown(m.text);
    } else if (m.role == QLatin1String("assistant")) {
      appendHeading(tr("SambaLens"), kAnswerColour);
      appendMarkdown(linkifyCitations(m.text, documents_));
      appendNote(describeAnswer(m), kNoteColour);
    }
  }
  verticalScrollBar()->setValue(verticalScrollBar()->maximum());
}

void TranscriptView::beginAnswer(const QString& request, const QList<ImportedDocument>& documents) {
  renderTimer_.stop();
  documents_ = documents;
  FollowEnd follow(verticalScrollBar());
  appendHeading(tr("You"), kUserColour);
  appendMarkdown(request);
  appendHeading(tr("SambaLens"), kAnswerColour);
  QTextCursor cursor(document());
  cursor.movePosition(QTextCursor::End);
  cursor.insertBlock(QTextBlockFormat(), QTextCharFormat());
  streamStart_ = cursor.position();
  tailStart_ = streamStart_;
  committed_ = 0;
  streamed_.clear();
  streaming_ = true;
  renders_ = 0;
  deltas_ = 0;
  appendNote(tr("reading the documents…"), kNoteColour);
  verticalScrollBar()->setValue(verticalScrollBar()->maximum());
}

void TranscriptView::appendDelta(const QString& text) {
  if (!streaming_ || text.isEmpty()) return;
  streamed_ += text;
  ++deltas_;
  if (!renderTimer_.isActive()) renderTimer_.start(baseIntervalMs_);
}

void TranscriptView::replaceFrom(int position, const QString& markdown) {
  QTextCursor cursor(document());
  cursor.setPosition(position);
  cursor.movePosition(QTextCursor::End, QTextCursor::KeepAnchor);
  cursor.beginEditBlock();
  cursor.removeSelectedText();
  cursor.setBlockFormat(QTextBlockFormat());
  cursor.setCharFormat(QTextCharFormat());
  QTextDocument parsed;
  parsed.setMarkdown(markdown);
  cursor.insertFragment(QTextDocumentFragment(&parsed));
  cursor.endEditBlock();
}

qsizetype TranscriptView::stableBoundary() const {
  // The last blank line after the committed part that is not inside a
  // fenced code block: everything before it is finished Markdown.
  static const QRegularExpression fence(QStringLiteral("^ {0,3}(```|~~~)"), QRegularExpression::MultilineOption);
  const auto outsideFences = [this](qsizetype end) {
    qsizetype fences = 0;
    for (auto it = fence.globalMatch(streamed_.mid(committed_, end - committed_)); it.hasNext(); it.next()) ++fences;
    return fences % 2 == 0;
  };
  for (qsizetype at = streamed_.lastIndexOf(QLatin1String("\n\n")); at > committed_;
       at = streamed_.lastIndexOf(QLatin1String("\n\n"), at - 1)) {
    if (outsideFences(at)) return at + 2;
  }
  // A very long paragraph (or text without any) is cut at a line break or a
  // space, so that renders stay small; the final render joins it again.
  if (streamed_.size() - committed_ > kLongTail && outsideFences(streamed_.size())) {
    const qsizetype lastLine = streamed_.lastIndexOf(QLatin1Char('\n'));
    if (lastLine > committed_) return lastLine + 1;
    const qsizetype lastSpace = streamed_.lastIndexOf(QLatin1Char(' '));
    if (lastSpace > committed_) return lastSpace + 1;
    return streamed_.size();
  }
  return committed_;
}

void TranscriptView::renderStreaming() {
  if (!streaming_) return;
  QElapsedTimer timer;
  timer.start();
  {
    FollowEnd follow(verticalScrollBar());
    // Finished paragraphs are rendered once and kept; each render parses
    // only the new ones and the paragraph still being written, so its cost
    // does not grow with the length of the answer.
    const qsizetype boundary = stableBoundary();
    if (boundary > committed_) {
      replaceFrom(tailStart_, linkifyCitations(streamed_.mid(committed_, boundary - committed_), documents_));
      QTextCursor cursor(document());
      cursor.movePosition(QTextCursor::End);
      cursor.insertBlock(QTextBlockFormat(), QTextCharFormat());
      tailStart_ = cursor.position();
      committed_ = boundary;
    }
    replaceFrom(tailStart_, linkifyCitations(streamed_.mid(committed_), documents_));
  }
  ++renders_;
  // Rendering takes at most ~20% of the GUI thread's time: if a render got
  // slow (a long paragraph, a big table), render less often.
  const int spent = int(timer.elapsed());
  renderTimer_.setInterval(qMax(baseIntervalMs_, spent * 4));
}

void TranscriptView::renderFinal() {
  FollowEnd follow(verticalScrollBar());
  if (streamed_.size() <= kFullFinalRenderChars) {
    // Once, the whole answer: lists and citations that span paragraphs come out right.
    replaceFrom(streamStart_, linkifyCitations(streamed_, documents_));
  } else {
    replaceFrom(tailStart_, linkifyCitations(streamed_.mid(committed_), documents_));
  }
  ++renders_;
}

void TranscriptView::finishAnswer(const MessageRecord& answer) {
  if (!streaming_) return;
  renderTimer_.stop();
  streaming_ = false;
  if (answer.text.startsWith(streamed_.left(committed_))) {
    streamed_ = answer.text;
  } else {  // the stored text differs from what streamed: render it all again
    streamed_ = answer.text;
    committed_ = 0;
    tailStart_ = streamStart_;
  }
  renderFinal();
  FollowEnd follow(verticalScrollBar());
  appendNote(describeAnswer(answer), kNoteColour);
}

void TranscriptView::failAnswer(const QString& message) {
  if (!streaming_) return;
  renderTimer_.stop();
  streaming_ = false;
  renderFinal();
  FollowEnd follow(verticalScrollBar());
  appendNote(tr("The answer could not be completed: %1").arg(message), kErrorColour);
}

void TranscriptView::onAnchor(const QUrl& url) {
  if (const std::optional<CitationTarget> target = CitationTarget::fromUrl(url)) {
    emit citationActivated(*target);
  } else if (url.scheme() == QLatin1String("http") || url.scheme() == QLatin1String("https")) {
    QDesktopServices::openUrl(url);
  }
}

}  // namespace sambalens::ui
