// The CPU backend against the independent float64 reference
// (tools/reference/samba_reference.py) on tiny random-weight models:
// full-sequence logits, token-by-token decode at every position of a
// sequence several windows long, chunked prefill, snapshots, weight formats
// (bf16, fused QKV) and attention entropy. Contract (model-spec §3):
// fp32 CPU vs fp64 reference, ||Δ|| / ||ref|| < 1e-5.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "reference.h"
#include "samba/backend.h"
#include "samba/model_state.h"
#include "samba/weights.h"

namespace {

using samba_test::TinyConfig;

constexpr double kLogitTolerance = 1e-5;    // fp32 engine vs fp64 reference
constexpr double kEntropyTolerance = 1e-5;  // nats, absolute
// Chunked vs one-pass prefill run the same arithmetic, but BLAS may pick
// other kernels (and summation orders) for other matrix sizes: allow fp32
// rounding noise, orders of magnitude below any real defect.
constexpr double kSameComputationTolerance = 3e-6;

struct Engine {
  std::unique_ptr<samba::ModelFiles> files;
  std::unique_ptr<samba::Backend> backend;  // declared after `files`: destroyed first
  int vocab() const { return files->config().vocab_size; }
};

Engine open_engine(const std::string& model_dir) {
  Engine engine;
  engine.files = samba::ModelFiles::open(model_dir);
  engine.backend = samba::create_cpu_backend(*engine.files, 0);
  return engine;
}

// Logits of every position of `tokens`, read in one forward call.
std::vector<float> all_logits(samba::Backend& backend, std::span<const int32_t> tokens) {
  std::vector<float> logits;
  samba::ForwardOptions options;
  options.all_logits = true;
  backend.forward(tokens, &logits, options);
  return logits;
}

// Worst per-position relative error of `got` rows [pos0, pos0 + rows) against `ref`.
struct Worst {
  double error = 0;
  int64_t position = -1;
};
Worst worst_row_error(const std::vector<float>& got, const std::vector<double>& ref, int64_t pos0,
                      int64_t rows, int vocab) {
  Worst worst;
  for (int64_t r = 0; r < rows; ++r) {
    double e = samba_test::relative_error(got.data() + r * vocab, ref.data() + (pos0 + r) * vocab, vocab);
    if (!(e <= worst.error)) worst = {e, pos0 + r};  // NaN wins too
  }
  return worst;
}

// Largest |a - b| (infinity when the sizes differ); used where results must
// be bit-identical, without printing two long vectors on failure.
double max_abs_diff(const std::vector<float>& a, const std::vector<float>& b) {
  if (a.size() != b.size()) return INFINITY;
  double worst = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    const double d = std::abs(static_cast<double>(a[i]) - b[i]);
    if (!(d <= worst)) worst = d;
  }
  return worst;
}

TinyConfig config(int layers, int heads, int kv_heads, int head_size = 0) {
  TinyConfig c;
  c.layers = layers;
  c.heads = heads;
  c.kv_heads = kv_heads;
  c.head_size = head_size;
  return c;
}

TinyConfig gqa() { return config(4, 4, 2); }

// ---------------------------------------------------------------- full sequence

class FullSequence : public ::testing::TestWithParam<TinyConfig> {};

TEST_P(FullSequence, LogitsMatchReference) {
  const TinyConfig c = GetParam();
  const std::string dir = samba_test::make_reference_model(c);
  const auto tokens = samba_test::random_tokens(5 * c.window, c.vocab, 11);  // slides 4 windows past the first
  const auto ref = samba_test::reference_logits(dir, tokens);

  Engine engine = open_engine(dir);
  const auto logits = all_logits(*engine.backend, tokens);
  ASSERT_EQ(logits.size(), tokens.size() * c.vocab);
  EXPECT_EQ(engine.backend->position(), static_cast<int64_t>(tokens.size()));
  const double error = samba_test::relative_error(logits.data(), ref.data(), ref.size());
  const Worst worst = worst_row_error(logits, ref, 0, tokens.size(), c.vocab);
  EXPECT_LT(error, kLogitTolerance) << samba_test::describe(c) << ": worst position " << worst.position
                                    << " (rel " << worst.error << ")";
}

TEST_P(FullSequence, LastLogitsOnlyWithoutAllLogits) {
  const TinyConfig c = GetParam();
  const std::string dir = samba_test::make_reference_model(c);
  const auto tokens = samba_test::random_tokens(5 * c.window, c.vocab, 11);
  const auto ref = samba_test::reference_logits(dir, tokens);

  Engine engine = open_engine(dir);
  std::vector<float> last;
  engine.backend->forward(tokens, &last);
  ASSERT_EQ(last.size(), static_cast<size_t>(c.vocab));
  EXPECT_LT(samba_test::relative_error(last.data(), ref.data() + (tokens.size() - 1) * c.vocab, c.vocab),
            kLogitTolerance);
}

TinyConfig bf16(TinyConfig c) {
  c.dtype = "bf16";
  return c;
}
TinyConfig fused(TinyConfig c) {
  c.fused_qkv = true;
  return c;
}

INSTANTIATE_TEST_SUITE_P(
    Configs, FullSequence,
    ::testing::Values(config(4, 4, 4),        // MHA, as released
                      config(4, 4, 2),        // GQA
                      config(4, 4, 1),        // MQA
                      config(4, 4, 2, 32),    // head size != d_model / n_head
                      config(6, 4, 4),        // 6 blocks
                      bf16(config(4, 4, 2)),  // bf16 file
                      fused(config(4, 4, 4)),  // reference fused QKV, MHA
                      fused(config(4, 4, 2)),  // fused grouped QKV, GQA
                      bf16(fused(config(4, 4, 1)))),
    [](const ::testing::TestParamInfo<TinyConfig>& info) { return samba_test::describe(info.param); });

TEST(WeightFormats, FusedQkvFolderEqualsSplitFolderOfSameSeed) {
  // Same seed = same q/k/v values, stored fused (grouped layout) or split:
  // the engine's split must give back exactly the split weights.
  const TinyConfig split = gqa();
  const auto tokens = samba_test::random_tokens(40, split.vocab, 5);
  Engine a = open_engine(samba_test::make_reference_model(split));
  Engine b = open_engine(samba_test::make_reference_model(fused(split)));
  EXPECT_EQ(max_abs_diff(all_logits(*a.backend, tokens), all_logits(*b.backend, tokens)), 0.0);
}

// ---------------------------------------------------------------- decode

TEST(Decode, StepByStepMatchesReferenceAtEveryPosition) {
  const TinyConfig c = gqa();
  const std::string dir = samba_test::make_reference_model(c);
  const auto tokens = samba_test::random_tokens(5 * c.window, c.vocab, 11);  // >= 4x the window
  const auto ref = samba_test::reference_logits(dir, tokens);

  Engine engine = open_engine(dir);
  Worst worst;
  int failures = 0;
  for (size_t i = 0; i < tokens.size(); ++i) {
    std::vector<float> logits;
    engine.backend->forward(std::span<const int32_t>(&tokens[i], 1), &logits);
    ASSERT_EQ(logits.size(), static_cast<size_t>(c.vocab)) << "position " << i;
    ASSERT_EQ(engine.backend->position(), static_cast<int64_t>(i + 1));
    const Worst here = worst_row_error(logits, ref, i, 1, c.vocab);
    if (!(here.error < kLogitTolerance) && failures++ < 5)
      ADD_FAILURE() << "position " << i << ": rel error " << here.error;
    if (!(here.error <= worst.error)) worst = here;
  }
  EXPECT_EQ(failures, 0) << "worst position " << worst.position << " (rel " << worst.error << ")";
}

// ---------------------------------------------------------------- chunked prefill

TEST(ChunkedPrefill, UnevenChunksEqualOnePass) {
  const TinyConfig c = gqa();
  const std::string dir = samba_test::make_reference_model(c);
  const auto tokens = samba_test::random_tokens(5 * c.window, c.vocab, 11);
  const auto ref = samba_test::reference_logits(dir, tokens);
  // Sizes 1 and larger than the window (16), summing to 80.
  const std::vector<size_t> chunks = {1, 7, 23, 1, 16, 2, 30};

  Engine one = open_engine(dir);
  const auto one_pass = all_logits(*one.backend, tokens);
  std::vector<double> one_pass_d(one_pass.begin(), one_pass.end());

  Engine chunked = open_engine(dir);
  size_t pos = 0;
  for (size_t n : chunks) {
    const auto logits = all_logits(*chunked.backend, std::span<const int32_t>(tokens).subspan(pos, n));
    ASSERT_EQ(logits.size(), n * c.vocab);
    const double vs_one = samba_test::relative_error(logits.data(), one_pass_d.data() + pos * c.vocab, n * c.vocab);
    const double vs_ref = samba_test::relative_error(logits.data(), ref.data() + pos * c.vocab, n * c.vocab);
    EXPECT_LT(vs_one, kSameComputationTolerance) << "chunk at " << pos << " of " << n;
    EXPECT_LT(vs_ref, kLogitTolerance) << "chunk at " << pos << " of " << n;
    pos += n;
  }
  ASSERT_EQ(pos, tokens.size());
  EXPECT_EQ(chunked.backend->position(), static_cast<int64_t>(tokens.size()));
}

TEST(ChunkedPrefill, ResetStartsOver) {
  const TinyConfig c = gqa();
  const std::string dir = samba_test::make_reference_model(c);
  const auto tokens = samba_test::random_tokens(3 * c.window, c.vocab, 11);
  Engine engine = open_engine(dir);
  const auto first = all_logits(*engine.backend, tokens);
  engine.backend->reset();
  EXPECT_EQ(engine.backend->position(), 0);
  EXPECT_EQ(max_abs_diff(all_logits(*engine.backend, tokens), first), 0.0);
}

// ---------------------------------------------------------------- snapshots

TEST(Snapshot, RestoredStateContinuesExactly) {
  const TinyConfig c = gqa();
  const std::string dir = samba_test::make_reference_model(c);
  const auto tokens = samba_test::random_tokens(5 * c.window, c.vocab, 11);
  const auto ref = samba_test::reference_logits(dir, tokens);
  const size_t split = 3 * c.window + 5;  // the ring buffer has wrapped
  const auto head = std::span<const int32_t>(tokens).first(split);
  const auto tail = std::span<const int32_t>(tokens).subspan(split);

  Engine original = open_engine(dir);
  original.backend->forward(head, nullptr);
  const samba::ModelState saved = original.backend->save_state();
  EXPECT_EQ(saved.position, static_cast<int64_t>(split));
  const std::vector<uint8_t> bytes = samba::serialize_state(saved);
  const auto continued = all_logits(*original.backend, tail);

  // A backend that has read something else first: load_state must replace all of it.
  Engine restored = open_engine(dir);
  restored.backend->forward(samba_test::random_tokens(21, c.vocab, 99), nullptr);
  restored.backend->load_state(samba::deserialize_state(restored.files->config(), bytes.data(), bytes.size()));
  EXPECT_EQ(restored.backend->position(), static_cast<int64_t>(split));
  const auto resumed = all_logits(*restored.backend, tail);

  EXPECT_EQ(max_abs_diff(resumed, continued), 0.0) << "same state, same tokens, same arithmetic: must be bit-identical";
  const Worst worst = worst_row_error(resumed, ref, split, tail.size(), c.vocab);
  EXPECT_LT(worst.error, kLogitTolerance) << "position " << worst.position;
}

TEST(Snapshot, SaveLoadSaveRoundTrips) {
  const TinyConfig c = gqa();
  Engine engine = open_engine(samba_test::make_reference_model(c));
  engine.backend->forward(samba_test::random_tokens(37, c.vocab, 3), nullptr);
  const samba::ModelState saved = engine.backend->save_state();
  Engine other = open_engine(engine.files->folder());
  other.backend->load_state(saved);
  const samba::ModelState again = other.backend->save_state();
  EXPECT_EQ(again.config_fingerprint, saved.config_fingerprint);
  EXPECT_EQ(again.position, saved.position);
  EXPECT_TRUE(again.conv == saved.conv) << "Mamba conv windows differ";
  EXPECT_TRUE(again.ssm == saved.ssm) << "SSM states differ";
  EXPECT_TRUE(again.keys == saved.keys) << "key rings differ";
  EXPECT_TRUE(again.values == saved.values) << "value rings differ";
}

TEST(Snapshot, SerializedSizeDoesNotGrowWithTokens) {
  const TinyConfig c = gqa();
  Engine engine = open_engine(samba_test::make_reference_model(c));
  const auto tokens = samba_test::random_tokens(200, c.vocab, 17);
  engine.backend->forward(std::span<const int32_t>(tokens).first(10), nullptr);
  const auto after_10 = samba::serialize_state(engine.backend->save_state());
  engine.backend->forward(std::span<const int32_t>(tokens).subspan(10), nullptr);
  const auto after_200 = samba::serialize_state(engine.backend->save_state());
  EXPECT_EQ(after_10.size(), after_200.size());
  EXPECT_EQ(after_10.size(), samba::state_bytes(engine.files->config()));
  EXPECT_TRUE(after_10 != after_200) << "the state must change as tokens are read";
}

// ---------------------------------------------------------------- entropy

// Collects EntropySink output as [layer] -> [n][n_head], checking that each
// (layer, position) arrives exactly once.
class EntropyCollector : public samba::EntropySink {
 public:
  EntropyCollector(int n_layer, int64_t n, int n_head) : n_(n), n_head_(n_head) {
    for (int l = 1; l < n_layer; l += 2) {
      values_[l].assign(n * n_head, std::nan(""));
      seen_[l].assign(n, 0);
    }
  }
  void consume(int layer, int64_t pos0, int n_pos, int n_head, const float* values) override {
    if (!values_.count(layer) || n_head != n_head_ || pos0 < 0 || pos0 + n_pos > n_) {
      problems_.push_back("bad block: layer " + std::to_string(layer) + " pos0 " + std::to_string(pos0) +
                          " n_pos " + std::to_string(n_pos) + " n_head " + std::to_string(n_head));
      return;
    }
    for (int p = 0; p < n_pos; ++p) {
      if (seen_[layer][pos0 + p]++) problems_.push_back("layer " + std::to_string(layer) + " position " +
                                                        std::to_string(pos0 + p) + " delivered twice");
      for (int h = 0; h < n_head; ++h) values_[layer][(pos0 + p) * n_head + h] = values[p * n_head + h];
    }
  }
  // Compares with the reference's [n_swa][n][n_head]; returns the worst absolute error.
  double worst_error(const std::vector<double>& ref, std::string* where) const {
    double worst = 0;
    size_t k = 0;
    for (const auto& [layer, values] : values_) {
      for (size_t j = 0; j < values.size(); ++j) {
        const double e = std::abs(values[j] - ref[k * values.size() + j]);
        if (!(e <= worst)) {
          worst = e;
          *where = "layer " + std::to_string(layer) + " position " + std::to_string(j / n_head_) + " head " +
                   std::to_string(j % n_head_);
        }
      }
      ++k;
    }
    return worst;
  }
  std::vector<std::string> problems() const {
    std::vector<std::string> all = problems_;
    for (const auto& [layer, seen] : seen_)
      for (size_t i = 0; i < seen.size(); ++i)
        if (!seen[i]) all.push_back("layer " + std::to_string(layer) + " position " + std::to_string(i) + " missing");
    return all;
  }
  size_t n_swa_layers() const { return values_.size(); }

 private:
  int64_t n_;
  int n_head_;
  std::map<int, std::vector<double>> values_;
  std::map<int, std::vector<int>> seen_;
  std::vector<std::string> problems_;
};

enum class Feed { OnePass, Chunks, StepByStep };

class Entropy : public ::testing::TestWithParam<Feed> {};

TEST_P(Entropy, MatchesReference) {
  const TinyConfig c = gqa();
  const std::string dir = samba_test::make_reference_model(c);
  const auto tokens = samba_test::random_tokens(5 * c.window, c.vocab, 11);
  const auto ref = samba_test::reference_entropy(dir, tokens);
  ASSERT_EQ(ref.size(), static_cast<size_t>(c.layers / 2) * tokens.size() * c.heads);

  Engine engine = open_engine(dir);
  EntropyCollector sink(c.layers, tokens.size(), c.heads);
  samba::ForwardOptions options;
  options.entropy = &sink;
  std::vector<size_t> chunks;
  if (GetParam() == Feed::OnePass) chunks = {tokens.size()};
  if (GetParam() == Feed::Chunks) chunks = {1, 7, 23, 1, 16, 2, 30};
  if (GetParam() == Feed::StepByStep) chunks.assign(tokens.size(), 1);
  size_t pos = 0;
  for (size_t n : chunks) {
    // Entropy must not depend on whether logits are asked for.
    std::vector<float> logits;
    engine.backend->forward(std::span<const int32_t>(tokens).subspan(pos, n), pos % 2 ? &logits : nullptr, options);
    pos += n;
  }
  ASSERT_EQ(pos, tokens.size());
  for (const auto& problem : sink.problems()) ADD_FAILURE() << problem;
  ASSERT_EQ(sink.n_swa_layers(), static_cast<size_t>(c.layers / 2));
  std::string where;
  EXPECT_LT(sink.worst_error(ref, &where), kEntropyTolerance) << "worst at " << where;
}

INSTANTIATE_TEST_SUITE_P(Feeds, Entropy, ::testing::Values(Feed::OnePass, Feed::Chunks, Feed::StepByStep),
                         [](const ::testing::TestParamInfo<Feed>& info) {
                           return std::string(info.param == Feed::OnePass ? "OnePass"
                                              : info.param == Feed::Chunks ? "Chunks"
                                                                           : "StepByStep");
                         });

}  // namespace
