// The head sizes the attention kernels are compiled for, in one place: the
// prefill (bf16 and fp32) and decode attention launchers turn the run-time
// head size into a template argument through with_head_size().
#pragma once

#include <type_traits>

#include "samba/error.h"

namespace samba::cuda {

inline bool attention_head_size_supported(int head_size) {
  return head_size == 16 || head_size == 32 || head_size == 64 || head_size == 128;
}

// Calls launch(std::integral_constant<int, HS>{}) for the model's head size.
template <class Launch>
void with_head_size(int head_size, Launch&& launch) {
  switch (head_size) {
    case 16: launch(std::integral_constant<int, 16>{}); break;
    case 32: launch(std::integral_constant<int, 32>{}); break;
    case 64: launch(std::integral_constant<int, 64>{}); break;
    case 128: launch(std::integral_constant<int, 128>{}); break;
    default:
      throw Error(ErrorKind::InvalidModel, "CUDA backend: head_size must be 16, 32, 64 or 128");
  }
}

}  // namespace samba::cuda
