// Picks the tokenizer family from the files of a model folder.
#include <filesystem>

#include "samba/error.h"
#include "samba/tokenizer.h"

namespace samba {

std::unique_ptr<Tokenizer> load_tokenizer(const std::string& model_folder) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const std::string sentencepiece_file = model_folder + "/tokenizer.model";
  if (fs::exists(sentencepiece_file, ec)) return load_sentencepiece(sentencepiece_file);
  const std::string bpe_file = model_folder + "/tokenizer.json";
  if (fs::exists(bpe_file, ec)) {
    throw Error(ErrorKind::InvalidModel,
                bpe_file + ": Hugging Face byte-level BPE tokenizers (tokenizer.json) are not "
                           "supported yet; this version reads SentencePiece tokenizer.model files");
  }
  throw Error(ErrorKind::InvalidModel,
              model_folder + ": no tokenizer in the model folder (expected tokenizer.model)");
}

}  // namespace samba
