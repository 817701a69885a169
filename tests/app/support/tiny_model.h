// A tiny random-weight SAMBA model folder (config.json, model.safetensors,
// tokenizer.model) made at test time with the engine's own writer and
// Debian's spm_train, so the app tests need no Python and no download.
// Random weights produce nonsense text, which is all the app tests need:
// tokens that stream, a state that can be saved, an engine that can fail.
#pragma once

#include <QString>
#include <cstdint>

namespace sambalens_test {

struct TinyModelSpec {
  int layers = 2;
  int dModel = 32;
  int heads = 2;
  int kvHeads = 1;
  int intermediate = 64;
  int window = 16;
  int vocab = 512;       // tokenizer pieces == model vocab
  int trainLength = 64;  // what the token budget compares against
  uint64_t seed = 7;
};

// The folder for `spec`, made once under workDir()/models and reused; made
// in a temporary folder and renamed, so parallel tests never see half of it.
QString makeTinyModel(const TinyModelSpec& spec = {});

}  // namespace sambalens_test
