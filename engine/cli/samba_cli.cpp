// samba-cli: the engine on the command line, without Qt.
//   samba-cli info     --model DIR
//   samba-cli generate --model DIR (--prompt TEXT | --prompt-file F) [sampling options]
//   samba-cli score    --model DIR FILE [--csv OUT]
//   samba-cli passkey  --model DIR [--lengths 1024,2048] [--depths 0,0.5,1] [--trials N] [--csv OUT]
//   samba-cli entropy  --model DIR FILE [--buckets N] [--csv OUT]
// Every command that runs the model takes --backend auto|cpu|cuda and
// --precision fast|exact (the CUDA backend's activations: bf16 or fp32; the
// CPU is always fp32). entropy defaults to exact, the others to fast.
#include <csignal>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "samba/backend.h"
#include "samba/error.h"
#include "samba/generate.h"
#include "samba/model_state.h"
#include "samba/passkey.h"
#include "samba/probes.h"
#include "samba/tokenizer.h"
#include "samba/weights.h"

namespace {

samba::CancelToken g_cancel;
extern "C" void on_sigint(int) { g_cancel.cancel(); }

struct Args {
  std::string command;
  std::map<std::string, std::vector<std::string>> options;
  std::vector<std::string> positional;
  std::string get(const std::string& key, const std::string& fallback = "") const {
    auto it = options.find(key);
    return it == options.end() ? fallback : it->second.back();
  }
  bool has(const std::string& key) const { return options.count(key) != 0; }
};

const char* kUsage =
    "usage:\n"
    "  samba-cli info     --model DIR\n"
    "  samba-cli generate --model DIR (--prompt TEXT | --prompt-file FILE)\n"
    "                     [--max-tokens N] [--temperature T] [--top-k K] [--top-p P]\n"
    "                     [--repetition-penalty R] [--seed S] [--stop STRING]...\n"
    "                     [--backend auto|cpu|cuda] [--threads N] [--chunk N]\n"
    "  samba-cli score    --model DIR FILE [--csv OUT] [--backend auto|cpu|cuda]\n"
    "  samba-cli passkey  --model DIR [--lengths 1024,2048,...] [--depths 0,0.1,...,1]\n"
    "                     [--trials N] [--seed S] [--csv OUT] [--backend auto|cpu|cuda]\n"
    "  samba-cli entropy  --model DIR FILE [--buckets N] [--csv OUT] [--backend auto|cpu|cuda]\n"
    "  generate, score, passkey and entropy also take --precision fast|exact: the CUDA\n"
    "  backend's activations in bf16 (fast) or fp32 (exact, matches the CPU to rounding);\n"
    "  entropy defaults to exact, the others to fast; the CPU backend is always fp32.\n";

Args parse_args(int argc, char** argv) {
  if (argc < 2) throw samba::Error(samba::ErrorKind::InvalidArgument, "no command given");
  Args args;
  args.command = argv[1];
  for (int i = 2; i < argc; ++i) {
    std::string a = argv[i];
    if (a.rfind("--", 0) == 0) {
      if (i + 1 >= argc) throw samba::Error(samba::ErrorKind::InvalidArgument, "option " + a + " needs a value");
      args.options[a.substr(2)].push_back(argv[++i]);
    } else {
      args.positional.push_back(a);
    }
  }
  return args;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw samba::Error(samba::ErrorKind::Io, "cannot open " + path + ": " + std::strerror(errno));
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

double number(const Args& args, const std::string& key, double fallback) {
  const std::string v = args.get(key);
  if (v.empty()) return fallback;
  try {
    size_t used = 0;
    const double d = std::stod(v, &used);
    if (used != v.size()) throw std::invalid_argument(v);
    return d;
  } catch (const std::exception&) {
    throw samba::Error(samba::ErrorKind::InvalidArgument, "--" + key + " expects a number, got '" + v + "'");
  }
}

std::string mib(double bytes) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.1f MiB", bytes / (1024.0 * 1024.0));
  return buf;
}

int cmd_info(const Args& args) {
  auto files = samba::ModelFiles::open(args.get("model"));
  const samba::ModelConfig& c = files->config();
  const int64_t params = c.parameter_count();
  std::cout << "model        " << files->folder() << " (" << c.name << ")\n"
            << "layers       " << c.n_layer << " (" << c.n_mamba_layers() << " Mamba + " << c.n_swa_layers() << " SWA)\n"
            << "d_model      " << c.d_model << ", heads " << c.n_head << " (KV " << c.n_kv_head << ", size "
            << c.head_size << "), MLP " << c.intermediate << "\n"
            << "mamba        d_inner " << c.d_inner << ", d_state " << c.d_state << ", d_conv " << c.d_conv
            << ", dt_rank " << c.dt_rank << "\n"
            << "window       " << c.window << " tokens; vocab " << c.vocab_size << "\n"
            << "parameters   " << params << "\n"
            << "stored       " << mib(static_cast<double>(files->stored_bytes())) << " on disk\n"
            << "memory       " << mib(params * 4.0) << " weights on CPU (fp32), " << mib(params * 2.0)
            << " on GPU (bf16)\n"
            << "state        " << mib(static_cast<double>(samba::state_bytes(c)))
            << " per sequence, whatever its length\n"
            << "cuda         " << (samba::cuda_compiled() ? "compiled in" : "not in this build") << "\n";
  return 0;
}

samba::BackendChoice open_backend(const samba::ModelFiles& files, const Args& args,
                                  samba::Precision default_precision = samba::Precision::fast) {
  const std::string kind = args.get("backend", "auto");
  const samba::Precision precision =
      args.has("precision") ? samba::parse_precision(args.get("precision")) : default_precision;
  if (kind == "cpu" && args.has("threads"))
    return {samba::create_cpu_backend(files, static_cast<int>(number(args, "threads", 0))), ""};
  auto choice = samba::create_backend(files, kind, 0, precision);
  if (!choice.fallback_reason.empty())
    std::cerr << "note: running on the CPU: " << choice.fallback_reason << "\n";
  return choice;
}

int cmd_generate(const Args& args) {
  auto files = samba::ModelFiles::open(args.get("model"));
  auto tokenizer = samba::load_tokenizer(files->folder());
  std::string prompt = args.has("prompt-file") ? read_file(args.get("prompt-file")) : args.get("prompt");
  if (prompt.empty()) throw samba::Error(samba::ErrorKind::InvalidArgument, "give --prompt TEXT or --prompt-file FILE");
  auto choice = open_backend(*files, args);
  std::cerr << "backend: " << choice.backend->description() << "\n";

  samba::GenerateOptions options;
  options.max_new_tokens = static_cast<int>(number(args, "max-tokens", 128));
  options.sampling.temperature = static_cast<float>(number(args, "temperature", 0));
  options.sampling.top_k = static_cast<int>(number(args, "top-k", 0));
  options.sampling.top_p = static_cast<float>(number(args, "top-p", 1));
  options.sampling.repetition_penalty = static_cast<float>(number(args, "repetition-penalty", 1));
  options.sampling.seed = static_cast<uint64_t>(number(args, "seed", 0));
  if (args.has("stop")) options.stop_strings = args.options.at("stop");
  options.prefill.chunk_tokens = static_cast<int>(number(args, "chunk", 512));
  options.prefill.cancel = &g_cancel;
  options.prefill.on_progress = [](int64_t done, int64_t total) {
    std::cerr << "\rreading prompt: " << done << "/" << total << " tokens" << std::flush;
    if (done == total) std::cerr << "\n";
  };
  options.on_token = [](std::string_view delta, int32_t) {
    std::cout << delta << std::flush;
    return true;
  };
  const std::vector<int32_t> ids = tokenizer->encode(prompt);
  const samba::GenerateResult r = samba::generate(*choice.backend, *tokenizer, ids, options);
  std::cout << "\n";
  const double decode_rate = r.decode_seconds > 0 ? r.tokens.size() / r.decode_seconds : 0;
  std::fprintf(stderr, "prompt %lld tokens in %.2f s (%.0f tok/s); first token after %.3f s; "
               "%zu tokens at %.1f tok/s; stop: %s\n",
               static_cast<long long>(r.prompt_tokens), r.prefill_seconds,
               r.prefill_seconds > 0 ? r.prompt_tokens / r.prefill_seconds : 0.0, r.first_token_seconds,
               r.tokens.size(), decode_rate, samba::stop_reason_name(r.stop_reason));
  return r.stop_reason == samba::StopReason::Cancelled ? 130 : 0;
}

int cmd_score(const Args& args) {
  if (args.positional.size() != 1) throw samba::Error(samba::ErrorKind::InvalidArgument, "score needs one FILE");
  auto files = samba::ModelFiles::open(args.get("model"));
  auto tokenizer = samba::load_tokenizer(files->folder());
  const std::vector<int32_t> ids = tokenizer->encode(read_file(args.positional[0]));
  if (ids.size() < 2) throw samba::Error(samba::ErrorKind::InvalidArgument, "the file has fewer than 2 tokens");
  auto choice = open_backend(*files, args);
  const std::vector<float> surprisal = samba::token_surprisal(
      *choice.backend, ids, 256, nullptr,
      [](int64_t done, int64_t total) { std::cerr << "\rscored " << done << "/" << total << " tokens" << std::flush; },
      &g_cancel);
  std::cerr << "\n";
  double sum = 0.0;
  for (size_t i = 1; i < ids.size(); ++i) sum += surprisal[i];
  const double mean = sum / static_cast<double>(ids.size() - 1);
  if (args.has("csv")) {
    std::ofstream csv(args.get("csv"));
    if (!csv) throw samba::Error(samba::ErrorKind::Io, "cannot write " + args.get("csv"));
    csv << "index,token_id,surprisal_nats\n";
    for (size_t i = 0; i < ids.size(); ++i) csv << i << "," << ids[i] << "," << surprisal[i] << "\n";
  } else {
    for (size_t i = 1; i < ids.size(); ++i)
      std::cout << i << "\t" << ids[i] << "\t" << surprisal[i] << "\n";
  }
  std::fprintf(stderr, "%zu tokens; mean surprisal %.4f nats; perplexity %.3f\n", ids.size(), mean, std::exp(mean));
  return 0;
}

template <typename T>
std::vector<T> number_list(const Args& args, const std::string& key, const std::vector<T>& fallback) {
  const std::string v = args.get(key);
  if (v.empty()) return fallback;
  std::vector<T> out;
  std::stringstream ss(v);
  std::string item;
  while (std::getline(ss, item, ',')) {
    try {
      size_t used = 0;
      const double d = std::stod(item, &used);
      if (used != item.size()) throw std::invalid_argument(item);
      out.push_back(static_cast<T>(d));
    } catch (const std::exception&) {
      throw samba::Error(samba::ErrorKind::InvalidArgument, "--" + key + " expects numbers separated by commas");
    }
  }
  return out;
}

int cmd_passkey(const Args& args) {
  auto files = samba::ModelFiles::open(args.get("model"));
  auto tokenizer = samba::load_tokenizer(files->folder());
  auto choice = open_backend(*files, args);
  std::cerr << "backend: " << choice.backend->description() << "\n";
  samba::PasskeySweepSpec spec;
  spec.lengths = number_list<int64_t>(args, "lengths", {1024, 2048, 4096});
  spec.depths = number_list<double>(args, "depths", {0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0});
  spec.trials = static_cast<int>(number(args, "trials", 5));
  spec.seed = static_cast<uint64_t>(number(args, "seed", 1));
  const samba::PasskeySweepResult r = samba::run_passkey_sweep(
      *choice.backend, *tokenizer, spec,
      [](const samba::PasskeyProgress& p) {
        std::cerr << "\rtrial " << p.trials_done << "/" << p.trials_total << ", " << p.tokens_read
                  << " tokens read" << std::flush;
      },
      &g_cancel);
  std::cerr << "\n";
  std::ostringstream table;
  table << "length,depth,trials,correct,accuracy\n";
  for (const samba::PasskeyCell& c : r.cells)
    table << c.length << "," << c.depth << "," << c.trials << "," << c.correct << "," << c.accuracy() << "\n";
  if (args.has("csv")) {
    std::ofstream csv(args.get("csv"));
    if (!csv) throw samba::Error(samba::ErrorKind::Io, "cannot write " + args.get("csv"));
    csv << table.str();
  }
  std::cout << table.str();
  // Accuracy grid: depth rows (0% at the top), length columns.
  std::cout << "\ndepth \\ length";
  for (int64_t L : spec.lengths) std::cout << "\t" << L;
  std::cout << "\n";
  for (size_t d = 0; d < spec.depths.size(); ++d) {
    std::cout << spec.depths[d];
    for (size_t l = 0; l < spec.lengths.size(); ++l) std::cout << "\t" << r.cells[l * spec.depths.size() + d].accuracy();
    std::cout << "\n";
  }
  std::fprintf(stderr, "%zu trials in %.1f s; %lld tokens read for %lld tokens of prompts (prefix reuse %.1fx)\n",
               r.trials.size(), r.seconds, static_cast<long long>(r.tokens_read),
               static_cast<long long>(r.tokens_in_prompts),
               r.tokens_read ? static_cast<double>(r.tokens_in_prompts) / r.tokens_read : 0.0);
  return 0;
}

int cmd_entropy(const Args& args) {
  if (args.positional.size() != 1) throw samba::Error(samba::ErrorKind::InvalidArgument, "entropy needs one FILE");
  auto files = samba::ModelFiles::open(args.get("model"));
  auto tokenizer = samba::load_tokenizer(files->folder());
  const std::vector<int32_t> ids = tokenizer->encode(read_file(args.positional[0]));
  // Entropy is compared across runs and backends: fp32 activations unless asked otherwise.
  auto choice = open_backend(*files, args, samba::Precision::exact);
  std::cerr << "backend: " << choice.backend->description() << "\n";
  samba::EntropyBuckets buckets(files->config(), 1, static_cast<int>(number(args, "buckets", 256)));
  const std::vector<float> surprisal = samba::token_surprisal(
      *choice.backend, ids, 256, &buckets,
      [](int64_t done, int64_t total) { std::cerr << "\rread " << done << "/" << total << " tokens" << std::flush; },
      &g_cancel);
  std::cerr << "\n";
  std::ostringstream out;
  out << "layer,head,position_from,position_to,mean_nats,min_nats,max_nats,max_possible_nats\n";
  for (int s = 0; s < buckets.n_swa_layers(); ++s)
    for (int h = 0; h < buckets.n_heads(); ++h)
      for (int b = 0; b < buckets.n_buckets(); ++b) {
        const auto& st = buckets.at(s, h, b);
        const int64_t from = b * buckets.bucket_width();
        const int64_t to = std::min<int64_t>(from + buckets.bucket_width(), static_cast<int64_t>(ids.size()));
        out << buckets.layer_of(s) << "," << h << "," << from << "," << to << "," << st.mean() << "," << st.min
            << "," << st.max << "," << buckets.max_entropy(to - 1) << "\n";
      }
  if (args.has("csv")) {
    std::ofstream csv(args.get("csv"));
    if (!csv) throw samba::Error(samba::ErrorKind::Io, "cannot write " + args.get("csv"));
    csv << out.str();
  } else {
    std::cout << out.str();
  }
  // A one-screen summary: mean entropy per SWA layer and head over the whole input.
  std::cerr << "mean attention entropy (nats) over " << ids.size() << " tokens, window " << files->config().window << ":\n";
  for (int s = 0; s < buckets.n_swa_layers(); ++s) {
    std::cerr << "  layer " << buckets.layer_of(s) << ":";
    for (int h = 0; h < buckets.n_heads(); ++h)
      std::fprintf(stderr, " %.3f", buckets.mean_over(s, h, 0, static_cast<int64_t>(ids.size())));
    std::cerr << "\n";
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::signal(SIGINT, on_sigint);
  try {
    const Args args = parse_args(argc, argv);
    if (args.command != "info" && args.command != "generate" && args.command != "score" &&
        args.command != "passkey" && args.command != "entropy")
      throw samba::Error(samba::ErrorKind::InvalidArgument, "unknown command '" + args.command + "'");
    if (!args.has("model")) throw samba::Error(samba::ErrorKind::InvalidArgument, "--model DIR is required");
    if (args.command == "info") return cmd_info(args);
    if (args.command == "generate") return cmd_generate(args);
    if (args.command == "passkey") return cmd_passkey(args);
    if (args.command == "entropy") return cmd_entropy(args);
    return cmd_score(args);
  } catch (const samba::Error& e) {
    std::cerr << "samba-cli: " << e.what() << "\n";
    if (e.kind() == samba::ErrorKind::InvalidArgument) std::cerr << kUsage;
    return e.kind() == samba::ErrorKind::Cancelled ? 130 : 1;
  } catch (const std::exception& e) {
    std::cerr << "samba-cli: " << e.what() << "\n";
    return 1;
  }
}
