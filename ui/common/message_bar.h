// Non-modal messages at the top of the window: errors, warnings and notes
// stack up, each with a close button, and never stop the user from working
// (a failed import or engine error is told, not shown in a blocking dialog).
// Notes disappear by themselves; errors stay until closed.
#pragma once

#include <QFrame>
#include <QList>
#include <QString>

class QVBoxLayout;

namespace sambalens::ui {

class MessageBar : public QWidget {
  Q_OBJECT

 public:
  enum class Kind { Note, Warning, Error };

  explicit MessageBar(QWidget* parent = nullptr);

  // Shows `text`; an identical message already shown is not repeated.
  void show(Kind kind, const QString& text);
  void note(const QString& text) { show(Kind::Note, text); }
  void warning(const QString& text) { show(Kind::Warning, text); }
  void error(const QString& text) { show(Kind::Error, text); }
  void clearAll();

  // The messages shown now, oldest first (for tests and the screenshot).
  QStringList texts() const;
  int count() const;

  // How long a note stays (errors and warnings stay until closed).
  void setNoteTimeout(int milliseconds) { noteTimeoutMs_ = milliseconds; }

 signals:
  void messageShown(sambalens::ui::MessageBar::Kind kind, const QString& text);

 private:
  void remove(QFrame* item);

  QVBoxLayout* layout_;
  QList<QFrame*> items_;
  int noteTimeoutMs_ = 8000;
  static constexpr int kMaxShown = 5;
};

}  // namespace sambalens::ui
