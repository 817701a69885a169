// The passkey-retrieval task (passkey-and-entropy.md): prompt building with
// the needle at an exact token depth, scoring, and sweeps over lengths x
// depths x trials that read each shared prefix once.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace samba {

class Backend;
class Tokenizer;
class CancelToken;

// The first integer in `text` (a run of ASCII digits), or -1 if none.
int64_t first_integer(std::string_view text);

// Token pieces of the prompt, tokenized once per tokenizer:
//   intro "\n" filler[0, at) "\n" needle(K) "\n" filler[0, n - at) "\n" question
// (prefix and suffix filler are each the filler cut to length, as in the
// original passkey evaluation code).
class PasskeyPromptBuilder {
 public:
  explicit PasskeyPromptBuilder(const Tokenizer& tokenizer);
  // Filler tokens for a prompt of `total_tokens` (throws if too short).
  int64_t filler_tokens(int64_t total_tokens, int key) const;
  // Index in the filler where the needle goes: round(depth * filler).
  static int64_t needle_index(int64_t filler_tokens, double depth);
  // The whole prompt; its size is exactly `total_tokens`. `needle_at`
  // receives the token offset of the needle's first token.
  std::vector<int32_t> build(int64_t total_tokens, double depth, int key,
                             int64_t* needle_at = nullptr) const;
  // Pieces, for callers that feed the prompt in parts.
  const std::vector<int32_t>& intro() const { return intro_; }
  std::vector<int32_t> filler(int64_t begin, int64_t end) const;  // filler token range
  std::vector<int32_t> needle(int key) const;                     // "\n" needle "\n"
  const std::vector<int32_t>& question() const { return question_; }
  const std::vector<int32_t>& newline() const { return newline_; }

 private:
  const Tokenizer& tokenizer_;
  std::vector<int32_t> intro_, newline_, filler_first_, filler_unit_, question_;
};

struct PasskeySweepSpec {
  std::vector<int64_t> lengths;  // total prompt tokens
  std::vector<double> depths;    // 0 = needle at the start of the filler, 1 = at its end
  int trials = 5;
  uint64_t seed = 1;
  int answer_tokens = 10;        // greedy tokens generated per trial
  int chunk_tokens = 4096;       // prefill chunk (progress/cancel granularity)
};

struct PasskeyTrial {
  int64_t length = 0;
  double depth = 0;
  int key = 0;
  std::string answer;
  bool correct = false;
};

struct PasskeyCell {
  int64_t length = 0;
  double depth = 0;
  int correct = 0;
  int trials = 0;
  double accuracy() const { return trials ? static_cast<double>(correct) / trials : 0.0; }
};

struct PasskeySweepResult {
  std::vector<PasskeyCell> cells;    // lengths-major, in spec order
  std::vector<PasskeyTrial> trials;
  int64_t tokens_read = 0;           // tokens actually run through the model
  int64_t tokens_in_prompts = 0;     // what reading every prompt whole would cost
  double seconds = 0;
};

struct PasskeyProgress {
  int trials_done = 0, trials_total = 0;
  int64_t tokens_read = 0;
};

// Runs the sweep. For each length the intro and filler are shared: the
// model state is kept after the filler before each depth's needle
// (depths in increasing order), so only needle + rest + question is read
// per trial. Throws samba::Error(Cancelled) if `cancel` fires.
PasskeySweepResult run_passkey_sweep(Backend& backend, const Tokenizer& tokenizer,
                                     const PasskeySweepSpec& spec,
                                     const std::function<void(const PasskeyProgress&)>& on_progress = {},
                                     const CancelToken* cancel = nullptr);

}  // namespace samba
