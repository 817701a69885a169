// safetensors: round trips in every dtype, one clear error per kind of
// broken file, and a fuzz loop that may only ever produce samba::Error.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <random>

#include "samba/error.h"
#include "samba/safetensors.h"

namespace {

namespace fs = std::filesystem;
using samba::DType;
using samba::ErrorKind;
using samba::SafetensorsFile;

std::vector<uint8_t> read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void write_bytes(const std::string& path, const std::vector<uint8_t>& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

// A file made by hand: 8-byte length, `header` text, `data_size` zero bytes.
void write_raw(const std::string& path, const std::string& header, size_t data_size) {
  std::vector<uint8_t> bytes(8);
  const uint64_t n = header.size();
  std::memcpy(bytes.data(), &n, 8);
  bytes.insert(bytes.end(), header.begin(), header.end());
  bytes.resize(bytes.size() + data_size, 0);
  write_bytes(path, bytes);
}

std::vector<float> random_values(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> v(n);
  for (float& x : v) x = normal(rng);
  return v;
}

class Safetensors : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "samba-safetensors-XXXXXX").string();
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string path(const std::string& name) const { return dir_ + "/" + name; }

  // Opens `file` and expects an InvalidModel error naming the file and
  // containing every part.
  void expect_invalid(const std::string& file, const std::vector<std::string>& parts) {
    try {
      SafetensorsFile::open(file);
    } catch (const samba::Error& e) {
      EXPECT_EQ(static_cast<int>(e.kind()), static_cast<int>(ErrorKind::InvalidModel)) << e.what();
      const std::string message = e.what();
      EXPECT_NE(message.find(file), std::string::npos) << "file not named: " << message;
      for (const std::string& part : parts) {
        EXPECT_NE(message.find(part), std::string::npos)
            << "message lacks \"" << part << "\": " << message;
      }
      return;
    }
    ADD_FAILURE() << file << " opened although it is broken (expected " << parts.front() << ")";
  }

  std::string dir_;
};

TEST_F(Safetensors, F32RoundTripIsExact) {
  const auto a = random_values(6, 1), b = random_values(24, 2);
  const float scalar = 3.25f;
  samba::write_safetensors(path("m.safetensors"), {{"a", {2, 3}, a.data()},
                                                   {"b.weight", {2, 3, 4}, b.data()},
                                                   {"scalar", {}, &scalar},
                                                   {"empty", {0, 5}, nullptr}});
  const auto file = SafetensorsFile::open(path("m.safetensors"));
  ASSERT_EQ(file->tensors().size(), 4u);
  const samba::TensorInfo* ia = file->find("a");
  ASSERT_NE(ia, nullptr);
  EXPECT_EQ(ia->dtype, DType::F32);
  EXPECT_EQ(ia->shape, (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(ia->numel(), 6);
  EXPECT_EQ(ia->nbytes, 24u);
  EXPECT_EQ(file->to_f32(*ia), a);
  EXPECT_EQ(file->to_f32(*file->find("b.weight")), b);
  EXPECT_EQ(file->to_f32(*file->find("scalar")), std::vector<float>{3.25f});
  EXPECT_EQ(file->find("scalar")->numel(), 1);
  EXPECT_EQ(file->find("empty")->numel(), 0);
  EXPECT_TRUE(file->to_f32(*file->find("empty")).empty());
  EXPECT_EQ(file->find("missing"), nullptr);
  const auto raw = file->bytes(*ia);
  ASSERT_EQ(raw.size(), 24u);
  EXPECT_EQ(std::memcmp(raw.data(), a.data(), 24), 0);

  // The data region starts 8-byte aligned and no temporary file is left.
  const auto bytes = read_bytes(path("m.safetensors"));
  uint64_t header_size = 0;
  std::memcpy(&header_size, bytes.data(), 8);
  EXPECT_EQ((8 + header_size) % 8, 0u);
  EXPECT_EQ(std::distance(fs::directory_iterator(dir_), fs::directory_iterator()), 1);
}

TEST_F(Safetensors, Bf16RoundTripRoundsToNearestEven) {
  auto values = random_values(64, 3);
  // Hand-picked cases: exact, ties to even (down and up), specials.
  const std::vector<float> special = {1.0f, -2.5f, 1.0f + 0x1p-8f, 1.0f + 3 * 0x1p-8f, 0.0f, -0.0f,
                                      std::numeric_limits<float>::infinity(), 1e-40f};
  values.insert(values.end(), special.begin(), special.end());
  samba::write_safetensors(path("b.safetensors"), {{"x", {static_cast<int64_t>(values.size())},
                                                    values.data()}}, DType::BF16);
  const auto file = SafetensorsFile::open(path("b.safetensors"));
  const auto& info = *file->find("x");
  EXPECT_EQ(info.dtype, DType::BF16);
  EXPECT_EQ(info.nbytes, values.size() * 2);
  const auto back = file->to_f32(info);
  for (size_t i = 0; i < 64; ++i) {
    EXPECT_NEAR(back[i], values[i], std::fabs(values[i]) * 0x1p-8f) << i;
    EXPECT_EQ(back[i], samba::bf16_to_f32(samba::f32_to_bf16(values[i])));
  }
  EXPECT_EQ(back[64], 1.0f);
  EXPECT_EQ(back[65], -2.5f);
  EXPECT_EQ(back[66], 1.0f) << "1 + 2^-8 is a tie: rounds to the even 1.0";
  EXPECT_EQ(back[67], 1.0f + 0x1p-6f) << "1 + 3*2^-8 is a tie: rounds up to the even neighbour";
  EXPECT_EQ(back[68], 0.0f);
  EXPECT_TRUE(std::signbit(back[69]));
  EXPECT_TRUE(std::isinf(back[70]));
  EXPECT_EQ(back[71], 0x1p-133f) << "a subnormal keeps its upper 16 bits (1e-40 -> 2^-133)";
  EXPECT_TRUE(std::isnan(samba::bf16_to_f32(samba::f32_to_bf16(std::nanf("")))));
  EXPECT_EQ(samba::f32_to_bf16(1.0f), 0x3f80);
}

TEST_F(Safetensors, F16RoundTripHandlesRangeAndSubnormals) {
  const std::vector<float> values = {0.5f, -2.0f, 65504.0f, 0x1p-24f, 0x1p-14f, 1.0f + 0x1p-11f,
                                     1.0f + 3 * 0x1p-11f, 70000.0f, -0x1p-26f, 3.14159f, 0x1p-25f};
  samba::write_safetensors(path("h.safetensors"), {{"x", {11}, values.data()}}, DType::F16);
  const auto file = SafetensorsFile::open(path("h.safetensors"));
  const auto& info = *file->find("x");
  EXPECT_EQ(info.dtype, DType::F16);
  const auto back = file->to_f32(info);
  EXPECT_EQ(back[0], 0.5f);
  EXPECT_EQ(back[1], -2.0f);
  EXPECT_EQ(back[2], 65504.0f) << "largest half";
  EXPECT_EQ(back[3], 0x1p-24f) << "smallest subnormal half";
  EXPECT_EQ(back[4], 0x1p-14f) << "smallest normal half";
  EXPECT_EQ(back[5], 1.0f) << "tie rounds to even";
  EXPECT_EQ(back[6], 1.0f + 0x1p-9f) << "tie rounds to even";
  EXPECT_TRUE(std::isinf(back[7]) && back[7] > 0) << "overflow becomes +inf";
  EXPECT_EQ(back[8], 0.0f);
  EXPECT_TRUE(std::signbit(back[8])) << "underflow keeps the sign";
  EXPECT_NEAR(back[9], 3.14159f, 2e-3f);
  EXPECT_EQ(back[10], 0.0f) << "exactly half the smallest subnormal ties to zero";
  // Raw decoding of special halves.
  EXPECT_TRUE(std::isnan(samba::f16_to_f32(0x7e00)));
  EXPECT_TRUE(std::isinf(samba::f16_to_f32(0xfc00)) && samba::f16_to_f32(0xfc00) < 0);
  EXPECT_EQ(samba::f16_to_f32(0x3c00), 1.0f);
  EXPECT_EQ(samba::f16_to_f32(0x03ff), 1023 * 0x1p-24f);
}

TEST_F(Safetensors, MetadataAndHandWrittenFilesAreAccepted) {
  // Unaligned data region, metadata, tensors listed out of order.
  write_raw(path("ok.safetensors"),
            R"({"__metadata__": {"format": "pt"}, "b": {"dtype": "F16", "shape": [2], )"
            R"("data_offsets": [8, 12]}, "a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}})",
            12);
  const auto file = SafetensorsFile::open(path("ok.safetensors"));
  EXPECT_EQ(file->tensors().size(), 2u);
  EXPECT_EQ(file->to_f32(*file->find("a")), (std::vector<float>{0.0f, 0.0f}));
}

TEST_F(Safetensors, EmptyFile) {
  write_bytes(path("e.safetensors"), {});
  expect_invalid(path("e.safetensors"), {"empty"});
}

TEST_F(Safetensors, FileShorterThanTheLengthField) {
  write_bytes(path("s.safetensors"), {1, 2, 3});
  expect_invalid(path("s.safetensors"), {"too short", "3 bytes"});
}

TEST_F(Safetensors, HeaderLengthLargerThanTheFile) {
  std::vector<uint8_t> bytes(8 + 10, ' ');
  const uint64_t n = 1000;
  std::memcpy(bytes.data(), &n, 8);
  write_bytes(path("l.safetensors"), bytes);
  expect_invalid(path("l.safetensors"), {"header length 1000", "larger than the file (18 bytes)"});
  const uint64_t huge = ~0ull;
  std::memcpy(bytes.data(), &huge, 8);
  write_bytes(path("l.safetensors"), bytes);
  expect_invalid(path("l.safetensors"), {"larger than the file"});
}

TEST_F(Safetensors, HeaderLengthAboveTheSanityCap) {
  // A sparse 101 MiB file takes no real disk space.
  const std::string p = path("big.safetensors");
  const uint64_t n = (100ull << 20) + 1;
  {
    std::vector<uint8_t> bytes(8);
    std::memcpy(bytes.data(), &n, 8);
    write_bytes(p, bytes);
  }
  fs::resize_file(p, n + 8 + 16);
  expect_invalid(p, {"exceeds the limit"});
}

TEST_F(Safetensors, HeaderNotJson) {
  write_raw(path("j.safetensors"), R"({"a": {"dtype": "F32", "shape": [1], )", 4);
  expect_invalid(path("j.safetensors"), {"header is not valid JSON"});
  write_raw(path("j.safetensors"), std::string("{\0}", 3), 0);
  expect_invalid(path("j.safetensors"), {"header is not valid JSON"});
  write_raw(path("j.safetensors"), "", 16);
  expect_invalid(path("j.safetensors"), {"header is not valid JSON"});
}

TEST_F(Safetensors, HeaderNotAnObject) {
  write_raw(path("o.safetensors"), R"([{"dtype": "F32"}])", 0);
  expect_invalid(path("o.safetensors"), {"header is not a JSON object"});
  write_raw(path("o.safetensors"), R"({"__metadata__": 5})", 0);
  expect_invalid(path("o.safetensors"), {"'__metadata__' is not a JSON object"});
  write_raw(path("o.safetensors"), R"({"t": [1, 2]})", 0);
  expect_invalid(path("o.safetensors"), {"tensor 't'", "not a JSON object"});
}

TEST_F(Safetensors, HeaderNestedTooDeeply) {
  write_raw(path("deep.safetensors"), std::string(200000, '[') + std::string(200000, ']'), 0);
  expect_invalid(path("deep.safetensors"), {"nests JSON deeper than 16 levels"});
  // Brackets inside strings do not count.
  write_raw(path("deep.safetensors"),
            R"({"__metadata__": {"note": "[[[[[[[[[[[[[[[[[[[[\"[[[[["}, )"
            R"("a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}})",
            4);
  EXPECT_NO_THROW(SafetensorsFile::open(path("deep.safetensors")));
}

TEST_F(Safetensors, UnknownDtype) {
  write_raw(path("d.safetensors"), R"({"w": {"dtype": "I64", "shape": [1], "data_offsets": [0, 8]}})",
            8);
  expect_invalid(path("d.safetensors"), {"tensor 'w'", "unsupported dtype 'I64'", "F32, BF16, F16"});
  write_raw(path("d.safetensors"), R"({"w": {"shape": [1], "data_offsets": [0, 4]}})", 4);
  expect_invalid(path("d.safetensors"), {"tensor 'w'", "'dtype'"});
}

TEST_F(Safetensors, NegativeOrNonIntegerShape) {
  write_raw(path("n.safetensors"),
            R"({"w": {"dtype": "F32", "shape": [2, -3], "data_offsets": [0, 0]}})", 0);
  expect_invalid(path("n.safetensors"), {"tensor 'w'", "[2, -3]", "not a non-negative integer: -3"});
  write_raw(path("n.safetensors"),
            R"({"w": {"dtype": "F32", "shape": [2.5], "data_offsets": [0, 10]}})", 10);
  expect_invalid(path("n.safetensors"), {"tensor 'w'", "not a non-negative integer: 2.5"});
  write_raw(path("n.safetensors"),
            R"({"w": {"dtype": "F32", "shape": ["2"], "data_offsets": [0, 8]}})", 8);
  expect_invalid(path("n.safetensors"), {"tensor 'w'", "not a non-negative integer"});
  write_raw(path("n.safetensors"), R"({"w": {"dtype": "F32", "shape": 4, "data_offsets": [0, 16]}})",
            16);
  expect_invalid(path("n.safetensors"), {"tensor 'w'", "'shape'"});
  write_raw(path("n.safetensors"),
            R"({"w": {"dtype": "F32", "shape": [4294967296, 4294967296, 4294967296], )"
            R"("data_offsets": [0, 16]}})",
            16);
  expect_invalid(path("n.safetensors"), {"tensor 'w'", "too many elements"});
}

TEST_F(Safetensors, OffsetsOutOfRange) {
  // Second tensor points past the data region, leaving a gap: a bad offset,
  // not a truncation.
  write_raw(path("r.safetensors"),
            R"({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}, )"
            R"("b": {"dtype": "F32", "shape": [2], "data_offsets": [1000, 1008]}})",
            16);
  expect_invalid(path("r.safetensors"), {"tensor 'b'", "[1000, 1008]", "outside the data region of 16 bytes"});
  write_raw(path("r.safetensors"),
            R"({"a": {"dtype": "F32", "shape": [2], "data_offsets": [8, 0]}})", 8);
  expect_invalid(path("r.safetensors"), {"tensor 'a'", "end before they begin"});
  write_raw(path("r.safetensors"),
            R"({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, -8]}})", 8);
  expect_invalid(path("r.safetensors"), {"tensor 'a'", "non-negative integers"});
  write_raw(path("r.safetensors"), R"({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0]}})", 8);
  expect_invalid(path("r.safetensors"), {"tensor 'a'", "[begin, end]"});
  write_raw(path("r.safetensors"),
            R"({"a": {"dtype": "F32", "shape": [0], "data_offsets": [18446744073709551615, 18446744073709551615]}})",
            8);
  expect_invalid(path("r.safetensors"), {"tensor 'a'", "outside the data region"});
}

TEST_F(Safetensors, ByteCountDiffersFromShape) {
  write_raw(path("c.safetensors"),
            R"({"w": {"dtype": "BF16", "shape": [3, 2], "data_offsets": [0, 24]}})", 24);
  expect_invalid(path("c.safetensors"),
                 {"tensor 'w'", "span 24 bytes", "shape [3, 2] of BF16 needs 12"});
}

TEST_F(Safetensors, OverlappingTensors) {
  write_raw(path("v.safetensors"),
            R"({"a": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]}, )"
            R"("b": {"dtype": "F32", "shape": [2], "data_offsets": [8, 16]}})",
            16);
  expect_invalid(path("v.safetensors"), {"tensors 'a' and 'b' overlap"});
  // Identical ranges overlap too.
  write_raw(path("v.safetensors"),
            R"({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}, )"
            R"("b": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}})",
            8);
  expect_invalid(path("v.safetensors"), {"overlap"});
}

TEST_F(Safetensors, TruncatedDataRegion) {
  const auto a = random_values(100, 4);
  samba::write_safetensors(path("t.safetensors"), {{"a", {10, 10}, a.data()}, {"b", {100}, a.data()}});
  auto bytes = read_bytes(path("t.safetensors"));
  bytes.resize(bytes.size() - 10);
  write_bytes(path("t.safetensors"), bytes);
  expect_invalid(path("t.safetensors"), {"truncated", "800 bytes of tensor data", "790 bytes"});
}

TEST_F(Safetensors, MissingFileAndFolderAreIoErrors) {
  try {
    SafetensorsFile::open(path("nope.safetensors"));
    ADD_FAILURE() << "opened a missing file";
  } catch (const samba::Error& e) {
    EXPECT_EQ(static_cast<int>(e.kind()), static_cast<int>(ErrorKind::Io));
    EXPECT_NE(std::string(e.what()).find("nope.safetensors"), std::string::npos);
  }
  expect_invalid(dir_, {"not a regular file"});
  // A FIFO must be refused, not block the open forever.
  ASSERT_EQ(mkfifo(path("pipe.safetensors").c_str(), 0600), 0);
  expect_invalid(path("pipe.safetensors"), {"not a regular file"});
}

TEST_F(Safetensors, WriteErrorsAreClearAndLeaveNothingBehind) {
  const std::vector<float> values(4096, 1.0f);
  try {
    samba::write_safetensors(path("no-such-dir/m.safetensors"), {{"x", {4096}, values.data()}});
    ADD_FAILURE() << "wrote into a missing folder";
  } catch (const samba::Error& e) {
    EXPECT_EQ(static_cast<int>(e.kind()), static_cast<int>(ErrorKind::Io));
    EXPECT_NE(std::string(e.what()).find("no-such-dir/m.safetensors"), std::string::npos) << e.what();
  }

  // A disk that fills up mid-write: a file-size limit makes write() fail
  // with EFBIG the same way ENOSPC would. The old file must survive intact.
  const std::string p = path("m.safetensors");
  samba::write_safetensors(p, {{"old", {1}, values.data()}});
  const auto old_bytes = read_bytes(p);
  struct rlimit saved {};
  ASSERT_EQ(getrlimit(RLIMIT_FSIZE, &saved), 0);
  const auto old_handler = signal(SIGXFSZ, SIG_IGN);
  struct rlimit small = saved;
  small.rlim_cur = 1000;
  ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &small), 0);
  std::string message;
  try {
    samba::write_safetensors(p, {{"x", {4096}, values.data()}});
  } catch (const samba::Error& e) {
    message = e.what();
    EXPECT_EQ(static_cast<int>(e.kind()), static_cast<int>(ErrorKind::Io));
  }
  setrlimit(RLIMIT_FSIZE, &saved);
  signal(SIGXFSZ, old_handler);
  EXPECT_NE(message.find(p), std::string::npos) << "error must name the file: '" << message << "'";
  EXPECT_NE(message.find("cannot write"), std::string::npos) << message;
  EXPECT_EQ(read_bytes(p), old_bytes);
  EXPECT_EQ(std::distance(fs::directory_iterator(dir_), fs::directory_iterator()), 1)
      << "the temporary file was left behind";

  // Bad arguments are refused before anything is written.
  EXPECT_THROW(samba::write_safetensors(path("x.safetensors"), {{"a", {1}, values.data()},
                                                                {"a", {1}, values.data()}}),
               samba::Error);
  EXPECT_THROW(samba::write_safetensors(path("x.safetensors"), {{"a", {-1}, values.data()}}),
               samba::Error);
  EXPECT_THROW(samba::write_safetensors(path("x.safetensors"), {{"a", {2}, nullptr}}), samba::Error);
  EXPECT_FALSE(fs::exists(path("x.safetensors")));
}

// Random damage to a valid file must give samba::Error or a file whose
// tensors all read back in bounds; never a crash (run under ASan/UBSan too).
TEST_F(Safetensors, FuzzedFilesNeverCrash) {
  const auto a = random_values(48, 5), b = random_values(7, 6);
  const std::string good_path = path("good.safetensors");
  samba::write_safetensors(good_path, {{"layer.0.weight", {6, 8}, a.data()},
                                       {"layer.0.bias", {7}, b.data()},
                                       {"scale", {1, 1}, b.data()}},
                           DType::BF16);
  const auto good = read_bytes(good_path);
  uint64_t header_size = 0;
  std::memcpy(&header_size, good.data(), 8);

  std::mt19937 rng(12345);
  int opened = 0, rejected = 0;
  for (int iteration = 0; iteration < 10000; ++iteration) {
    std::vector<uint8_t> bytes = good;
    const int mode = iteration % 5;
    auto pick = [&](size_t lo, size_t hi) {
      return std::uniform_int_distribution<size_t>(lo, hi)(rng);
    };
    if (mode <= 1) {  // flip bytes inside the header text
      for (int k = 0, n = 1 + static_cast<int>(pick(0, 4)); k < n; ++k) {
        bytes[pick(8, 8 + header_size - 1)] = static_cast<uint8_t>(pick(0, 255));
      }
    } else if (mode == 2) {  // replace a header character with a JSON-significant one
      const char significant[] = "{}[]\":,-0123456789e.E ";
      bytes[pick(8, 8 + header_size - 1)] = significant[pick(0, sizeof significant - 2)];
    } else if (mode == 3) {  // truncate anywhere
      bytes.resize(pick(0, bytes.size() - 1));
    } else {  // damage the length field or append garbage
      if (pick(0, 1)) {
        bytes[pick(0, 7)] ^= static_cast<uint8_t>(1u << pick(0, 7));
      } else {
        for (size_t k = pick(1, 64); k > 0; --k) bytes.push_back(static_cast<uint8_t>(pick(0, 255)));
      }
    }
    // A new name each time: rewriting one file in place waits on its writeback.
    const std::string fuzz_path = path("fuzz-" + std::to_string(iteration) + ".safetensors");
    write_bytes(fuzz_path, bytes);
    try {
      const auto file = SafetensorsFile::open(fuzz_path);
      for (const auto& [name, info] : file->tensors()) {
        const auto values = file->to_f32(info);
        ASSERT_EQ(values.size(), static_cast<size_t>(info.numel()));
        ASSERT_EQ(file->bytes(info).size(), info.nbytes);
      }
      ++opened;
    } catch (const samba::Error& e) {
      ASSERT_NE(std::string(e.what()).find(fuzz_path), std::string::npos) << e.what();
      ++rejected;
    }
    fs::remove(fuzz_path);
  }
  // Both outcomes must have happened, or the fuzzing did not reach the checks.
  EXPECT_GT(opened, 300);
  EXPECT_GT(rejected, 3000);
}

}  // namespace
