// Token ids -> whole UTF-8 characters, as the tokens arrive. Invalid bytes
// become U+FFFD one byte at a time, the way SentencePiece's Decode() writes
// them, so the concatenated stream equals decode() of the same ids.
#include "samba/tokenizer.h"

namespace samba {
namespace {

const char kReplacement[] = "\xEF\xBF\xBD";  // U+FFFD

enum class Sequence { Valid, Invalid, Incomplete };

// Classifies the UTF-8 sequence starting at bytes[pos] (Unicode table 3-7:
// no overlong forms, no surrogates, nothing above U+10FFFF). For Valid,
// `length` is its length; Incomplete means the bytes that are there could
// still become a valid character.
Sequence classify(std::string_view bytes, size_t pos, size_t& length) {
  const auto at = [&](size_t i) { return static_cast<unsigned char>(bytes[pos + i]); };
  const unsigned char lead = at(0);
  unsigned char second_lo = 0x80, second_hi = 0xBF;
  if (lead < 0x80) {
    length = 1;
    return Sequence::Valid;
  } else if (lead >= 0xC2 && lead <= 0xDF) {
    length = 2;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    length = 3;
    if (lead == 0xE0) second_lo = 0xA0;  // overlong
    if (lead == 0xED) second_hi = 0x9F;  // surrogates
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    length = 4;
    if (lead == 0xF0) second_lo = 0x90;  // overlong
    if (lead == 0xF4) second_hi = 0x8F;  // above U+10FFFF
  } else {
    return Sequence::Invalid;  // continuation byte, C0/C1, F5..FF
  }
  const size_t available = bytes.size() - pos;
  for (size_t i = 1; i < length; ++i) {
    if (i >= available) return Sequence::Incomplete;
    const unsigned char lo = i == 1 ? second_lo : 0x80, hi = i == 1 ? second_hi : 0xBF;
    if (at(i) < lo || at(i) > hi) return Sequence::Invalid;
  }
  return Sequence::Valid;
}

// Moves the complete part of `pending` to the returned string (invalid bytes
// replaced); with `final` set, an incomplete tail is replaced too.
std::string take_complete(std::string& pending, bool final) {
  std::string out;
  size_t pos = 0;
  while (pos < pending.size()) {
    size_t length = 0;
    const Sequence kind = classify(pending, pos, length);
    if (kind == Sequence::Incomplete && !final) break;
    if (kind == Sequence::Valid) {
      out.append(pending, pos, length);
      pos += length;
    } else {
      out += kReplacement;  // one per byte, like SentencePiece
      pos += 1;
    }
  }
  pending.erase(0, pos);
  return out;
}

}  // namespace

size_t complete_utf8_prefix(std::string_view bytes) {
  size_t pos = 0;
  while (pos < bytes.size()) {
    size_t length = 0;
    switch (classify(bytes, pos, length)) {
      case Sequence::Valid: pos += length; break;
      case Sequence::Invalid: pos += 1; break;
      case Sequence::Incomplete: return pos;
    }
  }
  return pos;
}

std::string StreamingDetokenizer::push(int32_t id) {
  if (tokenizer_.is_control(id)) {
    // A control token ends a run of byte pieces: bytes still pending can no
    // longer complete a character (SentencePiece decodes them as U+FFFD).
    std::string out = take_complete(pending_, true);
    text_ += out;
    return out;
  }
  const std::string bytes = tokenizer_.token_bytes(id, first_);
  if (first_) {
    if (!bytes.empty()) {
      first_ = false;
    } else if (!tokenizer_.token_bytes(id, false).empty()) {
      // A lone leading space was dropped. Some models drop only the first
      // one, others (remove_extra_whitespaces) every leading space: decoding
      // the token twice tells which, without knowing the tokenizer's kind.
      first_ = tokenizer_.decode({id, id}).empty();
    }
  }
  pending_ += bytes;
  std::string out = take_complete(pending_, false);
  text_ += out;
  return out;
}

std::string StreamingDetokenizer::flush() {
  std::string out = take_complete(pending_, true);
  text_ += out;
  return out;
}

}  // namespace samba
