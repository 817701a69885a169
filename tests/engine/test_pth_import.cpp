// microsoft/Samba training checkpoints (.pth) through
// tools/convert/samba_pth_to_hf.py into a model folder the engine runs.
// The checkpoints are synthetic but have the real structure (model-spec §1):
// a torch.save'd dict with "model" (fp32, reference names, fused grouped QKV,
// lm_head.weight sharing the embedding's storage), "optimizer" (a real AdamW
// state), "hparams" and "iter_num".
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "reference.h"
#include "samba/backend.h"
#include "samba/config.h"
#include "samba/safetensors.h"
#include "samba/weights.h"

namespace {

namespace fs = std::filesystem;
using samba_test::python_tool;
using samba_test::shell_quote;
using samba_test::TinyConfig;

constexpr double kLogitTolerance = 1e-5;

TinyConfig gqa() {
  TinyConfig c;
  c.heads = 4;
  c.kv_heads = 2;
  return c;
}

// Writes the checkpoint of `model_dir` with `extra` make-pth options.
std::string make_pth(const std::string& model_dir, const std::string& out_dir, const std::string& extra = "") {
  const std::string pth = out_dir + "/checkpoint.pth";
  samba_test::run_command(python_tool("reference/samba_reference.py") + " make-pth --model " +
                          shell_quote(model_dir) + " --out " + shell_quote(pth) + " " + extra);
  return pth;
}

std::string converter(const std::string& pth, const std::string& out, const std::string& extra) {
  return python_tool("convert/samba_pth_to_hf.py") + " " + shell_quote(pth) + " --out " + shell_quote(out) +
         " " + extra;
}

// Engine logits of `tokens` (all positions) from a model folder.
std::vector<float> engine_logits(const std::string& model_dir, const std::vector<int32_t>& tokens) {
  auto files = samba::ModelFiles::open(model_dir);
  auto backend = samba::create_cpu_backend(*files, 0);
  std::vector<float> logits;
  samba::ForwardOptions options;
  options.all_logits = true;
  backend->forward(tokens, &logits, options);
  return logits;
}

void expect_same_config(const std::string& converted, const std::string& original) {
  const samba::ModelConfig a = samba::load_config(converted), b = samba::load_config(original);
  EXPECT_EQ(a.n_layer, b.n_layer);
  EXPECT_EQ(a.d_model, b.d_model);
  EXPECT_EQ(a.n_head, b.n_head);
  EXPECT_EQ(a.n_kv_head, b.n_kv_head);
  EXPECT_EQ(a.head_size, b.head_size);
  EXPECT_EQ(a.intermediate, b.intermediate);
  EXPECT_EQ(a.window, b.window);
  EXPECT_EQ(a.vocab_size, b.vocab_size);
  EXPECT_EQ(a.d_inner, b.d_inner);
  EXPECT_EQ(a.dt_rank, b.dt_rank);
  EXPECT_EQ(a.fingerprint(), b.fingerprint());
}

TEST(PthImport, ConvertedCheckpointGivesReferenceLogits) {
  const TinyConfig c = gqa();
  const std::string original = samba_test::make_reference_model(c);
  const std::string work = samba_test::temp_dir("pth-import");
  const std::string pth = make_pth(original, work);
  const std::string converted = work + "/converted";
  samba_test::run_command(converter(pth, converted, "--n-head 4 --n-query-groups 2 --window 16"));

  expect_same_config(converted, original);
  const auto tokens = samba_test::random_tokens(5 * c.window, c.vocab, 23);
  const auto ref = samba_test::reference_logits(original, tokens);
  const auto logits = engine_logits(converted, tokens);
  ASSERT_EQ(logits.size(), ref.size());
  EXPECT_LT(samba_test::relative_error(logits.data(), ref.data(), ref.size()), kLogitTolerance);
  fs::remove_all(work);
}

TEST(PthImport, HeadsAndWindowComeFromHparamsWhenRecorded) {
  const TinyConfig c = gqa();
  const std::string original = samba_test::make_reference_model(c);
  const std::string work = samba_test::temp_dir("pth-hparams");
  const std::string pth = make_pth(original, work, "--hparams-shape");
  const std::string converted = work + "/converted";
  samba_test::run_command(converter(pth, converted, ""));  // no --n-head / --window
  expect_same_config(converted, original);
  fs::remove_all(work);
}

TEST(PthImport, Bf16ConversionEqualsBf16ReferenceModel) {
  // Rounding the checkpoint's fp32 weights to bf16 must give exactly the
  // weights of the reference's bf16 folder of the same seed.
  TinyConfig c = gqa();
  const std::string original = samba_test::make_reference_model(c);
  c.dtype = "bf16";
  const std::string bf16_reference = samba_test::make_reference_model(c);
  const std::string work = samba_test::temp_dir("pth-bf16");
  const std::string converted = work + "/converted";
  samba_test::run_command(converter(make_pth(original, work), converted,
                                    "--n-head 4 --n-query-groups 2 --window 16 --dtype bf16"));

  auto file = samba::SafetensorsFile::open(converted + "/model.safetensors");
  for (const auto& [name, info] : file->tensors())
    EXPECT_EQ(info.dtype, samba::DType::BF16) << name;
  const auto tokens = samba_test::random_tokens(3 * c.window, c.vocab, 29);
  const auto ref = samba_test::reference_logits(bf16_reference, tokens);
  const auto logits = engine_logits(converted, tokens);
  ASSERT_EQ(logits.size(), ref.size());
  EXPECT_LT(samba_test::relative_error(logits.data(), ref.data(), ref.size()), kLogitTolerance);
  fs::remove_all(work);
}

// A broken checkpoint: the converter exits nonzero, names the problem, and
// leaves no model folder behind.
struct BrokenCase {
  const char* name;
  const char* make_pth_options;
  std::vector<std::string> message_parts;
};

class BrokenCheckpoint : public ::testing::TestWithParam<BrokenCase> {};

TEST_P(BrokenCheckpoint, FailsWithAClearMessage) {
  const BrokenCase& broken = GetParam();
  const std::string original = samba_test::make_reference_model(gqa());
  const std::string work = samba_test::temp_dir(std::string("pth-") + broken.name);
  const std::string pth = make_pth(original, work, broken.make_pth_options);
  const std::string converted = work + "/converted";
  const auto result =
      samba_test::run_command_status(converter(pth, converted, "--n-head 4 --n-query-groups 2 --window 16"));
  EXPECT_NE(result.exit_code, 0) << result.output;
  for (const auto& part : broken.message_parts)
    EXPECT_NE(result.output.find(part), std::string::npos) << "expected '" << part << "' in:\n" << result.output;
  EXPECT_EQ(result.output.find("Traceback"), std::string::npos) << "a clear message, not a traceback:\n"
                                                                 << result.output;
  EXPECT_FALSE(fs::exists(converted + "/model.safetensors"));
  fs::remove_all(work);
}

INSTANTIATE_TEST_SUITE_P(
    Cases, BrokenCheckpoint,
    ::testing::Values(
        BrokenCase{"no_model", "--omit-model", {"checkpoint.pth", "no 'model' entry"}},
        BrokenCase{"missing_tensor", "--drop-tensor transformer.h.2.attn.dt_proj.bias",
                   {"checkpoint.pth", "missing", "transformer.h.2.attn.dt_proj.bias"}},
        BrokenCase{"wrong_shape", "--truncate-tensor transformer.h.1.mlp.swiglu.w3.weight",
                   {"transformer.h.1.mlp.swiglu.w3.weight", "shape", "[63, 128]", "[64, 128]"}}),
    [](const ::testing::TestParamInfo<BrokenCase>& info) { return std::string(info.param.name); });

TEST(PthImport, PickleThatRunsCodeIsRefusedWithoutRunningIt) {
  // A .pth is a pickle; a hostile one names a callable (here os.system) that
  // a plain unpickler would call. The converter must refuse it unrun.
  const std::string work = samba_test::temp_dir("pth-hostile");
  const std::string marker = work + "/code-ran";
  const std::string script = work + "/make_hostile.py";
  std::ofstream(script) << "import os, sys, torch\n"
                           "class Payload:\n"
                           "    def __reduce__(self):\n"
                           "        return (os.system, ('touch ' + sys.argv[2],))\n"
                           "torch.save({'model': {'transformer.wte.weight': torch.zeros(4, 4)},"
                           " 'hparams': Payload()}, sys.argv[1])\n";
  const std::string pth = work + "/hostile.pth";
  samba_test::run_command(shell_quote(SAMBA_REFERENCE_PYTHON) + " " + shell_quote(script) + " " +
                          shell_quote(pth) + " " + shell_quote(marker));
  const auto result = samba_test::run_command_status(converter(pth, work + "/converted", "--n-head 1"));
  EXPECT_NE(result.exit_code, 0) << result.output;
  EXPECT_NE(result.output.find("refusing to unpickle"), std::string::npos) << result.output;
  EXPECT_FALSE(fs::exists(marker)) << "the checkpoint's code ran";
  fs::remove_all(work);
}

}  // namespace
