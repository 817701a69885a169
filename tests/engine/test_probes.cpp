// Attention entropy and surprisal probes: a hand-computed case, uniform
// attention reaching ln(min(i+1, W)), bounded bucketing on long inputs, and
// surprisal against the reference's logits.
#include <gtest/gtest.h>

#include <cmath>

#include "cpu/cpu_ops.h"
#include "reference.h"
#include "samba/backend.h"
#include "samba/error.h"
#include "samba/probes.h"
#include "samba/safetensors.h"
#include "samba/weights.h"

namespace {

TEST(Entropy, HandComputedSoftmax) {
  // p = (1, 2, 3) / 6 from scores ln 1, ln 2, ln 3 (plus a constant).
  float scores[5] = {99.0f, 5.0f, 5.0f + std::log(2.0f), 5.0f + std::log(3.0f), 99.0f};
  const float h = samba::cpu::softmax_with_entropy(scores, 1, 3, 5);
  const double expected = -(1.0 / 6 * std::log(1.0 / 6) + 2.0 / 6 * std::log(2.0 / 6) + 3.0 / 6 * std::log(3.0 / 6));
  EXPECT_NEAR(h, expected, 1e-6);
  EXPECT_NEAR(scores[1], 1.0 / 6, 1e-6);
  EXPECT_NEAR(scores[3], 3.0 / 6, 1e-6);
  EXPECT_EQ(scores[0], 0.0f);  // outside the window
  EXPECT_EQ(scores[4], 0.0f);
  float one[1] = {3.0f};
  EXPECT_NEAR(samba::cpu::softmax_with_entropy(one, 0, 0, 1), 0.0, 1e-7);
}

TEST(Entropy, FastExpIsAccurate) {
  double worst = 0;
  for (float x = -80.0f; x < 80.0f; x += 0.0137f)
    worst = std::max(worst, std::abs(samba::cpu::fast_exp(x) / std::exp(static_cast<double>(x)) - 1.0));
  EXPECT_LT(worst, 3e-7);
  EXPECT_GT(samba::cpu::fast_exp(-1000.0f), 0.0f);  // clamped, never NaN
  EXPECT_LT(samba::cpu::fast_exp(-1000.0f), 1e-37f);
}

// A copy of a reference model whose query projections are zero: every score
// is 0, so attention is uniform over the visible window.
std::string uniform_attention_model(const std::string& source) {
  const std::string out = samba_test::temp_dir("uniform-attention");
  auto files = samba::ModelFiles::open(source);
  const auto& expected = samba::expected_tensors(files->config());
  std::vector<std::vector<float>> data;
  std::vector<samba::TensorToWrite> tensors;
  data.reserve(expected.size());
  for (const auto& [name, shape] : expected) {
    data.push_back(files->get(name).to_f32());
    if (name.find("q_proj") != std::string::npos) std::fill(data.back().begin(), data.back().end(), 0.0f);
    tensors.push_back({name, shape, data.back().data()});
  }
  samba::write_safetensors(out + "/model.safetensors", tensors);
  samba_test::run_command("cp " + samba_test::shell_quote(source + "/config.json") + " " + samba_test::shell_quote(out));
  return out;
}

TEST(Entropy, UniformAttentionReachesTheMaximum) {
  samba_test::TinyConfig config;
  config.window = 16;
  const std::string folder = uniform_attention_model(samba_test::make_reference_model(config));
  auto files = samba::ModelFiles::open(folder);
  auto backend = samba::create_cpu_backend(*files);
  samba::EntropyBuckets buckets(files->config(), 1, 1024);
  const auto tokens = samba_test::random_tokens(100, files->config().vocab_size, 5);
  samba::token_surprisal(*backend, tokens, 24, &buckets);
  ASSERT_EQ(buckets.n_buckets(), 100);
  for (int s = 0; s < buckets.n_swa_layers(); ++s)
    for (int h = 0; h < buckets.n_heads(); ++h)
      for (int i = 0; i < 100; ++i)
        ASSERT_NEAR(buckets.at(s, h, i).mean(), std::log(std::min(i + 1, 16)), 2e-5)
            << "layer " << buckets.layer_of(s) << " head " << h << " position " << i;
  EXPECT_NEAR(buckets.max_entropy(3), std::log(4.0), 1e-12);
  EXPECT_NEAR(buckets.max_entropy(1000), std::log(16.0), 1e-12);
}

TEST(Entropy, BucketsStayBoundedAndKeepTheStatistics) {
  samba::ModelConfig c;
  c.n_layer = 4;
  c.n_head = 2;
  c.window = 8;
  samba::EntropyBuckets buckets(c, 1, 64);
  // Values: head 0 = position mod 10, head 1 = constant 2.5; 1M positions in blocks.
  const int64_t n = 1 << 20;
  std::vector<float> block(2 * 4096);
  double sum0 = 0;
  for (int64_t p0 = 0; p0 < n; p0 += 4096) {
    for (int i = 0; i < 4096; ++i) {
      block[2 * i] = static_cast<float>((p0 + i) % 10);
      block[2 * i + 1] = 2.5f;
      sum0 += block[2 * i];
    }
    buckets.consume(1, p0, 4096, 2, block.data());
    buckets.consume(3, p0, 4096, 2, block.data());
  }
  EXPECT_LE(buckets.n_buckets(), 64);
  EXPECT_EQ(buckets.bucket_width() * buckets.n_buckets(), n);
  EXPECT_NEAR(buckets.mean_over(0, 0, 0, n), sum0 / n, 1e-9);
  EXPECT_NEAR(buckets.mean_over(1, 1, 0, n), 2.5, 1e-12);
  int64_t count = 0;
  for (int b = 0; b < buckets.n_buckets(); ++b) {
    const auto& st = buckets.at(0, 0, b);
    count += st.count;
    EXPECT_EQ(st.min, 0.0f);
    EXPECT_EQ(st.max, 9.0f);
  }
  EXPECT_EQ(count, n);
  EXPECT_THROW(buckets.consume(2, 0, 1, 2, block.data()), samba::Error);  // a Mamba layer
}

TEST(Surprisal, MatchesTheReferenceLogits) {
  samba_test::TinyConfig config;
  const std::string folder = samba_test::make_reference_model(config);
  auto files = samba::ModelFiles::open(folder);
  auto backend = samba::create_cpu_backend(*files);
  const auto tokens = samba_test::random_tokens(70, config.vocab, 8);
  const std::vector<float> got = samba::token_surprisal(*backend, tokens, 32);
  const std::vector<double> logits = samba_test::reference_logits(folder, tokens);
  ASSERT_EQ(got.size(), tokens.size());
  EXPECT_EQ(got[0], 0.0f);
  for (size_t i = 1; i < tokens.size(); ++i) {
    const double* row = &logits[(i - 1) * config.vocab];
    double m = row[0];
    for (int v = 1; v < config.vocab; ++v) m = std::max(m, row[v]);
    double z = 0;
    for (int v = 0; v < config.vocab; ++v) z += std::exp(row[v] - m);
    const double expected = std::log(z) - (row[tokens[i]] - m);
    EXPECT_NEAR(got[i], expected, 1e-4 * std::max(1.0, expected)) << "token " << i;
  }
}

}  // namespace
