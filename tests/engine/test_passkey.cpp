// The passkey harness: the scorer's edge cases, the prompt builder's exact
// needle depth, and a sweep whose prefix reuse gives the same answers as
// reading every prompt whole.
#include <gtest/gtest.h>

#include <cmath>

#include "reference.h"
#include "samba/backend.h"
#include "samba/error.h"
#include "samba/generate.h"
#include "samba/passkey.h"
#include "samba/tokenizer.h"
#include "samba/weights.h"

namespace {

TEST(FirstInteger, EdgeCases) {
  EXPECT_EQ(samba::first_integer(""), -1);
  EXPECT_EQ(samba::first_integer("no digits here."), -1);
  EXPECT_EQ(samba::first_integer(" 31337. Remember it."), 31337);
  EXPECT_EQ(samba::first_integer("-5"), 5);  // keys are positive: the sign is text
  EXPECT_EQ(samba::first_integer("12a34"), 12);
  EXPECT_EQ(samba::first_integer("007"), 7);
  EXPECT_EQ(samba::first_integer("key 1,234"), 1);
  EXPECT_EQ(samba::first_integer("\xe2\x80\x83" "42"), 42);  // after a multi-byte space
  EXPECT_EQ(samba::first_integer("99999999999999999999999"), -1);
}

class Passkey : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    samba_test::TinyConfig config;
    config.with_tokenizer = true;
    config.window = 32;
    folder_ = new std::string(samba_test::make_reference_model(config));
  }
  static void TearDownTestSuite() { delete folder_; }
  void SetUp() override {
    files_ = samba::ModelFiles::open(*folder_);
    tokenizer_ = samba::load_tokenizer(*folder_);
  }
  static std::string* folder_;
  std::unique_ptr<samba::ModelFiles> files_;
  std::unique_ptr<samba::Tokenizer> tokenizer_;
};
std::string* Passkey::folder_ = nullptr;

TEST_F(Passkey, PromptHasTheExactLengthAndTheNeedleAtTheAskedDepth) {
  samba::PasskeyPromptBuilder builder(*tokenizer_);
  const int64_t head = static_cast<int64_t>(builder.intro().size() + builder.newline().size());
  for (int64_t total : {300, 517, 1024}) {
    for (double depth : {0.0, 0.1, 0.37, 0.5, 1.0}) {
      for (int key : {7, 4242, 50000}) {
        int64_t needle_at = -1;
        const std::vector<int32_t> prompt = builder.build(total, depth, key, &needle_at);
        ASSERT_EQ(static_cast<int64_t>(prompt.size()), total) << total << " " << depth << " " << key;
        const std::vector<int32_t> needle = builder.needle(key);
        ASSERT_TRUE(std::equal(needle.begin(), needle.end(), prompt.begin() + needle_at));
        // Depth is measured in filler tokens before the needle.
        const int64_t filler_before = needle_at - head;
        const int64_t filler_total = builder.filler_tokens(total, 50000);
        EXPECT_EQ(filler_before, std::llround(depth * filler_total));
        const std::vector<int32_t> expected_filler = builder.filler(0, filler_before);
        EXPECT_TRUE(std::equal(expected_filler.begin(), expected_filler.end(), prompt.begin() + head));
        const std::string text = tokenizer_->decode(prompt);
        EXPECT_NE(text.find("The pass key is " + std::to_string(key) + ". Remember it."), std::string::npos);
        EXPECT_EQ(text.rfind("What is the pass key? The pass key is"), text.size() - 37);
      }
    }
  }
  EXPECT_THROW(builder.build(10, 0.5, 1), samba::Error);
  EXPECT_THROW(builder.build(500, 1.5, 1), samba::Error);
}

TEST(PasskeyText, TheBundledTokenizerKeepsTheFormatsNewlines) {
  // The default model's tokenizer keeps newlines (identity normalization):
  // the decoded prompt is the definition's text exactly, parts joined by \n.
  auto tokenizer = samba::load_tokenizer(SAMBA_SOURCE_DIR "/resources/models/samba-lens-default");
  samba::PasskeyPromptBuilder builder(*tokenizer);
  ASSERT_FALSE(builder.newline().empty());
  const std::string text = tokenizer->decode(builder.build(400, 0.5, 31337));
  EXPECT_EQ(text.rfind("There is an important info hidden inside a lot of irrelevant text. Find it and memorize "
                       "them. I will quiz you about the important information there.\nThe grass is green. The sky is "
                       "blue. The sun is yellow. Here we go. There and back again. The grass is green.",
                       0),
            0u)
      << text;
  EXPECT_NE(text.find("\nThe pass key is 31337. Remember it. 31337 is the pass key.\n"), std::string::npos) << text;
  EXPECT_NE(text.find("\nWhat is the pass key? The pass key is"), std::string::npos);
}

TEST_F(Passkey, SweepWithPrefixReuseEqualsReadingEachPromptWhole) {
  auto backend = samba::create_cpu_backend(*files_);
  samba::PasskeySweepSpec spec;
  spec.lengths = {160, 300};
  spec.depths = {1.0, 0.0, 0.5};  // deliberately unsorted
  spec.trials = 2;
  spec.answer_tokens = 6;
  spec.chunk_tokens = 64;
  int progress_calls = 0;
  const samba::PasskeySweepResult r = samba::run_passkey_sweep(
      *backend, *tokenizer_, spec, [&](const samba::PasskeyProgress& p) {
        ++progress_calls;
        EXPECT_EQ(p.trials_total, 12);
      });
  ASSERT_EQ(r.cells.size(), 6u);
  ASSERT_EQ(r.trials.size(), 12u);
  EXPECT_EQ(progress_calls, 12);
  EXPECT_LT(r.tokens_read, r.tokens_in_prompts);  // the shared prefixes were read once
  for (size_t i = 0; i < r.cells.size(); ++i) {
    EXPECT_EQ(r.cells[i].length, spec.lengths[i / 3]);
    EXPECT_EQ(r.cells[i].depth, spec.depths[i % 3]);
    EXPECT_EQ(r.cells[i].trials, 2);
  }

  samba::PasskeyPromptBuilder builder(*tokenizer_);
  auto fresh = samba::create_cpu_backend(*files_);
  for (const samba::PasskeyTrial& t : r.trials) {
    fresh->reset();
    samba::GenerateOptions options;
    options.max_new_tokens = spec.answer_tokens;
    const auto whole = samba::generate(*fresh, *tokenizer_, builder.build(t.length, t.depth, t.key), options);
    EXPECT_EQ(whole.text, t.answer) << "length " << t.length << " depth " << t.depth;
    EXPECT_EQ(t.correct, samba::first_integer(t.answer) == t.key);
  }
}

TEST_F(Passkey, CancelStopsTheSweep) {
  auto backend = samba::create_cpu_backend(*files_);
  samba::CancelToken cancel;
  cancel.cancel();
  samba::PasskeySweepSpec spec;
  spec.lengths = {200};
  spec.depths = {0.5};
  try {
    samba::run_passkey_sweep(*backend, *tokenizer_, spec, {}, &cancel);
    FAIL() << "not cancelled";
  } catch (const samba::Error& e) {
    EXPECT_EQ(e.kind(), samba::ErrorKind::Cancelled);
  }
}

}  // namespace
