// Generation on top of a Backend: chunked prefill with progress and
// cancellation, then token-by-token decoding with sampling, stop strings and
// a callback per token that receives whole UTF-8 text deltas.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <random>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace samba {

class Backend;
class Tokenizer;

// Set from any thread; the engine checks it between tokens and between
// prefill chunks, so a stop takes effect within one token or one chunk.
class CancelToken {
 public:
  void cancel() { cancelled_.store(true, std::memory_order_relaxed); }
  void reset() { cancelled_.store(false, std::memory_order_relaxed); }
  bool cancelled() const { return cancelled_.load(std::memory_order_relaxed); }

 private:
  std::atomic<bool> cancelled_{false};
};

struct SamplingParams {
  float temperature = 0.0f;         // 0 = greedy
  int top_k = 0;                    // 0 = off
  float top_p = 1.0f;               // 1 = off
  float repetition_penalty = 1.0f;  // 1 = off; CTRL-style divide/multiply
  int repetition_window = 64;       // last N tokens the penalty looks at
  uint64_t seed = 0;
};

// Picks the next token from logits (modified in place).
class Sampler {
 public:
  explicit Sampler(const SamplingParams& params);
  int32_t sample(std::span<float> logits, std::span<const int32_t> history);

 private:
  SamplingParams params_;
  std::mt19937_64 rng_;
  std::vector<int32_t> order_;
};

struct PrefillOptions {
  int chunk_tokens = 512;
  std::function<void(int64_t done, int64_t total)> on_progress;  // after each chunk
  const CancelToken* cancel = nullptr;
};

// Reads `tokens` into the backend's state in chunks. Returns the logits of
// the last token (empty if `tokens` is empty). Throws samba::Error(Cancelled)
// when cancelled; the backend state then holds the chunks read so far.
std::vector<float> prefill(Backend& backend, std::span<const int32_t> tokens,
                           const PrefillOptions& options = {});

enum class StopReason { MaxTokens, EndOfText, StopString, Cancelled, Callback };
const char* stop_reason_name(StopReason reason);

struct GenerateOptions {
  SamplingParams sampling;
  int max_new_tokens = 256;
  std::vector<std::string> stop_strings;  // text is cut before the match
  bool stop_at_eos = true;
  PrefillOptions prefill;
  // Receives each text delta (whole UTF-8 characters) and the token id;
  // return false to stop.
  std::function<bool(std::string_view delta, int32_t token)> on_token;
};

struct GenerateResult {
  std::string text;
  std::vector<int32_t> tokens;
  int64_t prompt_tokens = 0;
  double prefill_seconds = 0;
  double first_token_seconds = 0;  // from start to the first generated token
  double decode_seconds = 0;
  StopReason stop_reason = StopReason::MaxTokens;
  std::vector<float> final_logits;
};

// Prefills `prompt` (which may be empty when the state already holds the
// context, e.g. after restoring a snapshot; then `last_logits` must be the
// logits after that context) and generates. On return the backend state
// holds the prompt and every token of result.tokens (not the end-of-text
// token), and result.final_logits the logits after them, so a follow-up
// question can continue without reading anything again.
GenerateResult generate(Backend& backend, const Tokenizer& tokenizer,
                        std::span<const int32_t> prompt, const GenerateOptions& options,
                        std::vector<float> last_logits = {});

}  // namespace samba
