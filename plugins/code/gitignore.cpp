#include "gitignore.h"

#include <cctype>
#include <cstring>

namespace sambalens {

namespace {

// Matches a POSIX class name ("alpha" of "[:alpha:]") against one byte.
// Returns -1 for an unknown class name.
int matchPosixClass(const char* name, size_t length, unsigned char c) {
  const auto is = [&](const char* candidate) {
    return std::strlen(candidate) == length && std::strncmp(name, candidate, length) == 0;
  };
  if (is("alnum")) return std::isalnum(c) != 0;
  if (is("alpha")) return std::isalpha(c) != 0;
  if (is("blank")) return c == ' ' || c == '\t';
  if (is("cntrl")) return std::iscntrl(c) != 0;
  if (is("digit")) return std::isdigit(c) != 0;
  if (is("graph")) return std::isgraph(c) != 0;
  if (is("lower")) return std::islower(c) != 0;
  if (is("print")) return std::isprint(c) != 0;
  if (is("punct")) return std::ispunct(c) != 0;
  if (is("space")) return std::isspace(c) != 0;
  if (is("upper")) return std::isupper(c) != 0;
  if (is("xdigit")) return std::isxdigit(c) != 0;
  return -1;
}

// Matches the bracket expression starting at *p (just after '[') against c.
// On success advances *p past the closing ']' and returns 0/1; returns -1
// when the expression is malformed (git then fails the whole match).
int matchBracket(const char** p, unsigned char c) {
  const char* s = *p;
  bool negated = false;
  if (*s == '!' || *s == '^') {
    negated = true;
    ++s;
  }
  bool matched = false;
  bool first = true;
  unsigned char previous = 0;  // last literal seen, start of a possible range
  bool havePrevious = false;
  for (;; first = false) {
    unsigned char ch = static_cast<unsigned char>(*s);
    if (ch == '\0') return -1;
    if (ch == ']' && !first) break;
    if (ch == '\\') {
      ch = static_cast<unsigned char>(*++s);
      if (ch == '\0') return -1;
      if (ch == c) matched = true;
      previous = ch;
      havePrevious = true;
      ++s;
      continue;
    }
    if (ch == '-' && havePrevious && s[1] != ']' && s[1] != '\0') {
      unsigned char high = static_cast<unsigned char>(*++s);
      if (high == '\\') {
        high = static_cast<unsigned char>(*++s);
        if (high == '\0') return -1;
      }
      if (previous <= c && c <= high) matched = true;
      havePrevious = false;
      ++s;
      continue;
    }
    if (ch == '[' && s[1] == ':') {
      const char* nameStart = s + 2;
      const char* nameEnd = std::strstr(nameStart, ":]");
      if (!nameEnd) return -1;
      const int r = matchPosixClass(nameStart, size_t(nameEnd - nameStart), c);
      if (r < 0) return -1;
      if (r == 1) matched = true;
      s = nameEnd + 2;
      havePrevious = false;
      continue;
    }
    if (ch == c) matched = true;
    previous = ch;
    havePrevious = true;
    ++s;
  }
  *p = s + 1;
  return matched != negated ? 1 : 0;
}

}  // namespace

// Recursive wildmatch. A run of stars is "**" (crossing '/') only when it
// is a whole path component: at the start or after '/', and at the end or
// before '/'. Otherwise with `pathname` it behaves like a single '*'.
static bool wildmatchAt(const char* patternBegin, const char* p, const char* t, bool pathname) {
  for (; *p; ++p, ++t) {
    const char pc = *p;
    if (pc != '*') {
      if (*t == '\0') return false;
      switch (pc) {
        case '\\':
          ++p;
          if (*p == '\0' || *p != *t) return false;
          continue;
        case '?':
          if (pathname && *t == '/') return false;
          continue;
        case '[': {
          if (pathname && *t == '/') return false;
          const char* q = p + 1;
          if (matchBracket(&q, static_cast<unsigned char>(*t)) <= 0) return false;
          p = q - 1;
          continue;
        }
        default:
          if (pc != *t) return false;
          continue;
      }
    }
    // A run of stars.
    const char* runStart = p;
    while (p[1] == '*') ++p;
    const char* next = p + 1;
    const bool doubleStar = p != runStart;
    bool crossesSlash = !pathname;
    if (doubleStar && pathname) {
      const bool startsComponent = runStart == patternBegin || runStart[-1] == '/';
      const bool endsComponent =
          *next == '\0' || *next == '/' || (next[0] == '\\' && next[1] == '/');
      if (startsComponent && endsComponent) {
        // "**/" may also match no directory at all: "a/**/b" matches "a/b".
        if (*next == '/' && wildmatchAt(patternBegin, next + 1, t, pathname)) return true;
        crossesSlash = true;
      }
    }
    if (*next == '\0') {
      // Trailing star: matches the rest unless it would have to cross '/'.
      return crossesSlash || std::strchr(t, '/') == nullptr;
    }
    for (;; ++t) {
      if (wildmatchAt(patternBegin, next, t, pathname)) return true;
      if (*t == '\0') return false;
      if (!crossesSlash && *t == '/') return false;
    }
  }
  return *t == '\0';
}

bool wildmatch(const QByteArray& pattern, const QByteArray& text, bool pathname) {
  return wildmatchAt(pattern.constData(), pattern.constData(), text.constData(), pathname);
}

QList<GitIgnoreRule> parseGitIgnore(const QByteArray& content, const QString& baseDir,
                                    const QString& sourceName) {
  QList<GitIgnoreRule> rules;
  const QList<QByteArray> lines = content.split('\n');
  for (int i = 0; i < lines.size(); ++i) {
    QByteArray line = lines[i];
    if (line.endsWith('\r')) line.chop(1);  // git drops the CR of CRLF files
    if (line.isEmpty() || line.startsWith('#')) continue;
    // Trailing spaces are dropped unless escaped with a backslash.
    int end = line.size();
    while (end > 0 && line[end - 1] == ' ') {
      int backslashes = 0;
      for (int k = end - 2; k >= 0 && line[k] == '\\'; --k) ++backslashes;
      if (backslashes % 2 == 1) break;  // "\ " keeps this space
      --end;
    }
    line.truncate(end);
    if (line.isEmpty()) continue;

    GitIgnoreRule rule;
    rule.baseDir = baseDir;
    rule.source = QStringLiteral("%1:%2").arg(sourceName).arg(i + 1);
    rule.originalLine = QString::fromUtf8(line);
    if (line.startsWith('!')) {
      rule.negated = true;
      line.remove(0, 1);
    }
    if (line.endsWith('/')) {
      rule.directoryOnly = true;
      line.chop(1);
    }
    rule.matchesPath = line.contains('/');
    if (line.startsWith('/')) line.remove(0, 1);
    if (line.isEmpty()) continue;
    rule.pattern = line;
    rules.append(rule);
  }
  return rules;
}

void GitIgnore::addFile(const QString& baseDir, const QByteArray& content, const QString& sourceName) {
  QString source = sourceName;
  if (source.isEmpty()) {
    source = baseDir.isEmpty() ? QStringLiteral(".gitignore") : baseDir + QStringLiteral("/.gitignore");
  }
  rulesByDir_[baseDir] += parseGitIgnore(content, baseDir, source);
}

void GitIgnore::addExcludeFile(const QByteArray& content, const QString& sourceName) {
  excludeRules_ += parseGitIgnore(content, QString(), sourceName);
}

namespace {
bool ruleMatches(const GitIgnoreRule& rule, const QString& relativePath, bool isDirectory) {
  if (rule.directoryOnly && !isDirectory) return false;
  QString subject;
  if (rule.baseDir.isEmpty()) {
    subject = relativePath;
  } else {
    const QString prefix = rule.baseDir + QLatin1Char('/');
    if (!relativePath.startsWith(prefix)) return false;
    subject = relativePath.mid(prefix.size());
  }
  if (rule.matchesPath) return wildmatch(rule.pattern, subject.toUtf8(), /*pathname=*/true);
  const int slash = subject.lastIndexOf(QLatin1Char('/'));
  const QString name = slash < 0 ? subject : subject.mid(slash + 1);
  return wildmatch(rule.pattern, name.toUtf8(), /*pathname=*/false);
}

const GitIgnoreRule* lastMatching(const QList<GitIgnoreRule>& rules, const QString& path,
                                  bool isDirectory) {
  for (auto it = rules.crbegin(); it != rules.crend(); ++it) {
    if (ruleMatches(*it, path, isDirectory)) return &*it;
  }
  return nullptr;
}
}  // namespace

GitIgnore::Match GitIgnore::match(const QString& relativePath, bool isDirectory) const {
  // The .gitignore files that apply are those of the path's ancestor
  // folders; the deepest one that has a matching rule decides.
  QString dir = relativePath;
  for (;;) {
    const int slash = dir.lastIndexOf(QLatin1Char('/'));
    dir = slash < 0 ? QString() : dir.left(slash);
    const auto it = rulesByDir_.constFind(dir);
    if (it != rulesByDir_.constEnd()) {
      if (const GitIgnoreRule* rule = lastMatching(*it, relativePath, isDirectory)) {
        return Match{rule};
      }
    }
    if (dir.isEmpty()) break;
  }
  return Match{lastMatching(excludeRules_, relativePath, isDirectory)};
}

bool GitIgnore::isIgnored(const QString& relativePath, bool isDirectory) const {
  const QStringList parts = relativePath.split(QLatin1Char('/'), Qt::SkipEmptyParts);
  QString path;
  for (int i = 0; i < parts.size(); ++i) {
    path = i == 0 ? parts[0] : path + QLatin1Char('/') + parts[i];
    const bool last = i + 1 == parts.size();
    if (match(path, last ? isDirectory : true).ignored()) return true;
  }
  return false;
}

}  // namespace sambalens
