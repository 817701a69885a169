// The Mamba state sizes the scan kernels are compiled for, in one place: the
// scan launchers (selective_scan.cu, selective_scan_segmented.cu) turn the
// run-time d_state into a template argument through with_d_state().
#pragma once

#include <type_traits>

#include "samba/error.h"

namespace samba::cuda {

// Calls launch(std::integral_constant<int, N>{}) for the model's d_state.
template <class Launch>
void with_d_state(int d_state, Launch&& launch) {
  switch (d_state) {
    case 8: launch(std::integral_constant<int, 8>{}); break;
    case 16: launch(std::integral_constant<int, 16>{}); break;
    case 32: launch(std::integral_constant<int, 32>{}); break;
    default:
      throw Error(ErrorKind::InvalidModel, "CUDA backend: mamba_d_state must be 8, 16 or 32");
  }
}

}  // namespace samba::cuda
