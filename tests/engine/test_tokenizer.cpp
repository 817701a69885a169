// SentencePiece tokenizer and streaming detokenizer. Two tiny BPE models
// with byte fallback are trained here with Debian's spm_train: one with the
// trainer's default normalizer (NFKC, extra whitespace removed) and one
// set up like Llama's (no normalization, whitespace kept), because the two
// treat leading spaces differently when decoding.
#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>

#include "samba/error.h"
#include "samba/tokenizer.h"

namespace {

namespace fs = std::filesystem;
using samba::ErrorKind;
using samba::Tokenizer;

// Strict UTF-8 check written from the code-point ranges (not from the
// detokenizer's table): decode each sequence and check range, overlong forms
// and surrogates.
bool is_valid_utf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    const auto b0 = static_cast<unsigned char>(s[i]);
    size_t length = 0;
    uint32_t cp = 0;
    if (b0 < 0x80) { length = 1; cp = b0; }
    else if ((b0 & 0xE0) == 0xC0) { length = 2; cp = b0 & 0x1F; }
    else if ((b0 & 0xF0) == 0xE0) { length = 3; cp = b0 & 0x0F; }
    else if ((b0 & 0xF8) == 0xF0) { length = 4; cp = b0 & 0x07; }
    else return false;
    if (i + length > s.size()) return false;
    for (size_t k = 1; k < length; ++k) {
      const auto b = static_cast<unsigned char>(s[i + k]);
      if ((b & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (b & 0x3F);
    }
    const uint32_t minimum[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < minimum[length] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += length;
  }
  return true;
}

std::string corpus_text() {
  // Varied English-like text; no characters outside ASCII, so every
  // non-ASCII character must be encoded through byte fallback.
  const char* words[] = {"the", "model", "reads", "a", "long", "document", "and", "writes",
                         "short", "summary", "state", "space", "window", "attention", "token",
                         "stream", "of", "text", "with", "memory", "layers", "engine", "fast",
                         "code", "review", "question", "answer", "page", "is", "in", "to"};
  std::mt19937 rng(7);
  std::uniform_int_distribution<size_t> pick(0, std::size(words) - 1);
  std::string text;
  for (int line = 0; line < 1500; ++line) {
    for (int w = 0; w < 10; ++w) text += std::string(w ? " " : "") + words[pick(rng)];
    text += (line % 3 == 0) ? ".\n" : (line % 3 == 1 ? ", 42 items!\n" : "?\n");
  }
  return text;
}

class TokenizerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    std::string pattern = (fs::temp_directory_path() / "samba-tokenizer-XXXXXX").string();
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    std::ofstream(dir_ + "/corpus.txt") << corpus_text();
    train("nfkc", "");
    train("llama", "--normalization_rule_name=identity --remove_extra_whitespaces=false "
                   "--split_digits=true");
  }
  static void TearDownTestSuite() { fs::remove_all(dir_); }

  static void train(const std::string& name, const std::string& extra) {
    fs::create_directories(dir_ + "/" + name);
    const std::string log = dir_ + "/" + name + ".log";
    const std::string command = "spm_train --input=" + dir_ + "/corpus.txt --model_prefix=" + dir_ +
                                "/" + name + "/tokenizer --model_type=bpe --vocab_size=320 "
                                "--byte_fallback=true --character_coverage=1.0 " + extra +
                                " > " + log + " 2>&1";
    const int status = std::system(command.c_str());
    if (status != 0) {
      std::ifstream in(log);
      const std::string output{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
      FAIL() << "spm_train failed (Debian package 'sentencepiece' provides it): " << command
             << "\n" << output.substr(output.size() > 3000 ? output.size() - 3000 : 0);
    }
  }

  static std::unique_ptr<Tokenizer> load(const std::string& name) {
    return samba::load_tokenizer(dir_ + "/" + name);
  }

  static std::string dir_;
};
std::string TokenizerTest::dir_;

// The id of the piece "▁" (a single space that is dropped at the start of
// the text), as opposed to the byte piece <0x20>, which is never dropped.
int32_t lone_space_id(const Tokenizer& tok) {
  for (int32_t id = 0; id < tok.vocab_size(); ++id) {
    if (!tok.is_control(id) && tok.token_bytes(id, false) == " " && tok.token_bytes(id, true).empty()) {
      return id;
    }
  }
  ADD_FAILURE() << "no lone space piece in the vocabulary";
  return 0;
}

const std::vector<std::string>& sample_texts() {
  static const std::vector<std::string> texts = {
      "the model reads a long document",
      "Summary: the engine writes 42 short answers, fast!",
      "naïve café — résumé",
      "日本語のテキストと中文",
      "emoji 🙂🚀 in the stream 👩‍💻",
      "mixed: a=1; b=[2, 3] {code} \\ \"quoted\" ~`|",
      "é",
      "🙂",
  };
  return texts;
}

TEST_F(TokenizerTest, LoadsWithTheExpectedVocabulary) {
  for (const char* name : {"nfkc", "llama"}) {
    const auto tok = load(name);
    EXPECT_EQ(tok->family(), "sentencepiece");
    EXPECT_EQ(tok->vocab_size(), 320);
    EXPECT_EQ(tok->bos_id(), 1);
    EXPECT_EQ(tok->eos_id(), 2);
    EXPECT_TRUE(tok->is_control(1));
    EXPECT_TRUE(tok->is_control(2));
    EXPECT_FALSE(tok->is_control(0)) << "<unk> is not a control token";
    EXPECT_FALSE(tok->is_control(tok->encode("the")[0]));
  }
}

TEST_F(TokenizerTest, EncodeDecodeRoundTrips) {
  for (const char* name : {"nfkc", "llama"}) {
    SCOPED_TRACE(name);
    const auto tok = load(name);
    for (const std::string& text : sample_texts()) {
      SCOPED_TRACE(text);
      const auto ids = tok->encode(text);
      ASSERT_FALSE(ids.empty());
      EXPECT_NE(ids.front(), tok->bos_id()) << "encode must not add BOS";
      for (int32_t id : ids) EXPECT_TRUE(id >= 0 && id < tok->vocab_size());
      EXPECT_EQ(tok->decode(ids), text);
    }
  }
  // Whitespace survives only where the normalizer keeps it.
  const auto llama = load("llama");
  EXPECT_EQ(llama->decode(llama->encode("two  spaces ")), "two  spaces ");
  EXPECT_EQ(llama->decode(llama->encode("tabs\tand\nnew lines")), "tabs\tand\nnew lines");
  const auto nfkc = load("nfkc");
  EXPECT_EQ(nfkc->decode(nfkc->encode("  two  spaces ")), "two spaces");
  EXPECT_EQ(nfkc->decode(nfkc->encode("tabs\tand\nnew lines")), "tabs and new lines");
  EXPECT_TRUE(llama->encode("").empty());
}

TEST_F(TokenizerTest, NonAsciiFallsBackToSingleBytes) {
  const auto tok = load("llama");
  for (const std::string text : {"日本語", "🙂", "中文"}) {
    std::string bytes;
    int byte_pieces = 0;
    for (int32_t id : tok->encode(text)) {
      const std::string piece = tok->token_bytes(id, false);
      if (piece.size() == 1 && static_cast<unsigned char>(piece[0]) >= 0x80) ++byte_pieces;
      bytes += piece;
    }
    EXPECT_EQ(byte_pieces, static_cast<int>(text.size())) << text << ": every byte is its own piece";
    EXPECT_EQ(bytes, " " + text) << "token_bytes after the first keeps the dummy-prefix space";
  }
}

TEST_F(TokenizerTest, TokenBytesConcatenateToDecode) {
  for (const char* name : {"nfkc", "llama"}) {
    const auto tok = load(name);
    for (const std::string& text : sample_texts()) {
      const auto ids = tok->encode(text);
      std::string joined;
      for (size_t i = 0; i < ids.size(); ++i) joined += tok->token_bytes(ids[i], i == 0);
      EXPECT_EQ(joined, tok->decode(ids)) << name << ": " << text;
    }
  }
}

// Feeds `ids` through a streaming detokenizer and checks the contract:
// every delta is valid UTF-8, and the deltas plus flush equal decode().
void check_stream(const Tokenizer& tok, const std::vector<int32_t>& ids) {
  samba::StreamingDetokenizer stream(tok);
  std::string joined;
  for (int32_t id : ids) {
    const std::string delta = stream.push(id);
    ASSERT_TRUE(is_valid_utf8(delta)) << "delta is not valid UTF-8";
    joined += delta;
  }
  const std::string tail = stream.flush();
  ASSERT_TRUE(is_valid_utf8(tail));
  joined += tail;
  EXPECT_EQ(joined, tok.decode(ids));
  EXPECT_EQ(stream.text(), joined);
}

TEST_F(TokenizerTest, StreamingEqualsDecodeForEncodedText) {
  for (const char* name : {"nfkc", "llama"}) {
    const auto tok = load(name);
    for (const std::string& text : sample_texts()) {
      SCOPED_TRACE(std::string(name) + ": " + text);
      check_stream(*tok, tok->encode(text));
    }
  }
}

TEST_F(TokenizerTest, StreamingHoldsBackPartialCharacters) {
  const auto tok = load("llama");
  const auto ids = tok->encode("日");  // "▁" then three byte pieces
  samba::StreamingDetokenizer stream(*tok);
  std::vector<std::string> deltas;
  for (int32_t id : ids) deltas.push_back(stream.push(id));
  ASSERT_GE(deltas.size(), 3u);
  EXPECT_EQ(deltas[deltas.size() - 3], "");
  EXPECT_EQ(deltas[deltas.size() - 2], "");
  EXPECT_EQ(deltas.back(), "日");
  EXPECT_EQ(stream.flush(), "");
  EXPECT_EQ(stream.text(), "日");
}

TEST_F(TokenizerTest, FlushReplacesAnIncompleteTail) {
  const auto tok = load("llama");
  auto ids = tok->encode("a 🙂");
  ids.pop_back();  // drop the emoji's last byte piece
  samba::StreamingDetokenizer stream(*tok);
  std::string joined;
  for (int32_t id : ids) joined += stream.push(id);
  EXPECT_EQ(joined, "a ") << "the three bytes of the unfinished emoji are held back";
  const std::string tail = stream.flush();
  EXPECT_EQ(tail, "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD") << "one U+FFFD per byte, like decode()";
  EXPECT_EQ(joined + tail, tok->decode(ids));
}

// Random id sequences (not only what encode produces) stress the rules for
// leading spaces, control tokens, <unk> and stray byte pieces.
TEST_F(TokenizerTest, StreamingEqualsDecodeForRandomIds) {
  for (const char* name : {"nfkc", "llama"}) {
    SCOPED_TRACE(name);
    const auto tok = load(name);
    std::vector<int32_t> byte_ids, space_ids, text_ids;
    for (int32_t id = 0; id < tok->vocab_size(); ++id) {
      const std::string b = tok->token_bytes(id, false);
      if (tok->is_control(id)) continue;
      if (b.size() == 1 && static_cast<unsigned char>(b[0]) >= 0x80) byte_ids.push_back(id);
      else if (!b.empty() && b[0] == ' ') space_ids.push_back(id);
      else text_ids.push_back(id);
    }
    ASSERT_GE(byte_ids.size(), 128u);
    ASSERT_FALSE(space_ids.empty());
    // Bytes of real multi-byte characters, so complete characters occur too.
    std::vector<std::vector<int32_t>> characters;
    for (const std::string text : {"é", "日", "🙂", "—"}) {
      auto ids = tok->encode(text);
      ids.erase(ids.begin());  // the dummy-prefix "▁"
      characters.push_back(ids);
    }
    const int32_t lone_space = lone_space_id(*tok);
    std::mt19937 rng(99);
    auto pick = [&](const std::vector<int32_t>& from) {
      return from[std::uniform_int_distribution<size_t>(0, from.size() - 1)(rng)];
    };
    for (int trial = 0; trial < 400; ++trial) {
      std::vector<int32_t> ids;
      const int length = std::uniform_int_distribution<int>(1, 12)(rng);
      for (int i = 0; i < length; ++i) {
        switch (std::uniform_int_distribution<int>(0, 6)(rng)) {
          case 0: ids.push_back(pick(byte_ids)); break;
          case 1: ids.push_back(pick(space_ids)); break;
          case 2: ids.push_back(pick(text_ids)); break;
          case 3: ids.push_back(std::uniform_int_distribution<int32_t>(0, 2)(rng)); break;
          case 4: ids.push_back(lone_space); break;
          default: {
            const auto& c = characters[std::uniform_int_distribution<size_t>(0, 3)(rng)];
            ids.insert(ids.end(), c.begin(), c.end());
          }
        }
      }
      SCOPED_TRACE("trial " + std::to_string(trial));
      check_stream(*tok, ids);
      if (HasFatalFailure() || HasNonfatalFailure()) return;
    }
  }
}

TEST_F(TokenizerTest, LeadingSpacesFollowTheModel) {
  // A lone "▁" before a word: the Llama-style model drops one leading space,
  // the NFKC model (remove_extra_whitespaces) drops all of them.
  for (const char* name : {"nfkc", "llama"}) {
    const auto tok = load(name);
    const int32_t lone = lone_space_id(*tok);
    const auto word = tok->encode("the");
    std::vector<int32_t> ids = {lone};
    ids.insert(ids.end(), word.begin(), word.end());
    check_stream(*tok, ids);
    std::vector<int32_t> with_control = {tok->eos_id(), lone, lone};
    with_control.insert(with_control.end(), word.begin(), word.end());
    check_stream(*tok, with_control);
  }
}

TEST_F(TokenizerTest, OutOfRangeIdsAreRejected) {
  const auto tok = load("llama");
  EXPECT_THROW(tok->token_bytes(320, false), samba::Error);
  EXPECT_THROW(tok->token_bytes(-1, true), samba::Error);
  EXPECT_THROW(tok->decode({5, 1000}), samba::Error);
  EXPECT_THROW(tok->is_control(99999), samba::Error);
  samba::StreamingDetokenizer stream(*tok);
  EXPECT_THROW(stream.push(320), samba::Error);
}

TEST_F(TokenizerTest, FolderErrorsAreClear) {
  const std::string empty = dir_ + "/empty";
  fs::create_directories(empty);
  try {
    samba::load_tokenizer(empty);
    ADD_FAILURE() << "loaded a tokenizer from an empty folder";
  } catch (const samba::Error& e) {
    EXPECT_NE(std::string(e.what()).find("tokenizer.model"), std::string::npos) << e.what();
  }

  const std::string bpe = dir_ + "/bpe";
  fs::create_directories(bpe);
  std::ofstream(bpe + "/tokenizer.json") << R"({"model": {"type": "BPE"}})";
  try {
    samba::load_tokenizer(bpe);
    ADD_FAILURE() << "loaded tokenizer.json";
  } catch (const samba::Error& e) {
    const std::string message = e.what();
    EXPECT_EQ(static_cast<int>(e.kind()), static_cast<int>(ErrorKind::InvalidModel));
    EXPECT_NE(message.find(bpe + "/tokenizer.json"), std::string::npos) << message;
    EXPECT_NE(message.find("byte-level BPE"), std::string::npos) << message;
    EXPECT_NE(message.find("not supported yet"), std::string::npos) << message;
  }

  const std::string corrupt = dir_ + "/corrupt";
  fs::create_directories(corrupt);
  {
    std::ofstream out(corrupt + "/tokenizer.model", std::ios::binary);
    std::mt19937 rng(3);
    for (int i = 0; i < 4096; ++i) out.put(static_cast<char>(rng()));
  }
  try {
    samba::load_tokenizer(corrupt);
    ADD_FAILURE() << "loaded a corrupt tokenizer.model";
  } catch (const samba::Error& e) {
    EXPECT_EQ(static_cast<int>(e.kind()), static_cast<int>(ErrorKind::InvalidModel));
    EXPECT_NE(std::string(e.what()).find(corrupt + "/tokenizer.model"), std::string::npos) << e.what();
  }

  try {
    samba::load_sentencepiece(dir_ + "/nope.model");
    ADD_FAILURE() << "loaded a missing file";
  } catch (const samba::Error& e) {
    EXPECT_EQ(static_cast<int>(e.kind()), static_cast<int>(ErrorKind::Io));
    EXPECT_NE(std::string(e.what()).find("nope.model"), std::string::npos);
  }
}

TEST(CompleteUtf8Prefix, EdgeCases) {
  using samba::complete_utf8_prefix;
  EXPECT_EQ(complete_utf8_prefix(""), 0u);
  EXPECT_EQ(complete_utf8_prefix("abc"), 3u);
  EXPECT_EQ(complete_utf8_prefix("a\xC3"), 1u) << "2-byte sequence cut after its lead";
  EXPECT_EQ(complete_utf8_prefix("\xC3\xA9"), 2u);
  EXPECT_EQ(complete_utf8_prefix("a\xE6\x97"), 1u) << "3-byte sequence cut after 2";
  EXPECT_EQ(complete_utf8_prefix("\xE6\x97\xA5"), 3u);
  EXPECT_EQ(complete_utf8_prefix("\xF0\x9F\x99"), 0u) << "4-byte sequence cut after 3";
  EXPECT_EQ(complete_utf8_prefix("\xF0\x9F\x99\x82"), 4u);
  EXPECT_EQ(complete_utf8_prefix("\xF0\x9F\x99\x82\xF0"), 4u);
  // Invalid bytes count as complete, so they are never held forever.
  EXPECT_EQ(complete_utf8_prefix("\x80"), 1u) << "stray continuation byte";
  EXPECT_EQ(complete_utf8_prefix("\xC0\xAF"), 2u) << "overlong lead C0";
  EXPECT_EQ(complete_utf8_prefix("\xE0\x80"), 2u) << "overlong 3-byte form can never complete";
  EXPECT_EQ(complete_utf8_prefix("\xE0\xA0"), 0u) << "valid 3-byte prefix";
  EXPECT_EQ(complete_utf8_prefix("\xED\xA0"), 2u) << "surrogate can never complete";
  EXPECT_EQ(complete_utf8_prefix("\xED\x9F"), 0u);
  EXPECT_EQ(complete_utf8_prefix("\xF4\x90"), 2u) << "above U+10FFFF";
  EXPECT_EQ(complete_utf8_prefix("\xF4\x8F"), 0u);
  EXPECT_EQ(complete_utf8_prefix("\xF5"), 1u);
  EXPECT_EQ(complete_utf8_prefix("\xFF\xFE"), 2u);
  EXPECT_EQ(complete_utf8_prefix("\xE6\x97x"), 3u) << "interrupted sequence: both bytes invalid";
  EXPECT_EQ(complete_utf8_prefix(std::string_view("\0\xE6", 2)), 1u) << "NUL is a character";
}

}  // namespace
