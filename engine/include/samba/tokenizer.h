// Tokenizers behind one interface. SentencePiece (tokenizer.model) through
// libsentencepiece; byte-level BPE (tokenizer.json) can join as a second
// family later without callers changing.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace samba {

class Tokenizer {
 public:
  virtual ~Tokenizer() = default;
  virtual std::string family() const = 0;          // "sentencepiece", "bpe"
  virtual int vocab_size() const = 0;
  virtual int bos_id() const = 0;                  // -1 if none
  virtual int eos_id() const = 0;                  // -1 if none
  // Text to ids, without BOS (the SAMBA models were trained without it).
  virtual std::vector<int32_t> encode(std::string_view text) const = 0;
  // Ids to text.
  virtual std::string decode(const std::vector<int32_t>& ids) const = 0;
  // The exact bytes this token contributes to the output when it follows
  // `previous` tokens (SentencePiece drops the leading space of the first
  // piece; byte-fallback pieces are single raw bytes that may be partial
  // UTF-8 characters).
  virtual std::string token_bytes(int32_t id, bool is_first) const = 0;
  // True for control tokens (bos/eos/pad) that produce no text.
  virtual bool is_control(int32_t id) const = 0;
};

// Loads tokenizer.model (SentencePiece) from a model folder; throws
// samba::Error naming the file when missing or unreadable.
std::unique_ptr<Tokenizer> load_tokenizer(const std::string& model_folder);
std::unique_ptr<Tokenizer> load_sentencepiece(const std::string& model_file);

// Turns a stream of token ids into text deltas that are always whole UTF-8
// characters: bytes of an incomplete character are held back until the
// character completes (or flushed as U+FFFD at the end if it never does).
class StreamingDetokenizer {
 public:
  explicit StreamingDetokenizer(const Tokenizer& tokenizer) : tokenizer_(tokenizer) {}
  // Returns the text that became complete with this token (may be empty).
  std::string push(int32_t id);
  // Returns whatever is still held back, with invalid bytes replaced.
  std::string flush();
  // All text emitted so far.
  const std::string& text() const { return text_; }

 private:
  const Tokenizer& tokenizer_;
  std::string pending_;
  std::string text_;
  bool first_ = true;
};

// Length of the longest prefix of `bytes` that is complete UTF-8
// (an incomplete trailing sequence is excluded; invalid bytes count as
// complete so they are never held forever).
size_t complete_utf8_prefix(std::string_view bytes);

}  // namespace samba
