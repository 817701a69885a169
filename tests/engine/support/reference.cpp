#include "reference.h"

#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>
#include <stdexcept>
#include <utility>

namespace samba_test {
namespace fs = std::filesystem;

namespace {

std::string work_dir() {
  fs::path dir(SAMBA_TEST_WORK_DIR);
  fs::create_directories(dir);
  return dir.string();
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path + ": " + std::strerror(errno));
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

void write_file(const std::string& path, const void* data, size_t size) {
  std::ofstream out(path, std::ios::binary);
  out.write(static_cast<const char*>(data), static_cast<std::streamsize>(size));
  if (!out) throw std::runtime_error("cannot write " + path);
}

std::vector<double> read_doubles(const std::string& path) {
  std::string bytes = read_file(path);
  if (bytes.size() % sizeof(double) != 0)
    throw std::runtime_error(path + ": size " + std::to_string(bytes.size()) +
                             " is not a whole number of float64 values");
  std::vector<double> values(bytes.size() / sizeof(double));
  std::memcpy(values.data(), bytes.data(), bytes.size());
  return values;
}

uint64_t fnv1a(const std::string& bytes, uint64_t hash = 1469598103934665603ull) {
  for (unsigned char c : bytes) {
    hash ^= c;
    hash *= 1099511628211ull;
  }
  return hash;
}

std::string hex(uint64_t value, int digits) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(value));
  return std::string(buf + 16 - digits);
}

// Models made by an older reference must not be reused: the folder name
// carries a hash of the scripts that write the weights.
const std::string& reference_source_hash() {
  static const std::string hash = [] {
    std::string source = std::string(SAMBA_SOURCE_DIR);
    uint64_t h = fnv1a(read_file(source + "/tools/reference/samba_reference.py"));
    h = fnv1a(read_file(source + "/tools/common/samba_folder.py"), h);
    return hex(h, 12);
  }();
  return hash;
}

// Makes `final_dir` by running `fill(tmp)` on a fresh temporary folder next
// to it and renaming that into place. A folder is complete when it holds
// `.complete`; when another process wins the race its folder is used.
template <typename Fill>
std::string make_once(const std::string& final_dir, Fill fill) {
  const fs::path marker = fs::path(final_dir) / ".complete";
  if (fs::exists(marker)) return final_dir;
  fs::create_directories(fs::path(final_dir).parent_path());
  std::string tmp = temp_dir(fs::path(final_dir).filename().string() + ".partial");
  try {
    fill(tmp);
  } catch (...) {
    std::error_code ignored;
    fs::remove_all(tmp, ignored);
    throw;
  }
  write_file((fs::path(tmp) / ".complete").string(), "", 0);
  std::error_code ec;
  if (fs::exists(final_dir) && !fs::exists(marker)) fs::remove_all(final_dir, ec);  // a crashed run's leftover
  fs::rename(tmp, final_dir, ec);
  if (ec) {
    fs::remove_all(tmp);
    if (!fs::exists(marker))
      throw std::runtime_error("cannot move " + tmp + " to " + final_dir + ": " + ec.message());
  }
  return final_dir;
}

}  // namespace

std::string shell_quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'')
      out += "'\\''";
    else
      out += c;
  }
  return out + "'";
}

std::string python_tool(const std::string& relative_script) {
  return shell_quote(SAMBA_REFERENCE_PYTHON) + " " +
         shell_quote(std::string(SAMBA_SOURCE_DIR) + "/tools/" + relative_script);
}

CommandResult run_command_status(const std::string& command) {
  std::string full = command + " 2>&1";
  FILE* pipe = popen(full.c_str(), "r");
  if (!pipe) throw std::runtime_error("cannot start: " + command + ": " + std::strerror(errno));
  CommandResult result;
  char buf[4096];
  size_t got;
  while ((got = std::fread(buf, 1, sizeof buf, pipe)) > 0) result.output.append(buf, got);
  int status = pclose(pipe);
  if (status == -1) throw std::runtime_error("cannot wait for: " + command);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

std::string run_command(const std::string& command) {
  CommandResult result = run_command_status(command);
  if (result.exit_code != 0)
    throw std::runtime_error("command failed (exit " + std::to_string(result.exit_code) +
                             "): " + command + "\n--- output ---\n" + result.output);
  return result.output;
}

std::string temp_dir(const std::string& name) {
  fs::path base = fs::path(work_dir()) / "tmp";
  fs::create_directories(base);
  std::string pattern = (base / (name + "-XXXXXX")).string();
  if (!mkdtemp(pattern.data()))
    throw std::runtime_error("mkdtemp " + pattern + ": " + std::strerror(errno));
  return pattern;
}

std::string describe(const TinyConfig& c) {
  std::string name = "L" + std::to_string(c.layers) + "_d" + std::to_string(c.d_model) + "_h" +
                     std::to_string(c.heads) + "_kv" + std::to_string(c.kv_heads);
  if (c.head_size) name += "_hs" + std::to_string(c.head_size);
  name += "_i" + std::to_string(c.intermediate) + "_w" + std::to_string(c.window) + "_v" +
          std::to_string(c.vocab) + "_s" + std::to_string(c.seed) + "_" + c.dtype +
          (c.fused_qkv ? "_fused" : "_split") + (c.with_tokenizer ? "_tok" : "");
  return name;
}

std::string make_test_tokenizer(int vocab) {
  const std::string dir = (fs::path(work_dir()) / "tokenizers" / ("spm-bpe-" + std::to_string(vocab))).string();
  make_once(dir, [&](const std::string& tmp) {
    // The licence texts of base-files: present on every Debian system.
    std::string inputs;
    for (const char* name : {"GPL-3", "GPL-2", "LGPL-2.1", "Apache-2.0", "MPL-2.0", "Artistic", "GFDL-1.3"}) {
      std::string path = std::string("/usr/share/common-licenses/") + name;
      if (fs::exists(path)) inputs += (inputs.empty() ? "" : ",") + path;
    }
    if (inputs.empty()) throw std::runtime_error("no training text: /usr/share/common-licenses is empty");
    run_command("spm_train --input=" + shell_quote(inputs) + " --model_prefix=" +
                shell_quote(tmp + "/tokenizer") + " --vocab_size=" + std::to_string(vocab) +
                " --model_type=bpe --byte_fallback=true --unk_id=0 --bos_id=1 --eos_id=2 --pad_id=-1"
                " --character_coverage=1.0 --num_threads=1 --minloglevel=2");
    std::string pieces = run_command("spm_export_vocab --model=" + shell_quote(tmp + "/tokenizer.model"));
    size_t lines = 0;
    for (char c : pieces) lines += c == '\n';
    if (lines != static_cast<size_t>(vocab))
      throw std::runtime_error("spm_train made " + std::to_string(lines) + " pieces, not " +
                               std::to_string(vocab));
  });
  return dir + "/tokenizer.model";
}

std::string make_reference_model(const TinyConfig& c) {
  const std::string dir =
      (fs::path(work_dir()) / "models" / (describe(c) + "-" + reference_source_hash())).string();
  std::string tokenizer = c.with_tokenizer ? make_test_tokenizer(c.vocab) : std::string();
  return make_once(dir, [&](const std::string& tmp) {
    std::ostringstream cmd;
    cmd << python_tool("reference/samba_reference.py") << " make-model --out " << shell_quote(tmp)
        << " --layers " << c.layers << " --d-model " << c.d_model << " --heads " << c.heads
        << " --kv-heads " << c.kv_heads << " --head-size " << c.head_size << " --intermediate "
        << c.intermediate << " --window " << c.window << " --vocab " << c.vocab << " --seed " << c.seed
        << " --dtype " << c.dtype << (c.fused_qkv ? " --fused-qkv" : "");
    if (!tokenizer.empty()) cmd << " --tokenizer " << shell_quote(tokenizer);
    run_command(cmd.str());
  });
}

ReferenceOutput reference_forward(const std::string& model_dir, const std::vector<int32_t>& tokens) {
  // Several tests of one executable ask for the same sequence: run it once.
  static std::mutex mutex;
  static std::map<std::pair<std::string, std::vector<int32_t>>, ReferenceOutput> cache;
  std::lock_guard<std::mutex> lock(mutex);
  auto key = std::make_pair(model_dir, tokens);
  if (auto it = cache.find(key); it != cache.end()) return it->second;

  if (tokens.empty()) throw std::runtime_error("reference_forward: no tokens");
  const std::string tmp = temp_dir("forward");
  const std::string tokens_file = tmp + "/tokens.i32", logits_file = tmp + "/logits.f64",
                    entropy_file = tmp + "/entropy.f64";
  write_file(tokens_file, tokens.data(), tokens.size() * sizeof(int32_t));
  run_command(python_tool("reference/samba_reference.py") + " forward --model " + shell_quote(model_dir) +
              " --tokens " + shell_quote(tokens_file) + " --out " + shell_quote(logits_file) +
              " --entropy-out " + shell_quote(entropy_file));
  ReferenceOutput out{read_doubles(logits_file), read_doubles(entropy_file)};
  fs::remove_all(tmp);
  if (out.logits.empty() || out.logits.size() % tokens.size() != 0)
    throw std::runtime_error("reference logits: " + std::to_string(out.logits.size()) +
                             " values for " + std::to_string(tokens.size()) + " tokens");
  cache.emplace(std::move(key), out);
  return out;
}

std::vector<double> reference_logits(const std::string& model_dir, const std::vector<int32_t>& tokens) {
  return reference_forward(model_dir, tokens).logits;
}

std::vector<double> reference_entropy(const std::string& model_dir,
                                      const std::vector<int32_t>& tokens) {
  return reference_forward(model_dir, tokens).entropy;
}

std::vector<int32_t> random_tokens(size_t n, int vocab, uint64_t seed) {
  // splitmix64: the same sequence on every platform and standard library.
  std::vector<int32_t> tokens(n);
  uint64_t state = seed;
  for (auto& token : tokens) {
    uint64_t z = (state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    token = static_cast<int32_t>(z % static_cast<uint64_t>(vocab));
  }
  return tokens;
}

double relative_error(const float* got, const double* ref, size_t n) {
  double diff = 0, norm = 0;
  for (size_t i = 0; i < n; ++i) {
    double d = static_cast<double>(got[i]) - ref[i];
    diff += d * d;
    norm += ref[i] * ref[i];
  }
  return norm > 0 ? std::sqrt(diff / norm) : std::sqrt(diff);
}

}  // namespace samba_test
