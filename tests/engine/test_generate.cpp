// Generation on a tiny reference model: agreement with a hand-written greedy
// loop, stop strings, streaming deltas, cancellation, progress, and resuming
// from a model-state snapshot.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <thread>

#include "reference.h"
#include "samba/backend.h"
#include "samba/error.h"
#include "samba/generate.h"
#include "samba/model_state.h"
#include "samba/tokenizer.h"
#include "samba/weights.h"

namespace {

class Generate : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    samba_test::TinyConfig config;
    config.with_tokenizer = true;
    config.window = 16;
    folder_ = new std::string(samba_test::make_reference_model(config));
  }
  static void TearDownTestSuite() { delete folder_; }

  void SetUp() override {
    files_ = samba::ModelFiles::open(*folder_);
    tokenizer_ = samba::load_tokenizer(*folder_);
    backend_ = samba::create_cpu_backend(*files_);
    prompt_ = tokenizer_->encode(
        "The pass key is hidden somewhere in this text. Licenses are long documents about "
        "freedom to share and change software.");
  }

  static std::string* folder_;
  std::unique_ptr<samba::ModelFiles> files_;
  std::unique_ptr<samba::Tokenizer> tokenizer_;
  std::unique_ptr<samba::Backend> backend_;
  std::vector<int32_t> prompt_;
};
std::string* Generate::folder_ = nullptr;

bool valid_utf8(std::string_view s) { return samba::complete_utf8_prefix(s) == s.size(); }

TEST_F(Generate, GreedyEqualsAHandWrittenArgmaxLoop) {
  samba::GenerateOptions options;
  options.max_new_tokens = 24;
  options.stop_at_eos = false;
  const samba::GenerateResult r = samba::generate(*backend_, *tokenizer_, prompt_, options);
  ASSERT_EQ(r.tokens.size(), 24u);
  EXPECT_EQ(backend_->position(), static_cast<int64_t>(prompt_.size() + 24));

  auto fresh = samba::create_cpu_backend(*files_);
  std::vector<float> logits;
  fresh->forward(prompt_, &logits);
  std::vector<int32_t> expected;
  for (int i = 0; i < 24; ++i) {
    const int32_t next = static_cast<int32_t>(std::max_element(logits.begin(), logits.end()) - logits.begin());
    expected.push_back(next);
    fresh->forward(std::span<const int32_t>(&next, 1), &logits);
  }
  EXPECT_EQ(r.tokens, expected);
  EXPECT_EQ(r.text, tokenizer_->decode(expected));
  EXPECT_EQ(r.final_logits, logits);
}

TEST_F(Generate, DeltasAreWholeCharactersAndAddUpToTheText) {
  samba::GenerateOptions options;
  options.max_new_tokens = 40;
  options.sampling.temperature = 1.0f;
  options.sampling.seed = 9;
  std::string streamed;
  int calls = 0;
  options.on_token = [&](std::string_view delta, int32_t) {
    EXPECT_TRUE(valid_utf8(delta));
    streamed += delta;
    ++calls;
    return true;
  };
  const samba::GenerateResult r = samba::generate(*backend_, *tokenizer_, prompt_, options);
  EXPECT_EQ(streamed, r.text);
  EXPECT_GE(calls, static_cast<int>(r.tokens.size()));
}

TEST_F(Generate, StopStringCutsTheTextBeforeIt) {
  samba::GenerateOptions options;
  options.max_new_tokens = 40;
  options.stop_at_eos = false;
  const std::string full = samba::generate(*backend_, *tokenizer_, prompt_, options).text;
  ASSERT_GE(full.size(), 8u) << "the tiny model produced too little text to pick a stop string";
  // A stop string from the middle of the greedy output.
  const size_t at = full.size() / 2;
  const std::string stop = full.substr(at, 3);
  const size_t first = full.find(stop);

  backend_->reset();
  options.stop_strings = {stop};
  std::string streamed;
  options.on_token = [&](std::string_view delta, int32_t) {
    streamed += delta;
    return true;
  };
  const samba::GenerateResult r = samba::generate(*backend_, *tokenizer_, prompt_, options);
  EXPECT_EQ(r.stop_reason, samba::StopReason::StopString);
  EXPECT_EQ(r.text, full.substr(0, first));
  EXPECT_EQ(streamed, r.text);
  EXPECT_EQ(streamed.find(stop), std::string::npos);
}

TEST_F(Generate, CallbackCanStopAndCancelTakesEffectWithinOneToken) {
  samba::CancelToken cancel;
  samba::GenerateOptions options;
  options.max_new_tokens = 50;
  options.stop_at_eos = false;
  options.prefill.cancel = &cancel;
  int seen = 0;
  options.on_token = [&](std::string_view, int32_t token) {
    if (token >= 0 && ++seen == 3) cancel.cancel();
    return true;
  };
  samba::GenerateResult r = samba::generate(*backend_, *tokenizer_, prompt_, options);
  EXPECT_EQ(r.stop_reason, samba::StopReason::Cancelled);
  EXPECT_EQ(r.tokens.size(), 3u);

  backend_->reset();
  options.prefill.cancel = nullptr;
  seen = 0;
  options.on_token = [&](std::string_view, int32_t token) { return !(token >= 0 && ++seen == 5); };
  r = samba::generate(*backend_, *tokenizer_, prompt_, options);
  EXPECT_EQ(r.stop_reason, samba::StopReason::Callback);
  EXPECT_EQ(r.tokens.size(), 5u);
}

TEST_F(Generate, CancelFromAnotherThreadStopsTheDecodeLoop) {
  samba::CancelToken cancel;
  samba::GenerateOptions options;
  options.max_new_tokens = 100000;  // would run for minutes if not cancelled
  options.stop_at_eos = false;
  options.prefill.cancel = &cancel;
  std::atomic<int> tokens{0};
  options.on_token = [&](std::string_view, int32_t) {
    ++tokens;
    return true;
  };
  std::thread stopper([&] {
    while (tokens.load() < 10) std::this_thread::yield();
    cancel.cancel();
  });
  const samba::GenerateResult r = samba::generate(*backend_, *tokenizer_, prompt_, options);
  stopper.join();
  EXPECT_EQ(r.stop_reason, samba::StopReason::Cancelled);
  EXPECT_LT(r.tokens.size(), 1000u);
}

TEST_F(Generate, PrefillReportsProgressAndCancelsBetweenChunks) {
  std::vector<int32_t> long_prompt;
  while (long_prompt.size() < 200) long_prompt.insert(long_prompt.end(), prompt_.begin(), prompt_.end());
  long_prompt.resize(200);
  samba::CancelToken cancel;
  samba::PrefillOptions options;
  options.chunk_tokens = 32;
  options.cancel = &cancel;
  std::vector<int64_t> progress;
  options.on_progress = [&](int64_t done, int64_t total) {
    EXPECT_EQ(total, 200);
    progress.push_back(done);
  };
  samba::prefill(*backend_, long_prompt, options);
  EXPECT_EQ(progress, (std::vector<int64_t>{32, 64, 96, 128, 160, 192, 200}));

  backend_->reset();
  progress.clear();
  options.on_progress = [&](int64_t done, int64_t) {
    progress.push_back(done);
    if (done >= 64) cancel.cancel();
  };
  try {
    samba::prefill(*backend_, long_prompt, options);
    FAIL() << "prefill was not cancelled";
  } catch (const samba::Error& e) {
    EXPECT_EQ(e.kind(), samba::ErrorKind::Cancelled);
  }
  EXPECT_EQ(backend_->position(), 64);
}

TEST_F(Generate, ResumingFromASnapshotGivesTheSameAnswer) {
  const std::vector<float> after_prompt = samba::prefill(*backend_, prompt_);
  const std::vector<uint8_t> blob = samba::serialize_state(backend_->save_state());
  samba::GenerateOptions options;
  options.max_new_tokens = 20;
  options.stop_at_eos = false;
  options.sampling.temperature = 0.9f;
  options.sampling.seed = 77;
  const samba::GenerateResult first = samba::generate(*backend_, *tokenizer_, {}, options, after_prompt);

  auto other = samba::create_cpu_backend(*files_);
  other->load_state(samba::deserialize_state(files_->config(), blob.data(), blob.size()));
  EXPECT_EQ(other->position(), static_cast<int64_t>(prompt_.size()));
  const samba::GenerateResult second = samba::generate(*other, *tokenizer_, {}, options, after_prompt);
  EXPECT_EQ(first.tokens, second.tokens);
  EXPECT_EQ(first.text, second.text);
}

TEST_F(Generate, NeedsAPromptOrLogits) {
  samba::GenerateOptions options;
  EXPECT_THROW(samba::generate(*backend_, *tokenizer_, {}, options), samba::Error);
  options.stop_strings = {""};
  EXPECT_THROW(samba::generate(*backend_, *tokenizer_, prompt_, options), samba::Error);
}

}  // namespace
