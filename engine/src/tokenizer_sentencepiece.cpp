// The SentencePiece tokenizer family (tokenizer.model), through
// libsentencepiece. token_bytes() reproduces what the library's Decode()
// writes for each piece, so that streaming text equals decode() exactly.
#include <sentencepiece_processor.h>

#include <filesystem>

#include "samba/error.h"
#include "samba/tokenizer.h"

namespace samba {
namespace {

const std::string kSpaceSymbol = "\xE2\x96\x81";  // U+2581, SentencePiece's visible space

std::string replace_space_symbols(const std::string& piece) {
  std::string out;
  out.reserve(piece.size());
  for (size_t i = 0; i < piece.size();) {
    if (piece.compare(i, kSpaceSymbol.size(), kSpaceSymbol) == 0) {
      out += ' ';
      i += kSpaceSymbol.size();
    } else {
      out += piece[i++];
    }
  }
  return out;
}

// "<0xAB>" -> 0xAB; -1 if the piece is not in that form.
int byte_of_piece(const std::string& piece) {
  if (piece.size() != 6 || piece.compare(0, 3, "<0x") != 0 || piece[5] != '>') return -1;
  int value = 0;
  for (size_t i = 3; i < 5; ++i) {
    const char c = piece[i];
    value <<= 4;
    if (c >= '0' && c <= '9') value |= c - '0';
    else if (c >= 'A' && c <= 'F') value |= c - 'A' + 10;
    else if (c >= 'a' && c <= 'f') value |= c - 'a' + 10;
    else return -1;
  }
  return value;
}

class SentencePieceTokenizer final : public Tokenizer {
 public:
  explicit SentencePieceTokenizer(const std::string& model_file) : path_(model_file) {
    std::error_code ec;
    if (!std::filesystem::is_regular_file(model_file, ec)) {
      throw Error(ErrorKind::Io, model_file + ": SentencePiece model file not found");
    }
    const sentencepiece::util::Status status = processor_.Load(model_file);
    if (!status.ok()) {
      throw Error(ErrorKind::InvalidModel,
                  model_file + ": not a valid SentencePiece model (" + status.ToString() + ")");
    }
    vocab_size_ = processor_.GetPieceSize();
    if (vocab_size_ <= 0) {
      throw Error(ErrorKind::InvalidModel, model_file + ": SentencePiece model has no pieces");
    }
    // Precompute each piece's output bytes once: decoding is then a lookup.
    surface_.resize(vocab_size_);
    kind_.resize(vocab_size_);
    for (int id = 0; id < vocab_size_; ++id) {
      const std::string& piece = processor_.IdToPiece(id);
      if (processor_.IsControl(id)) {
        kind_[id] = Kind::Control;
      } else if (processor_.IsUnknown(id)) {
        kind_[id] = Kind::Unknown;
        surface_[id] = processor_.DecodeIds({id});  // the model's unk surface, e.g. " \u2047 "
      } else if (processor_.IsByte(id) && byte_of_piece(piece) >= 0) {
        kind_[id] = Kind::Byte;
        surface_[id] = std::string(1, static_cast<char>(byte_of_piece(piece)));
      } else {
        kind_[id] = Kind::Text;
        surface_[id] = replace_space_symbols(piece);
      }
    }
    // Whether Decode() drops the leading space of the first piece depends on
    // the model's normalizer (add_dummy_prefix / remove_extra_whitespaces).
    // Ask the library itself with one piece that starts with a space.
    for (int id = 0; id < vocab_size_; ++id) {
      if (kind_[id] == Kind::Text && surface_[id].size() > 1 && surface_[id][0] == ' ') {
        strips_first_space_ = processor_.DecodeIds({id}) != surface_[id];
        break;
      }
    }
  }

  std::string family() const override { return "sentencepiece"; }
  int vocab_size() const override { return vocab_size_; }
  int bos_id() const override { return processor_.bos_id(); }
  int eos_id() const override { return processor_.eos_id(); }

  std::vector<int32_t> encode(std::string_view text) const override {
    std::vector<int> ids;
    const auto status = processor_.Encode(text, &ids);
    if (!status.ok()) {
      throw Error(ErrorKind::InvalidArgument, path_ + ": cannot encode text (" +
                                                  status.ToString() + ")");
    }
    return {ids.begin(), ids.end()};
  }

  std::string decode(const std::vector<int32_t>& ids) const override {
    for (int32_t id : ids) check_id(id);
    std::string text;
    const auto status = processor_.Decode(std::vector<int>(ids.begin(), ids.end()), &text);
    if (!status.ok()) {
      throw Error(ErrorKind::InvalidArgument, path_ + ": cannot decode ids (" +
                                                  status.ToString() + ")");
    }
    return text;
  }

  std::string token_bytes(int32_t id, bool is_first) const override {
    check_id(id);
    const std::string& surface = surface_[id];
    if (is_first && strips_first_space_ && kind_[id] == Kind::Text && !surface.empty() &&
        surface[0] == ' ') {
      return surface.substr(1);
    }
    return surface;
  }

  bool is_control(int32_t id) const override {
    check_id(id);
    return kind_[id] == Kind::Control;
  }

 private:
  enum class Kind : uint8_t { Text, Byte, Control, Unknown };

  void check_id(int32_t id) const {
    if (id < 0 || id >= vocab_size_) {
      throw Error(ErrorKind::InvalidArgument,
                  path_ + ": token id " + std::to_string(id) + " is outside the vocabulary (0.." +
                      std::to_string(vocab_size_ - 1) + ")");
    }
  }

  std::string path_;
  sentencepiece::SentencePieceProcessor processor_;
  int vocab_size_ = 0;
  std::vector<std::string> surface_;
  std::vector<Kind> kind_;
  bool strips_first_space_ = true;
};

}  // namespace

std::unique_ptr<Tokenizer> load_sentencepiece(const std::string& model_file) {
  return std::make_unique<SentencePieceTokenizer>(model_file);
}

}  // namespace samba
