#include "samba/passkey.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <numeric>
#include <random>

#include "samba/backend.h"
#include "samba/error.h"
#include "samba/generate.h"
#include "samba/model_state.h"
#include "samba/tokenizer.h"

namespace samba {

namespace {

constexpr const char* kIntro =
    "There is an important info hidden inside a lot of irrelevant text. Find it and memorize them. "
    "I will quiz you about the important information there.";
constexpr const char* kFillerGroup =
    "The grass is green. The sky is blue. The sun is yellow. Here we go. There and back again.";
constexpr const char* kQuestion = "What is the pass key? The pass key is";
// The needle size that sets the needle's index for every key (5 digits is
// the longest key); shorter needles leave a few more filler tokens at the
// end, so prefixes stay identical across keys and totals stay exact.
constexpr int kReferenceKey = 50000;

std::string needle_text(int key) {
  const std::string k = std::to_string(key);
  return "The pass key is " + k + ". Remember it. " + k + " is the pass key.";
}

}  // namespace

int64_t first_integer(std::string_view text) {
  size_t i = 0;
  while (i < text.size() && !(text[i] >= '0' && text[i] <= '9')) ++i;
  if (i == text.size()) return -1;
  int64_t value = 0;
  for (; i < text.size() && text[i] >= '0' && text[i] <= '9'; ++i) {
    if (value > (INT64_MAX - 9) / 10) return -1;  // absurdly long: no key
    value = value * 10 + (text[i] - '0');
  }
  return value;
}

PasskeyPromptBuilder::PasskeyPromptBuilder(const Tokenizer& tokenizer) : tokenizer_(tokenizer) {
  intro_ = tokenizer.encode(kIntro);
  newline_ = tokenizer.encode("\n");
  // SentencePiece prefixes every encoded text with a space; a newline on its
  // own should not carry one.
  if (newline_.size() > 1 && tokenizer.token_bytes(newline_[0], false) == " ") newline_.erase(newline_.begin());
  // Filler = group, then " " + group repeated. The repeating unit is read
  // off the encoding of two groups, so joins tokenize as they do in text.
  filler_first_ = tokenizer.encode(kFillerGroup);
  const std::vector<int32_t> two = tokenizer.encode(std::string(kFillerGroup) + " " + kFillerGroup);
  if (two.size() > filler_first_.size() && std::equal(filler_first_.begin(), filler_first_.end(), two.begin()))
    filler_unit_.assign(two.begin() + static_cast<int64_t>(filler_first_.size()), two.end());
  else
    filler_unit_ = filler_first_;
  question_ = tokenizer.encode(kQuestion);
  // A tokenizer that normalizes newlines away gives no newline tokens; the
  // parts then follow each other with SentencePiece's word-leading spaces.
  if (filler_unit_.empty() || question_.empty())
    throw Error(ErrorKind::InvalidArgument, "the tokenizer produced no tokens for the passkey filler");
}

std::vector<int32_t> PasskeyPromptBuilder::filler(int64_t begin, int64_t end) const {
  std::vector<int32_t> out;
  out.reserve(static_cast<size_t>(std::max<int64_t>(0, end - begin)));
  const int64_t first = static_cast<int64_t>(filler_first_.size());
  const int64_t unit = static_cast<int64_t>(filler_unit_.size());
  for (int64_t i = begin; i < end; ++i)
    out.push_back(i < first ? filler_first_[static_cast<size_t>(i)]
                            : filler_unit_[static_cast<size_t>((i - first) % unit)]);
  return out;
}

std::vector<int32_t> PasskeyPromptBuilder::needle(int key) const {
  std::vector<int32_t> out = newline_;
  const std::vector<int32_t> text = tokenizer_.encode(needle_text(key));
  out.insert(out.end(), text.begin(), text.end());
  out.insert(out.end(), newline_.begin(), newline_.end());
  return out;
}

int64_t PasskeyPromptBuilder::filler_tokens(int64_t total_tokens, int key) const {
  // intro NL filler[0,at) [NL needle NL] filler[at,n) NL question
  const int64_t fixed = static_cast<int64_t>(intro_.size() + 2 * newline_.size() + question_.size() +
                                             needle(key).size());
  const int64_t n = total_tokens - fixed;
  if (n < 1)
    throw Error(ErrorKind::InvalidArgument, "a passkey prompt needs more than " + std::to_string(fixed) +
                                                " tokens; asked for " + std::to_string(total_tokens));
  return n;
}

int64_t PasskeyPromptBuilder::needle_index(int64_t filler_tokens, double depth) {
  if (!(depth >= 0.0 && depth <= 1.0))
    throw Error(ErrorKind::InvalidArgument, "passkey depth must be within 0..1");
  return static_cast<int64_t>(std::llround(depth * static_cast<double>(filler_tokens)));
}

std::vector<int32_t> PasskeyPromptBuilder::build(int64_t total_tokens, double depth, int key,
                                                 int64_t* needle_at) const {
  const int64_t n = filler_tokens(total_tokens, key);
  const int64_t at = std::min(n, needle_index(filler_tokens(total_tokens, kReferenceKey), depth));
  std::vector<int32_t> out = intro_;
  out.insert(out.end(), newline_.begin(), newline_.end());
  const auto before = filler(0, at);
  out.insert(out.end(), before.begin(), before.end());
  if (needle_at) *needle_at = static_cast<int64_t>(out.size());
  const auto pin = needle(key);
  out.insert(out.end(), pin.begin(), pin.end());
  const auto after = filler(0, n - at);
  out.insert(out.end(), after.begin(), after.end());
  out.insert(out.end(), newline_.begin(), newline_.end());
  out.insert(out.end(), question_.begin(), question_.end());
  return out;
}

PasskeySweepResult run_passkey_sweep(Backend& backend, const Tokenizer& tokenizer,
                                     const PasskeySweepSpec& spec,
                                     const std::function<void(const PasskeyProgress&)>& on_progress,
                                     const CancelToken* cancel) {
  if (spec.lengths.empty() || spec.depths.empty() || spec.trials < 1)
    throw Error(ErrorKind::InvalidArgument, "a passkey sweep needs lengths, depths and at least one trial");
  const auto start = std::chrono::steady_clock::now();
  PasskeyPromptBuilder builder(tokenizer);
  PasskeySweepResult result;
  PasskeyProgress progress;
  progress.trials_total = static_cast<int>(spec.lengths.size() * spec.depths.size()) * spec.trials;

  PrefillOptions prefill_options;
  prefill_options.chunk_tokens = spec.chunk_tokens;
  prefill_options.cancel = cancel;
  auto feed = [&](const std::vector<int32_t>& tokens) {
    prefill(backend, tokens, prefill_options);
    result.tokens_read += static_cast<int64_t>(tokens.size());
    progress.tokens_read = result.tokens_read;
  };

  // Depths ascending: each depth's prefix extends the previous one.
  std::vector<size_t> order(spec.depths.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return spec.depths[a] < spec.depths[b]; });

  for (size_t li = 0; li < spec.lengths.size(); ++li) {
    const int64_t length = spec.lengths[li];
    const int64_t reference_filler = builder.filler_tokens(length, kReferenceKey);
    std::vector<PasskeyCell> cells(spec.depths.size());
    backend.reset();
    std::vector<int32_t> head = builder.intro();
    head.insert(head.end(), builder.newline().begin(), builder.newline().end());
    feed(head);
    int64_t filled = 0;  // filler tokens read so far
    for (size_t oi : order) {
      const double depth = spec.depths[oi];
      const int64_t at = PasskeyPromptBuilder::needle_index(reference_filler, depth);
      feed(builder.filler(filled, at));
      filled = at;
      const ModelState shared = backend.save_state();
      PasskeyCell& cell = cells[oi];
      cell.length = length;
      cell.depth = depth;
      for (int trial = 0; trial < spec.trials; ++trial) {
        std::mt19937_64 rng(spec.seed * 1000003ull + static_cast<uint64_t>(length) * 7919ull +
                            static_cast<uint64_t>(oi) * 104729ull + static_cast<uint64_t>(trial));
        const int key = std::uniform_int_distribution<int>(1, 50000)(rng);
        if (trial > 0) backend.load_state(shared);
        const int64_t n = builder.filler_tokens(length, key);
        std::vector<int32_t> rest;
        if (n >= at) {
          // The usual case: continue after the shared prefix.
          rest = builder.needle(key);
          const auto after = builder.filler(0, n - at);
          rest.insert(rest.end(), after.begin(), after.end());
          rest.insert(rest.end(), builder.newline().begin(), builder.newline().end());
          rest.insert(rest.end(), builder.question().begin(), builder.question().end());
        } else {
          // This key's needle takes more tokens than the reference one and
          // the needle sits at the very end: read its prompt whole.
          backend.reset();
          rest = builder.build(length, depth, key);
        }
        GenerateOptions options;
        options.max_new_tokens = spec.answer_tokens;
        options.prefill = prefill_options;
        const GenerateResult r = generate(backend, tokenizer, rest, options);
        if (r.stop_reason == StopReason::Cancelled) throw Error(ErrorKind::Cancelled, "passkey sweep cancelled");
        result.tokens_read += static_cast<int64_t>(rest.size());
        result.tokens_in_prompts += length;
        PasskeyTrial t;
        t.length = length;
        t.depth = depth;
        t.key = key;
        t.answer = r.text;
        t.correct = first_integer(r.text) == key;
        cell.trials += 1;
        cell.correct += t.correct ? 1 : 0;
        result.trials.push_back(std::move(t));
        progress.trials_done += 1;
        progress.tokens_read = result.tokens_read;
        if (on_progress) on_progress(progress);
      }
      backend.load_state(shared);  // the next depth extends this prefix
    }
    result.cells.insert(result.cells.end(), cells.begin(), cells.end());
  }
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return result;
}

}  // namespace samba
