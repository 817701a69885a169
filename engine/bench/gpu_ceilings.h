// The two rates samba-bench's GPU floors divide by, measured on the card the
// benchmark runs on. The floors are defined on the H200 (4.3 TB/s
// device copy, 790 TFLOP/s bf16 GEMM, ../shared/docs/gpu-machine.md); on any
// other card (the device tool also lends H100s) a percentage of the H200's
// floor would say nothing about how close the engine runs to *that* card's
// limits, so the benchmark measures both rates first and uses them there.
#pragma once

#ifdef SAMBA_HAVE_CUDA
#include <string>

namespace samba_bench {

struct GpuCeilings {
  double copy_bytes_per_second = 0;  // device-to-device copy, bytes read + written per second
  double gemm_flops = 0;             // bf16 x bf16 -> fp32 GEMM (cuBLAS), 8192^3, FLOP/s
  bool reference_card = false;       // an H200: the fixed ceilings apply
  double floor_copy_bytes_per_second = 0;  // what the floors divide by
  double floor_gemm_flops = 0;
  std::string describe() const;      // one sentence for the table's header
};

// Measures both rates (about a second) and picks the floors' denominators:
// the fixed H200 figures on an H200, the measured ones on any other card.
GpuCeilings measure_gpu_ceilings();

}  // namespace samba_bench
#endif
