// Test support: drives the independent PyTorch reference
// (tools/reference/samba_reference.py, run with SAMBA_REFERENCE_PYTHON) and
// Debian's spm_train to produce model folders, tokenizers and expected
// outputs at test time. Every failure throws with the command's captured
// output, so a missing python, torch or spm_train fails the test loudly;
// nothing here ever skips.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace samba_test {

// A tiny random-weight model of the reference's make-model command.
struct TinyConfig {
  int layers = 4, d_model = 64, heads = 4, kv_heads = 4, head_size = 0, intermediate = 128,
      window = 16, vocab = 512;
  uint64_t seed = 1;
  std::string dtype = "f32";  // "f32" or "bf16"
  bool fused_qkv = false;     // store the reference's fused attn.attn.weight
  bool with_tokenizer = false;  // add a SentencePiece tokenizer.model of `vocab` pieces
};
// A readable name for parameterized tests ("L4_d64_h4_kv2_f32_split").
std::string describe(const TinyConfig& config);

// The model folder for `config`, made once under SAMBA_TEST_WORK_DIR and
// reused while it is complete and the reference's source is unchanged. Made
// in a temporary folder and renamed into place, so concurrent tests never see
// a half-written folder.
std::string make_reference_model(const TinyConfig& config);

// The reference's outputs for `tokens` read from position 0.
struct ReferenceOutput {
  std::vector<double> logits;   // [n][vocab]
  std::vector<double> entropy;  // [n_swa_layers][n][n_head], nats
};
ReferenceOutput reference_forward(const std::string& model_dir, const std::vector<int32_t>& tokens);
std::vector<double> reference_logits(const std::string& model_dir, const std::vector<int32_t>& tokens);
std::vector<double> reference_entropy(const std::string& model_dir,
                                      const std::vector<int32_t>& tokens);

// A SentencePiece model (BPE, byte fallback, unk 0 / bos 1 / eos 2) of
// exactly `vocab` pieces, trained once with spm_train on the licence texts
// every Debian system has; returns the path of the .model file.
std::string make_test_tokenizer(int vocab);

// Deterministic pseudo-random tokens in [0, vocab).
std::vector<int32_t> random_tokens(size_t n, int vocab, uint64_t seed);

// ||got - ref|| / ||ref|| (NaN in `got` gives NaN, which fails any `<` check).
double relative_error(const float* got, const double* ref, size_t n);

// Runs `command` through /bin/sh with stderr merged into stdout. Returns the
// output; throws std::runtime_error with the command, exit status and output
// when it does not exit 0.
std::string run_command(const std::string& command);
// The same without throwing, for tests that expect a failure.
struct CommandResult {
  int exit_code = -1;  // -1 when killed by a signal
  std::string output;
};
CommandResult run_command_status(const std::string& command);
// `s` quoted for /bin/sh.
std::string shell_quote(const std::string& s);
// "<python> <source>/tools/<relative_script>", quoted, ready for arguments.
std::string python_tool(const std::string& relative_script);

// A new empty folder under SAMBA_TEST_WORK_DIR/tmp whose name starts with `name`.
std::string temp_dir(const std::string& name);

}  // namespace samba_test
