// Model folders: config.json + safetensors shards, checked against the
// tensors the config implies. Folders are written here with random data.
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <random>

#include "samba/config.h"
#include "samba/error.h"
#include "samba/safetensors.h"
#include "samba/weights.h"

namespace {

namespace fs = std::filesystem;
using samba::ErrorKind;
using samba::ModelConfig;
using samba::ModelFiles;
using Shape = std::vector<int64_t>;

int64_t numel(const Shape& shape) {
  int64_t n = 1;
  for (int64_t extent : shape) n *= extent;
  return n;
}

// GQA on purpose (4 query heads in 2 groups), so the fused split is tested
// with more than one query head per group.
ModelConfig tiny_config(int n_kv_head = 2) {
  ModelConfig c;
  c.name = "tiny";
  c.n_layer = 4;
  c.d_model = 16;
  c.n_head = 4;
  c.n_kv_head = n_kv_head;
  c.head_size = 4;
  c.intermediate = 24;
  c.window = 8;
  c.vocab_size = 32;
  c.d_inner = 32;
  c.dt_rank = 1;
  c.d_state = 4;
  c.validate("tiny");
  return c;
}

// One named tensor with deterministic random values.
struct Tensor {
  std::string name;
  Shape shape;
  std::vector<float> values;
};

Tensor random_tensor(const std::string& name, const Shape& shape, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> uniform(-1.0f, 1.0f);
  Tensor t{name, shape, std::vector<float>(static_cast<size_t>(numel(shape)))};
  for (float& v : t.values) v = uniform(rng);
  return t;
}

std::vector<Tensor> all_tensors(const ModelConfig& config) {
  std::vector<Tensor> out;
  uint32_t seed = 1;
  for (const auto& [name, shape] : samba::expected_tensors(config)) {
    out.push_back(random_tensor(name, shape, seed++));
  }
  return out;
}

void write_shard(const std::string& path, const std::vector<Tensor>& tensors,
                 samba::DType dtype = samba::DType::F32) {
  std::vector<samba::TensorToWrite> list;
  for (const Tensor& t : tensors) list.push_back({t.name, t.shape, t.values.data()});
  samba::write_safetensors(path, list, dtype);
}

class ModelFolder : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "samba-model-XXXXXX").string();
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
  }
  void TearDown() override { fs::remove_all(dir_); }

  void write_config(const ModelConfig& config) {
    std::ofstream(dir_ + "/config.json") << samba::config_to_json(config);
  }

  // A complete single-file model; returns its tensors.
  std::vector<Tensor> write_model(const ModelConfig& config) {
    write_config(config);
    auto tensors = all_tensors(config);
    write_shard(dir_ + "/model.safetensors", tensors);
    return tensors;
  }

  // Expects ModelFiles::open to fail with `kind` and every part in the message.
  void expect_open_error(ErrorKind kind, const std::vector<std::string>& parts) {
    try {
      ModelFiles::open(dir_);
    } catch (const samba::Error& e) {
      EXPECT_EQ(static_cast<int>(e.kind()), static_cast<int>(kind)) << e.what();
      for (const std::string& part : parts) {
        EXPECT_NE(std::string(e.what()).find(part), std::string::npos)
            << "message lacks \"" << part << "\": " << e.what();
      }
      return;
    }
    ADD_FAILURE() << "model folder opened although it is broken (expected " << parts.front() << ")";
  }

  std::string dir_;
};

TEST(ExpectedTensors, CountMatchesTheParameterCount) {
  for (const ModelConfig& config : {tiny_config(), tiny_config(1), tiny_config(4)}) {
    int64_t total = 0;
    for (const auto& [name, shape] : samba::expected_tensors(config)) total += numel(shape);
    EXPECT_EQ(total, config.parameter_count());
  }
  const ModelConfig real = samba::parse_config_json(
      R"({"n_layer": 12, "d_model": 1536, "n_head": 12, "intermediate_size": 4096,
          "vocab_size": 32000})",
      "421M");
  const auto expected = samba::expected_tensors(real);
  int64_t total = 0;
  for (const auto& [name, shape] : expected) total += numel(shape);
  EXPECT_EQ(total, 421793280);
  EXPECT_EQ(expected.at("transformer.h.0.attn.conv1d.weight"), (Shape{3072, 1, 4}));
  EXPECT_EQ(expected.at("transformer.h.0.attn.x_proj.weight"), (Shape{96 + 32, 3072}));
  EXPECT_EQ(expected.at("transformer.h.1.attn.q_proj.weight"), (Shape{1536, 1536}));
  EXPECT_EQ(expected.at("transformer.h.11.mlp.swiglu.w3.weight"), (Shape{1536, 4096}));
  EXPECT_EQ(expected.count("transformer.h.0.attn.q_proj.weight"), 0u) << "layer 0 is Mamba";
  EXPECT_EQ(expected.count("transformer.h.1.attn.A_log"), 0u) << "layer 1 is attention";
}

TEST_F(ModelFolder, LoadsAValidModel) {
  const ModelConfig config = tiny_config();
  const auto tensors = write_model(config);
  const auto model = ModelFiles::open(dir_);
  EXPECT_EQ(model->folder(), dir_);
  EXPECT_EQ(model->config().fingerprint(), config.fingerprint());
  uint64_t bytes = 0;
  for (const Tensor& t : tensors) {
    const samba::WeightRef& ref = model->get(t.name);
    ASSERT_NE(ref.file, nullptr) << t.name;
    EXPECT_EQ(ref.info->shape, t.shape);
    EXPECT_EQ(ref.numel(), numel(t.shape));
    EXPECT_EQ(ref.to_f32(), t.values) << t.name;
    bytes += t.values.size() * 4;
  }
  EXPECT_EQ(model->stored_bytes(), bytes);
  try {
    model->get("transformer.h.0.attn.q_proj.weight");
    ADD_FAILURE() << "got a tensor the model does not have";
  } catch (const samba::Error& e) {
    EXPECT_EQ(static_cast<int>(e.kind()), static_cast<int>(ErrorKind::InvalidArgument));
    EXPECT_NE(std::string(e.what()).find("transformer.h.0.attn.q_proj.weight"), std::string::npos);
  }
}

TEST_F(ModelFolder, ShardedBf16ModelLoads) {
  const ModelConfig config = tiny_config();
  write_config(config);
  const auto tensors = all_tensors(config);
  // Three shards, names spread round-robin, stored as bf16.
  std::vector<std::vector<Tensor>> shards(3);
  for (size_t i = 0; i < tensors.size(); ++i) shards[i % 3].push_back(tensors[i]);
  for (size_t s = 0; s < shards.size(); ++s) {
    write_shard(dir_ + "/model-0000" + std::to_string(s + 1) + "-of-00003.safetensors", shards[s],
                samba::DType::BF16);
  }
  std::ofstream(dir_ + "/README.md") << "other files are ignored";
  const auto model = ModelFiles::open(dir_);
  uint64_t bytes = 0;
  for (const Tensor& t : tensors) {
    const samba::WeightRef& ref = model->get(t.name);
    EXPECT_EQ(ref.info->dtype, samba::DType::BF16);
    const auto values = ref.to_f32();
    ASSERT_EQ(values.size(), t.values.size());
    for (size_t i = 0; i < values.size(); ++i) {
      EXPECT_EQ(values[i], samba::bf16_to_f32(samba::f32_to_bf16(t.values[i])));
    }
    bytes += t.values.size() * 2;
  }
  EXPECT_EQ(model->stored_bytes(), bytes);
}

TEST_F(ModelFolder, TiedLmHeadIsAllowed) {
  const ModelConfig config = tiny_config();
  auto tensors = write_model(config);
  tensors.push_back(random_tensor("lm_head.weight", {config.vocab_size, config.d_model}, 99));
  write_shard(dir_ + "/model.safetensors", tensors);
  EXPECT_NO_THROW(ModelFiles::open(dir_));

  tensors.back().shape = {config.vocab_size - 1, config.d_model};
  tensors.back().values.resize(static_cast<size_t>(numel(tensors.back().shape)));
  write_shard(dir_ + "/model.safetensors", tensors);
  expect_open_error(ErrorKind::InvalidModel,
                    {"lm_head.weight", "[31, 16]", "config.json implies [32, 16]"});
}

TEST_F(ModelFolder, MissingConfig) {
  write_model(tiny_config());
  fs::remove(dir_ + "/config.json");
  expect_open_error(ErrorKind::InvalidModel, {"config.json", "missing"});
}

TEST_F(ModelFolder, WrongConfig) {
  write_model(tiny_config());
  std::ofstream(dir_ + "/config.json") << R"({"n_layer": 4, "d_model": 16, "n_head": 3,
      "intermediate_size": 24, "vocab_size": 32})";
  expect_open_error(ErrorKind::InvalidModel, {dir_ + "/config.json", "'n_head'"});
}

TEST_F(ModelFolder, ConfigThatDoesNotMatchTheWeights) {
  write_model(tiny_config());
  ModelConfig other = tiny_config();
  other.intermediate = 20;
  write_config(other);
  expect_open_error(ErrorKind::InvalidModel,
                    {"model.safetensors", "mlp.swiglu.w1.weight", "has shape [24, 16]",
                     "config.json implies [20, 16]"});
}

TEST_F(ModelFolder, MissingTensor) {
  const ModelConfig config = tiny_config();
  write_config(config);
  auto tensors = all_tensors(config);
  tensors.erase(std::find_if(tensors.begin(), tensors.end(), [](const Tensor& t) {
    return t.name == "transformer.h.2.attn.dt_proj.bias";
  }));
  write_shard(dir_ + "/model.safetensors", tensors);
  expect_open_error(ErrorKind::InvalidModel,
                    {"1 tensor(s) missing", "transformer.h.2.attn.dt_proj.bias [32]"});
}

TEST_F(ModelFolder, UnexpectedTensor) {
  const ModelConfig config = tiny_config();
  auto tensors = write_model(config);
  // A Mamba tensor for layer 5 (the config has 4 layers) and an attention
  // tensor in a Mamba layer are both foreign.
  write_shard(dir_ + "/extra.safetensors",
              {random_tensor("transformer.h.4.attn.A_log", {32, 4}, 7),
               random_tensor("transformer.h.0.attn.attn.weight", {32, 16}, 8)});
  expect_open_error(ErrorKind::InvalidModel,
                    {"unexpected", "'transformer.h.4.attn.A_log' in extra.safetensors",
                     "'transformer.h.0.attn.attn.weight' in extra.safetensors"});
}

TEST_F(ModelFolder, WrongShape) {
  const ModelConfig config = tiny_config();
  write_config(config);
  auto tensors = all_tensors(config);
  for (Tensor& t : tensors) {
    if (t.name == "transformer.h.1.attn.k_proj.weight") t.shape = {16, 8};  // transposed
  }
  write_shard(dir_ + "/model.safetensors", tensors);
  expect_open_error(ErrorKind::InvalidModel, {"transformer.h.1.attn.k_proj.weight",
                                              "has shape [16, 8]", "implies [8, 16]"});
}

TEST_F(ModelFolder, DuplicateAcrossShards) {
  const ModelConfig config = tiny_config();
  write_config(config);
  const auto tensors = all_tensors(config);
  write_shard(dir_ + "/a.safetensors", tensors);
  write_shard(dir_ + "/b.safetensors", {tensors[3]});
  expect_open_error(ErrorKind::InvalidModel,
                    {"'" + tensors[3].name + "'", "stored twice", "'a.safetensors'", "'b.safetensors'"});
}

TEST_F(ModelFolder, NoWeightFiles) {
  write_config(tiny_config());
  std::ofstream(dir_ + "/model.bin") << "not safetensors";
  expect_open_error(ErrorKind::InvalidModel, {"no *.safetensors"});
}

TEST_F(ModelFolder, TruncatedShard) {
  write_model(tiny_config());
  const std::string path = dir_ + "/model.safetensors";
  fs::resize_file(path, fs::file_size(path) - 100);
  expect_open_error(ErrorKind::InvalidModel, {path, "truncated"});
}

TEST_F(ModelFolder, MissingFolder) {
  fs::remove_all(dir_);
  expect_open_error(ErrorKind::Io, {dir_, "does not exist"});
}

// The reference layout: per KV group g, the q rows of its H/G heads, then
// k_g, then v_g. The expected q/k/v are built here row by row from that
// description, independently of split_fused_qkv.
void check_fused_split(const ModelConfig& config, const std::vector<float>& fused,
                       const std::vector<float>& q, const std::vector<float>& k,
                       const std::vector<float>& v) {
  const int hs = config.head_size, d = config.d_model;
  const int per_group = config.n_head / config.n_kv_head;
  auto fused_row = [&](int block, int r) { return &fused[(static_cast<size_t>(block) * hs + r) * d]; };
  for (int h = 0; h < config.n_head; ++h) {
    const int g = h / per_group, j = h % per_group;
    for (int r = 0; r < hs; ++r) {
      const float* want = fused_row(g * (per_group + 2) + j, r);
      ASSERT_TRUE(std::equal(want, want + d, &q[(static_cast<size_t>(h) * hs + r) * d]))
          << "q head " << h << " row " << r;
    }
  }
  for (int g = 0; g < config.n_kv_head; ++g) {
    for (int r = 0; r < hs; ++r) {
      const float* want_k = fused_row(g * (per_group + 2) + per_group, r);
      const float* want_v = fused_row(g * (per_group + 2) + per_group + 1, r);
      ASSERT_TRUE(std::equal(want_k, want_k + d, &k[(static_cast<size_t>(g) * hs + r) * d]))
          << "k group " << g;
      ASSERT_TRUE(std::equal(want_v, want_v + d, &v[(static_cast<size_t>(g) * hs + r) * d]))
          << "v group " << g;
    }
  }
}

TEST_F(ModelFolder, FusedQkvIsSplitLikeTheReference) {
  for (int groups : {2, 4, 1}) {  // GQA, MHA, MQA
    SCOPED_TRACE("n_query_groups = " + std::to_string(groups));
    const ModelConfig config = tiny_config(groups);
    write_config(config);
    std::vector<Tensor> tensors;
    std::map<int, Tensor> fused;
    for (const Tensor& t : all_tensors(config)) {
      if (t.name.find("_proj.weight") != std::string::npos &&
          (t.name.find(".q_proj") != std::string::npos || t.name.find(".k_proj") != std::string::npos ||
           t.name.find(".v_proj") != std::string::npos)) {
        continue;
      }
      tensors.push_back(t);
    }
    for (int layer = 1; layer < config.n_layer; layer += 2) {
      fused[layer] = random_tensor("transformer.h." + std::to_string(layer) + ".attn.attn.weight",
                                   {config.q_dim() + 2 * config.kv_dim(), config.d_model},
                                   1000 + layer);
      tensors.push_back(fused[layer]);
    }
    write_shard(dir_ + "/model.safetensors", tensors);
    const auto model = ModelFiles::open(dir_);
    for (const auto& [layer, f] : fused) {
      const std::string p = "transformer.h." + std::to_string(layer) + ".attn.";
      const samba::WeightRef& q = model->get(p + "q_proj.weight");
      const samba::WeightRef& k = model->get(p + "k_proj.weight");
      const samba::WeightRef& v = model->get(p + "v_proj.weight");
      EXPECT_EQ(q.file, nullptr) << "split tensors are owned";
      EXPECT_EQ(q.numel(), static_cast<int64_t>(config.q_dim()) * config.d_model);
      EXPECT_EQ(k.numel(), static_cast<int64_t>(config.kv_dim()) * config.d_model);
      check_fused_split(config, f.values, q.to_f32(), k.to_f32(), v.to_f32());
      // The public split function gives the same result.
      std::vector<float> q2, k2, v2;
      samba::split_fused_qkv(config, f.values, q2, k2, v2);
      EXPECT_EQ(q2, q.owned);
      EXPECT_EQ(k2, k.owned);
      EXPECT_EQ(v2, v.owned);
    }
    fs::remove(dir_ + "/model.safetensors");
  }
}

TEST_F(ModelFolder, FusedAndSplitQkvTogetherIsAnError) {
  const ModelConfig config = tiny_config();
  auto tensors = write_model(config);
  tensors.push_back(random_tensor("transformer.h.3.attn.attn.weight",
                                  {config.q_dim() + 2 * config.kv_dim(), config.d_model}, 5));
  write_shard(dir_ + "/model.safetensors", tensors);
  expect_open_error(ErrorKind::InvalidModel,
                    {"layer 3", "transformer.h.3.attn.attn.weight", "transformer.h.3.attn.q_proj.weight"});
}

TEST_F(ModelFolder, FusedQkvWithWrongShape) {
  const ModelConfig config = tiny_config();
  write_config(config);
  std::vector<Tensor> tensors;
  for (const Tensor& t : all_tensors(config)) {
    if (t.name.rfind("transformer.h.1.attn.", 0) == 0 && t.name != "transformer.h.1.attn.proj.weight") {
      continue;
    }
    tensors.push_back(t);
  }
  tensors.push_back(random_tensor("transformer.h.1.attn.attn.weight", {48, 16}, 5));  // H+2H, not H+2G
  write_shard(dir_ + "/model.safetensors", tensors);
  expect_open_error(ErrorKind::InvalidModel,
                    {"transformer.h.1.attn.attn.weight", "[48, 16]", "implies [32, 16]"});
}

TEST(SplitFusedQkv, RejectsAWrongSize) {
  std::vector<float> q, k, v;
  EXPECT_THROW(samba::split_fused_qkv(tiny_config(), std::vector<float>(10), q, k, v), samba::Error);
}

}  // namespace
