#include "samba/generate.h"

#include <algorithm>
#include <chrono>

#include "samba/backend.h"
#include "samba/error.h"
#include "samba/tokenizer.h"

namespace samba {

namespace {
using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// Length of the longest suffix of `text` that is a proper prefix of one of
// the stop strings: those bytes may still become a stop string, so they are
// held back from the caller.
size_t held_back(const std::string& text, const std::vector<std::string>& stops) {
  size_t hold = 0;
  for (const std::string& stop : stops)
    for (size_t len = std::min(stop.size() - 1, text.size()); len > hold; --len)
      if (text.compare(text.size() - len, len, stop, 0, len) == 0) {
        hold = len;
        break;
      }
  return hold;
}
}  // namespace

const char* stop_reason_name(StopReason reason) {
  switch (reason) {
    case StopReason::MaxTokens: return "max_tokens";
    case StopReason::EndOfText: return "end_of_text";
    case StopReason::StopString: return "stop_string";
    case StopReason::Cancelled: return "cancelled";
    case StopReason::Callback: return "callback";
  }
  return "unknown";
}

std::vector<float> prefill(Backend& backend, std::span<const int32_t> tokens,
                           const PrefillOptions& options) {
  if (options.chunk_tokens < 1) throw Error(ErrorKind::InvalidArgument, "prefill chunk must be at least 1 token");
  std::vector<float> logits;
  const int64_t total = static_cast<int64_t>(tokens.size());
  int64_t done = 0;
  while (done < total) {
    if (options.cancel && options.cancel->cancelled())
      throw Error(ErrorKind::Cancelled, "cancelled after reading " + std::to_string(done) + " of " +
                                            std::to_string(total) + " tokens");
    const int64_t n = std::min<int64_t>(options.chunk_tokens, total - done);
    const bool last = done + n == total;
    backend.forward(tokens.subspan(done, n), last ? &logits : nullptr);
    done += n;
    if (options.on_progress) options.on_progress(done, total);
  }
  return logits;
}

GenerateResult generate(Backend& backend, const Tokenizer& tokenizer,
                        std::span<const int32_t> prompt, const GenerateOptions& options,
                        std::vector<float> last_logits) {
  for (const std::string& stop : options.stop_strings)
    if (stop.empty()) throw Error(ErrorKind::InvalidArgument, "stop strings must not be empty");
  GenerateResult result;
  result.prompt_tokens = static_cast<int64_t>(prompt.size());
  const Clock::time_point start = Clock::now();
  std::vector<float> logits = std::move(last_logits);
  if (!prompt.empty()) {
    try {
      logits = prefill(backend, prompt, options.prefill);
    } catch (const Error& e) {
      if (e.kind() != ErrorKind::Cancelled) throw;
      result.stop_reason = StopReason::Cancelled;
      result.prefill_seconds = seconds_since(start);
      return result;
    }
  }
  result.prefill_seconds = seconds_since(start);
  if (logits.size() != static_cast<size_t>(backend.config().vocab_size))
    throw Error(ErrorKind::InvalidArgument, "generate needs a prompt or the logits of the context already read");

  Sampler sampler(options.sampling);
  StreamingDetokenizer detokenizer(tokenizer);
  std::vector<int32_t> history(prompt.begin(), prompt.end());
  std::string text;      // everything decoded so far
  size_t emitted = 0;    // bytes of `text` given to the caller
  const Clock::time_point decode_start = Clock::now();
  const CancelToken* cancel = options.prefill.cancel;
  auto emit = [&](size_t upto, int32_t token) {
    const std::string_view delta(text.data() + emitted, upto - emitted);
    emitted = upto;
    return options.on_token ? options.on_token(delta, token) : true;
  };

  bool stopped = false;
  for (int i = 0; i < options.max_new_tokens && !stopped; ++i) {
    if (cancel && cancel->cancelled()) {
      result.stop_reason = StopReason::Cancelled;
      stopped = true;
      break;
    }
    const int32_t token = sampler.sample(logits, history);
    if (i == 0) result.first_token_seconds = seconds_since(start);
    if (options.stop_at_eos && token == tokenizer.eos_id()) {
      result.stop_reason = StopReason::EndOfText;
      stopped = true;
      break;
    }
    result.tokens.push_back(token);
    history.push_back(token);
    text += detokenizer.push(token);
    // Read the token at once, so that on return the state holds the prompt
    // and every token in result.tokens (a follow-up can continue from it).
    backend.forward(std::span<const int32_t>(&token, 1), &logits);

    size_t match = std::string::npos;
    for (const std::string& stop : options.stop_strings) {
      // Only a match that ends in the new bytes can be new.
      const size_t from = emitted > stop.size() ? emitted - stop.size() : 0;
      const size_t at = text.find(stop, from);
      if (at != std::string::npos) match = std::min(match, at);
    }
    if (match != std::string::npos) {
      text.resize(match);
      emit(std::max(match, emitted), token);
      result.stop_reason = StopReason::StopString;
      stopped = true;
      break;
    }
    if (!emit(text.size() - held_back(text, options.stop_strings), token)) {
      result.stop_reason = StopReason::Callback;
      stopped = true;
      break;
    }
  }
  if (result.stop_reason != StopReason::StopString) {
    text += detokenizer.flush();
    if (text.size() > emitted && options.on_token) options.on_token(std::string_view(text).substr(emitted), -1);
  }
  result.text = text;
  result.final_logits = std::move(logits);
  result.decode_seconds = seconds_since(decode_start);
  return result;
}

}  // namespace samba
