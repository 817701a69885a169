// samba-bench --gemv-study: how fast the decode GEMV streams weights, alone and
// in a row of launches as a decode step runs them, on the Samba_1.3B shapes.
#pragma once

#ifdef SAMBA_HAVE_CUDA
#include <string>

namespace samba_bench {

std::string run_gemv_study();

}  // namespace samba_bench
#endif
