// Deciding whether bytes are text, and turning text bytes into a QString,
// shared by the code-folder and plain-text importers.
#pragma once

#include <QByteArray>
#include <QString>

namespace sambalens {

// Git's heuristic: a NUL byte in the first 8000 bytes means binary. A UTF-16
// byte-order mark means text even though UTF-16 is full of NUL bytes.
bool looksBinary(const QByteArray& head);

struct DecodedText {
  QString text;
  QString encoding;  // "UTF-8", "UTF-16LE", "UTF-16BE", "Latin-1"
  bool fallback = false;  // not valid UTF-8: read as Latin-1
};

// UTF-8 (with or without BOM) and UTF-16 with a BOM are decoded exactly;
// anything else that is not valid UTF-8 is read as Latin-1 (every byte maps
// to a character, so nothing is dropped) and flagged `fallback`.
// Line endings are normalised to '\n'.
DecodedText decodeText(const QByteArray& bytes);

}  // namespace sambalens
