// config.json parsing, validation, parameter counts and fingerprints.
#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>

#include "samba/config.h"
#include "samba/error.h"

namespace {

using samba::ErrorKind;
using samba::ModelConfig;

// The released shapes of model-spec section 1.
const char* kSamba421M = R"({"model_type": "samba", "name": "Samba_421M", "n_layer": 12,
  "d_model": 1536, "n_head": 12, "n_query_groups": 12, "intermediate_size": 4096,
  "sliding_window": 2048, "vocab_size": 32000})";
const char* kSamba1_3B = R"({"model_type": "samba", "name": "Samba_1.3B", "n_layer": 18,
  "d_model": 2304, "n_head": 18, "intermediate_size": 6144, "vocab_size": 32000})";

// Runs `action`, expects a samba::Error of `kind` whose message holds every
// one of `parts`.
void expect_error(const std::function<void()>& action, ErrorKind kind,
                  const std::vector<std::string>& parts) {
  try {
    action();
  } catch (const samba::Error& e) {
    EXPECT_EQ(static_cast<int>(e.kind()), static_cast<int>(kind)) << e.what();
    for (const std::string& part : parts) {
      EXPECT_NE(std::string(e.what()).find(part), std::string::npos)
          << "message lacks \"" << part << "\": " << e.what();
    }
    return;
  }
  ADD_FAILURE() << "no samba::Error thrown; expected one mentioning " << parts.front();
}

// A config.json text: a tiny valid config plus the `extra` keys.
std::string tiny_config(const std::string& extra = "") {
  std::string text = R"({"n_layer": 4, "d_model": 64, "n_head": 4, "intermediate_size": 96, )"
                     R"("vocab_size": 512)";
  if (!extra.empty()) text += ", " + extra;
  return text + "}";
}

void expect_config_error(const std::string& json_text, const std::vector<std::string>& parts) {
  std::vector<std::string> all = parts;
  all.push_back("my/config.json");  // every message names the file
  expect_error([&] { samba::parse_config_json(json_text, "my/config.json"); },
               ErrorKind::InvalidModel, all);
}

TEST(Config, ReleasedShapesHaveTheSpecParameterCounts) {
  const ModelConfig small = samba::parse_config_json(kSamba421M, "421M");
  EXPECT_EQ(small.parameter_count(), 421793280);
  const ModelConfig large = samba::parse_config_json(kSamba1_3B, "1.3B");
  EXPECT_EQ(large.parameter_count(), 1330207488);
}

TEST(Config, DerivedFieldsAndDefaults) {
  const ModelConfig c = samba::parse_config_json(kSamba421M, "421M");
  EXPECT_EQ(c.name, "Samba_421M");
  EXPECT_EQ(c.head_size, 128);
  EXPECT_EQ(c.d_inner, 3072);
  EXPECT_EQ(c.dt_rank, 96);
  EXPECT_EQ(c.d_state, 16);
  EXPECT_EQ(c.d_conv, 4);
  EXPECT_EQ(c.window, 2048);
  EXPECT_FLOAT_EQ(c.norm_eps, 1e-5f);
  EXPECT_FLOAT_EQ(c.rope_base, 10000.0f);
  EXPECT_TRUE(c.tie_embeddings);
  EXPECT_EQ(c.bos_token_id, 1);
  EXPECT_EQ(c.eos_token_id, 2);
  EXPECT_EQ(c.n_mamba_layers(), 6);
  EXPECT_EQ(c.n_swa_layers(), 6);

  // dt_rank rounds up: ceil(100 / 16) = 7; n_query_groups defaults to n_head.
  const ModelConfig odd = samba::parse_config_json(
      R"({"n_layer": 3, "d_model": 100, "n_head": 5, "intermediate_size": 8, "vocab_size": 10})",
      "odd");
  EXPECT_EQ(odd.dt_rank, 7);
  EXPECT_EQ(odd.head_size, 20);
  EXPECT_EQ(odd.n_kv_head, 5);
  EXPECT_EQ(odd.n_mamba_layers(), 2);
  EXPECT_EQ(odd.n_swa_layers(), 1);
}

TEST(Config, ExplicitValuesOverrideDefaults) {
  const ModelConfig c = samba::parse_config_json(
      tiny_config(R"("n_query_groups": 2, "head_size": 8, "sliding_window": 16,
                     "rms_norm_eps": 1e-6, "rope_theta": 500000, "mamba_d_state": 8,
                     "mamba_d_conv": 3, "mamba_d_inner": 100, "mamba_dt_rank": 5,
                     "bos_token_id": null, "eos_token_id": 7, "train_length": 4096,
                     "some_unknown_key": [1, 2, 3])"),
      "c");
  EXPECT_EQ(c.n_kv_head, 2);
  EXPECT_EQ(c.head_size, 8);  // d_model 64 != 4 * 8 is fine when head_size is given
  EXPECT_EQ(c.q_dim(), 32);
  EXPECT_EQ(c.kv_dim(), 16);
  EXPECT_EQ(c.window, 16);
  EXPECT_FLOAT_EQ(c.norm_eps, 1e-6f);
  EXPECT_FLOAT_EQ(c.rope_base, 500000.0f);
  EXPECT_EQ(c.d_state, 8);
  EXPECT_EQ(c.d_conv, 3);
  EXPECT_EQ(c.d_inner, 100);
  EXPECT_EQ(c.dt_rank, 5);
  EXPECT_EQ(c.bos_token_id, -1);
  EXPECT_EQ(c.eos_token_id, 7);
  EXPECT_EQ(c.train_length, 4096);
}

TEST(Config, JsonRoundTripKeepsEveryField) {
  ModelConfig c = samba::parse_config_json(
      tiny_config(R"("n_query_groups": 1, "head_size": 6, "sliding_window": 5, "rms_norm_eps": 3e-6,
                     "mamba_d_inner": 70, "train_length": 12, "name": "tiny \"quoted\" name")"),
      "c");
  const ModelConfig back = samba::parse_config_json(samba::config_to_json(c), "back");
  EXPECT_EQ(back.name, c.name);
  EXPECT_EQ(back.n_layer, c.n_layer);
  EXPECT_EQ(back.d_model, c.d_model);
  EXPECT_EQ(back.n_head, c.n_head);
  EXPECT_EQ(back.n_kv_head, c.n_kv_head);
  EXPECT_EQ(back.head_size, c.head_size);
  EXPECT_EQ(back.intermediate, c.intermediate);
  EXPECT_EQ(back.window, c.window);
  EXPECT_EQ(back.vocab_size, c.vocab_size);
  EXPECT_EQ(back.norm_eps, c.norm_eps);  // bit-exact
  EXPECT_EQ(back.rope_base, c.rope_base);
  EXPECT_EQ(back.d_inner, c.d_inner);
  EXPECT_EQ(back.d_state, c.d_state);
  EXPECT_EQ(back.d_conv, c.d_conv);
  EXPECT_EQ(back.dt_rank, c.dt_rank);
  EXPECT_EQ(back.bos_token_id, c.bos_token_id);
  EXPECT_EQ(back.eos_token_id, c.eos_token_id);
  EXPECT_EQ(back.train_length, c.train_length);
  EXPECT_EQ(back.fingerprint(), c.fingerprint());
  // Readable numbers, not float noise.
  EXPECT_NE(samba::config_to_json(c).find("3e-06"), std::string::npos) << samba::config_to_json(c);
}

TEST(Config, FingerprintFollowsTheNumerics) {
  const ModelConfig base = samba::parse_config_json(tiny_config(), "a");
  EXPECT_EQ(base.fingerprint(), samba::parse_config_json(tiny_config(), "b").fingerprint());

  ModelConfig renamed = base;
  renamed.name = "other name";
  renamed.train_length = 99;
  EXPECT_EQ(renamed.fingerprint(), base.fingerprint()) << "name and train_length change no numerics";

  const std::vector<std::function<void(ModelConfig&)>> changes = {
      [](ModelConfig& c) { c.window = 17; },       [](ModelConfig& c) { c.n_layer = 6; },
      [](ModelConfig& c) { c.n_kv_head = 2; },     [](ModelConfig& c) { c.norm_eps = 1e-6f; },
      [](ModelConfig& c) { c.rope_base = 5e5f; },  [](ModelConfig& c) { c.d_state = 8; },
      [](ModelConfig& c) { c.vocab_size = 513; },  [](ModelConfig& c) { c.intermediate = 97; },
      [](ModelConfig& c) { c.dt_rank = 5; },       [](ModelConfig& c) { c.d_inner = 129; }};
  for (size_t i = 0; i < changes.size(); ++i) {
    ModelConfig changed = base;
    changes[i](changed);
    EXPECT_NE(changed.fingerprint(), base.fingerprint()) << "change " << i;
  }
}

TEST(Config, MissingKeysAreNamed) {
  for (const char* key : {"n_layer", "d_model", "n_head", "intermediate_size", "vocab_size"}) {
    std::string text = tiny_config();
    const size_t at = text.find(std::string("\"") + key + "\"");
    ASSERT_NE(at, std::string::npos);
    const size_t comma = text.find_first_of(",}", at);
    text.erase(at, comma - at + (text[comma] == ',' ? 1 : 0));
    if (text.find(", }") != std::string::npos) text.replace(text.find(", }"), 3, "}");
    SCOPED_TRACE(text);
    expect_config_error(text, {"missing required key", key});
  }
}

TEST(Config, WrongTypesAreNamed) {
  expect_config_error(R"({"n_layer": "4", "d_model": 64, "n_head": 4, "intermediate_size": 96,
                         "vocab_size": 512})",
                      {"'n_layer'", "must be an integer", "a string"});
  expect_config_error(R"({"n_layer": 4, "d_model": 64.5, "n_head": 4, "intermediate_size": 96,
                         "vocab_size": 512})",
                      {"'d_model'", "must be an integer", "floating-point"});
  expect_config_error(tiny_config(R"("tie_word_embeddings": "yes")"),
                      {"'tie_word_embeddings'", "true or false"});
  expect_config_error(tiny_config(R"("rms_norm_eps": "small")"), {"'rms_norm_eps'", "number"});
  expect_config_error(tiny_config(R"("name": 5)"), {"'name'", "string"});
  expect_config_error(tiny_config(R"("sliding_window": 99999999999)"), {"'sliding_window'", "large"});
}

TEST(Config, BadSizesAreRejected) {
  expect_config_error(R"({"n_layer": 0, "d_model": 64, "n_head": 4, "intermediate_size": 96,
                         "vocab_size": 512})",
                      {"'n_layer'", "at least 1"});
  expect_config_error(R"({"n_layer": 4, "d_model": -64, "n_head": 4, "intermediate_size": 96,
                         "vocab_size": 512})",
                      {"'d_model'", "at least 1"});
  expect_config_error(R"({"n_layer": 4, "d_model": 64, "n_head": 4, "intermediate_size": 0,
                         "vocab_size": 512})",
                      {"'intermediate_size'", "at least 1"});
  expect_config_error(R"({"n_layer": 4, "d_model": 64, "n_head": 4, "intermediate_size": 9,
                         "vocab_size": 0})",
                      {"'vocab_size'", "at least 1"});
  expect_config_error(tiny_config(R"("n_query_groups": 3)"),
                      {"'n_head' (4)", "divisible by 'n_query_groups' (3)"});
  expect_config_error(R"({"n_layer": 4, "d_model": 66, "n_head": 4, "intermediate_size": 9,
                         "vocab_size": 5})",
                      {"'d_model' (66)", "not divisible by 'n_head' (4)", "head_size"});
  expect_config_error(tiny_config(R"("sliding_window": 0)"), {"'sliding_window'", "at least 1"});
  expect_config_error(tiny_config(R"("head_size": 7)"), {"'head_size'", "even"});
  expect_config_error(tiny_config(R"("mamba_d_state": 0)"), {"'mamba_d_state'"});
  expect_config_error(tiny_config(R"("rms_norm_eps": 0)"), {"'rms_norm_eps'", "positive"});
  expect_config_error(tiny_config(R"("eos_token_id": 512)"), {"'eos_token_id'", "vocabulary"});
  expect_config_error(tiny_config(R"("bos_token_id": -2)"), {"'bos_token_id'"});
  expect_config_error(R"({"n_layer": 2000, "d_model": 1000000, "n_head": 1000, "intermediate_size": 1000000,
                         "vocab_size": 5})",
                      {"about 3.05e+16 parameters"});
  expect_config_error(tiny_config(R"("head_size": 1000000000, "n_query_groups": 1)"),
                      {"head_size is too large"});
}

TEST(Config, UnsupportedModelsSaySo) {
  expect_config_error(tiny_config(R"("tie_word_embeddings": false)"),
                      {"tie_word_embeddings", "not supported"});
  expect_config_error(tiny_config(R"("model_type": "phi4flash")"),
                      {"model_type 'phi4flash'", "not supported"});
}

TEST(Config, BadJsonIsReported) {
  expect_config_error("{\"n_layer\": 4,", {"not valid JSON"});
  expect_config_error("", {"not valid JSON"});
  expect_config_error("[1, 2]", {"JSON object", "an array"});
}

TEST(Config, ValidateChecksAStructDirectly) {
  ModelConfig c = samba::parse_config_json(tiny_config(), "x");
  EXPECT_NO_THROW(c.validate("x"));
  c.n_kv_head = 0;
  expect_error([&] { c.validate("from-code"); }, ErrorKind::InvalidModel,
               {"from-code", "n_query_groups"});
}

class ConfigFile : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (std::filesystem::temp_directory_path() / "samba-config-XXXXXX").string();
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    folder_ = pattern;
  }
  void TearDown() override { std::filesystem::remove_all(folder_); }
  std::string folder_;
};

TEST_F(ConfigFile, LoadsFromAFolder) {
  std::ofstream(folder_ + "/config.json") << kSamba421M;
  EXPECT_EQ(samba::load_config(folder_).parameter_count(), 421793280);
}

TEST_F(ConfigFile, MissingFileIsNamed) {
  expect_error([&] { samba::load_config(folder_); }, ErrorKind::InvalidModel,
               {folder_ + "/config.json", "missing"});
}

TEST_F(ConfigFile, ErrorsNameTheFile) {
  std::ofstream(folder_ + "/config.json") << R"({"n_layer": 4})";
  expect_error([&] { samba::load_config(folder_); }, ErrorKind::InvalidModel,
               {folder_ + "/config.json", "'d_model'"});
}

}  // namespace
