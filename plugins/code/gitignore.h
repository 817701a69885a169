// .gitignore rules with git's semantics (gitignore(5)): rules of every
// .gitignore file apply to its directory and below; a deeper file's rules
// win over a higher one's; within a file the last matching line wins;
// "!pattern" re-includes; "dir/" matches directories only; a pattern with a
// slash (other than a trailing one) is matched against the path relative to
// its .gitignore with '*' not crossing '/', and "**" spanning directories;
// a pattern without one matches the name at any depth. A path inside an
// ignored directory is ignored whatever later rules say (git never looks
// inside), which a tree walker gets by not descending into such folders.
#pragma once

#include <QByteArray>
#include <QList>
#include <QMap>
#include <QString>

namespace sambalens {

// Git's wildmatch: '*', '?', "[...]" (ranges, '!'/'^' negation, [:alpha:]
// classes), '\' escapes, and with `pathname` set, '*' '?' '[' never match
// '/' while "**" between slashes matches any number of directories.
bool wildmatch(const QByteArray& pattern, const QByteArray& text, bool pathname);

struct GitIgnoreRule {
  QByteArray pattern;     // without '!', leading '/', trailing '/'
  QString baseDir;        // folder of the .gitignore, relative to the root ("" = root)
  QString source;         // "sub/.gitignore:3", for reasons shown to the user
  QString originalLine;
  bool negated = false;
  bool directoryOnly = false;
  bool matchesPath = false;  // had a slash: match the path relative to baseDir, not the name
};

// Parses the lines of one .gitignore (comments, blank lines, escapes,
// trailing spaces, CRLF) into rules.
QList<GitIgnoreRule> parseGitIgnore(const QByteArray& content, const QString& baseDir,
                                    const QString& sourceName);

class GitIgnore {
 public:
  struct Match {
    const GitIgnoreRule* rule = nullptr;  // null: no rule matched
    bool ignored() const { return rule && !rule->negated; }
  };

  // Adds the rules of the .gitignore in `baseDir` ("" for the root; '/'
  // separated, no trailing slash). `sourceName` names the file in reasons
  // (default: "<baseDir>/.gitignore").
  void addFile(const QString& baseDir, const QByteArray& content, const QString& sourceName = QString());
  // Adds rules that apply below the root with the lowest precedence
  // (.git/info/exclude).
  void addExcludeFile(const QByteArray& content, const QString& sourceName);

  // The rule that decides `relativePath` itself (deepest .gitignore first,
  // last line first), without looking at its ancestors.
  Match match(const QString& relativePath, bool isDirectory) const;
  // What `git check-ignore` answers: ignored when the path or one of its
  // ancestor directories is ignored.
  bool isIgnored(const QString& relativePath, bool isDirectory) const;

 private:
  QMap<QString, QList<GitIgnoreRule>> rulesByDir_;
  QList<GitIgnoreRule> excludeRules_;
};

}  // namespace sambalens
