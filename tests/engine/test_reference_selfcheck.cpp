// The parity tests are only as good as the reference. This runs its
// self-check: the full-sequence forward against a token-by-token decoder
// with explicit conv / SSM / KV-ring state (MHA, GQA, MQA, bf16, 6 blocks,
// 4+ windows), fused vs split QKV, the scan against its closed form, the
// RoPE convention, the conv tap order, the window edge (uniform attention
// has entropy ln min(i+1, W)) and the .pth round trip through the converter;
// and the support library's model folders with a SentencePiece tokenizer.
#include <gtest/gtest.h>

#include <string>

#include "reference.h"
#include "samba/tokenizer.h"

TEST(Reference, SelfCheckPasses) {
  const std::string output =
      samba_test::run_command(samba_test::python_tool("reference/samba_reference.py") + " self-check");
  EXPECT_NE(output.find("self-check passed"), std::string::npos) << output;
  EXPECT_EQ(output.find("FAILED"), std::string::npos) << output;
}

TEST(Reference, ModelFolderWithTokenizerHasExactlyVocabPieces) {
  samba_test::TinyConfig config;
  config.with_tokenizer = true;
  const std::string dir = samba_test::make_reference_model(config);
  const auto tokenizer = samba::load_tokenizer(dir);
  EXPECT_EQ(tokenizer->vocab_size(), config.vocab);
  EXPECT_EQ(tokenizer->bos_id(), 1);
  EXPECT_EQ(tokenizer->eos_id(), 2);
  const std::string text = "This License applies to any program. Ünïcödé falls back to bytes.";
  const auto ids = tokenizer->encode(text);
  for (int32_t id : ids) EXPECT_TRUE(id >= 0 && id < config.vocab) << id;
  EXPECT_EQ(tokenizer->decode(ids), text);
}
