// Model-state snapshots: constant size, exact round trip, and every kind of
// damage detected.
#include <gtest/gtest.h>

#include "reference.h"
#include "samba/backend.h"
#include "samba/error.h"
#include "samba/model_state.h"
#include "samba/weights.h"

namespace {

class Snapshot : public ::testing::Test {
 protected:
  void SetUp() override {
    samba_test::TinyConfig config;
    folder_ = samba_test::make_reference_model(config);
    files_ = samba::ModelFiles::open(folder_);
    backend_ = samba::create_cpu_backend(*files_);
  }
  std::string folder_;
  std::unique_ptr<samba::ModelFiles> files_;
  std::unique_ptr<samba::Backend> backend_;
};

samba::ErrorKind kind_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const samba::Error& e) {
    return e.kind();
  }
  ADD_FAILURE() << "no samba::Error thrown";
  return samba::ErrorKind::Io;
}

TEST_F(Snapshot, SizeDoesNotDependOnTokensRead) {
  const auto tokens = samba_test::random_tokens(300, files_->config().vocab_size, 3);
  backend_->forward(std::span<const int32_t>(tokens).first(10), nullptr);
  const size_t after_10 = samba::serialize_state(backend_->save_state()).size();
  backend_->forward(std::span<const int32_t>(tokens).subspan(10), nullptr);
  const auto blob = samba::serialize_state(backend_->save_state());
  EXPECT_EQ(after_10, blob.size());
  EXPECT_EQ(blob.size(), samba::state_bytes(files_->config()));
  const samba::ModelState back = samba::deserialize_state(files_->config(), blob.data(), blob.size());
  EXPECT_EQ(back.position, 300);
  EXPECT_EQ(back.keys, backend_->save_state().keys);
  EXPECT_EQ(back.ssm, backend_->save_state().ssm);
}

TEST_F(Snapshot, DamageIsDetected) {
  const auto tokens = samba_test::random_tokens(40, files_->config().vocab_size, 4);
  backend_->forward(tokens, nullptr);
  const auto blob = samba::serialize_state(backend_->save_state());
  const samba::ModelConfig& c = files_->config();

  auto flipped = blob;
  flipped[flipped.size() / 2] ^= 0x40;
  EXPECT_EQ(kind_of([&] { samba::deserialize_state(c, flipped.data(), flipped.size()); }),
            samba::ErrorKind::InvalidArgument);
  EXPECT_EQ(kind_of([&] { samba::deserialize_state(c, blob.data(), blob.size() - 1); }),
            samba::ErrorKind::InvalidArgument);
  auto bad_magic = blob;
  bad_magic[0] = 'X';
  EXPECT_EQ(kind_of([&] { samba::deserialize_state(c, bad_magic.data(), bad_magic.size()); }),
            samba::ErrorKind::InvalidArgument);

  // Same size, other model: the fingerprint differs.
  samba::ModelConfig other = c;
  other.rope_base = 5000.0f;
  EXPECT_EQ(kind_of([&] { samba::deserialize_state(other, blob.data(), blob.size()); }),
            samba::ErrorKind::InvalidArgument);
  samba::ModelState foreign = backend_->save_state();
  foreign.config_fingerprint ^= 1;
  EXPECT_EQ(kind_of([&] { backend_->load_state(foreign); }), samba::ErrorKind::InvalidArgument);
}

}  // namespace
