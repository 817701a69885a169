// The conversation of a session: questions, and answers rendered from
// Markdown with their citations as links. The answer being generated is
// rendered at most every `renderInterval` ms, however many deltas arrived in
// between, and each render parses only the paragraph still being written
// (finished paragraphs are kept), so its cost grows neither with the
// conversation nor with the answer. The GUI never re-renders per token.
#pragma once

#include <QElapsedTimer>
#include <QTextBrowser>
#include <QTimer>

#include "citation_links.h"
#include "imported_document.h"
#include "session_store.h"

namespace sambalens::ui {

class TranscriptView : public QTextBrowser {
  Q_OBJECT

 public:
  explicit TranscriptView(QWidget* parent = nullptr);

  void clearTranscript();
  // Shows a stored conversation; citations link into `documents`.
  void showMessages(const QList<sambalens::MessageRecord>& messages, const QList<sambalens::ImportedDocument>& documents);
  // Adds the user's request and starts an answer that streams in.
  void beginAnswer(const QString& request, const QList<sambalens::ImportedDocument>& documents);
  void appendDelta(const QString& text);
  // Replaces the streamed text with the final answer and its statistics.
  void finishAnswer(const sambalens::MessageRecord& answer);
  // The run failed: what was streamed stays, followed by the reason.
  void failAnswer(const QString& message);

  bool isStreaming() const { return streaming_; }
  const QString& streamedText() const { return streamed_; }
  // How many times the streaming answer was rendered, and how many deltas
  // it received (the first is much smaller than the second on a fast model).
  int renderCount() const { return renders_; }
  int deltaCount() const { return deltas_; }
  void setRenderInterval(int milliseconds) { baseIntervalMs_ = milliseconds; }

  // One line about a stored answer: stop reason, tokens, speeds.
  static QString describeAnswer(const sambalens::MessageRecord& answer);

 signals:
  void citationActivated(const sambalens::ui::CitationTarget& target);

 private:
  void appendHeading(const QString& who, const QColor& colour);
  void appendMarkdown(const QString& markdown);
  void appendNote(const QString& text, const QColor& colour);
  void renderStreaming();
  void renderFinal();
  // Replaces the document from `position` to its end with `markdown`.
  void replaceFrom(int position, const QString& markdown);
  // Where the finished part of the streamed Markdown ends (after a blank
  // line outside code blocks), at or after the committed part.
  qsizetype stableBoundary() const;
  void onAnchor(const QUrl& url);

  QList<sambalens::ImportedDocument> documents_;
  bool streaming_ = false;
  QString streamed_;
  int streamStart_ = 0;   // document position where the streaming answer begins
  int tailStart_ = 0;     // where its unfinished last paragraph begins
  qsizetype committed_ = 0;  // characters of streamed_ rendered for good
  // Up to this length the finished answer is rendered again as a whole.
  static constexpr qsizetype kFullFinalRenderChars = 12000;
  // A tail longer than this is cut at a line break or space while streaming.
  static constexpr qsizetype kLongTail = 4096;
  QTimer renderTimer_;
  int baseIntervalMs_ = 50;
  int renders_ = 0;
  int deltas_ = 0;
};

}  // namespace sambalens::ui
