// Shared between the two decode GEMV kernels (gemv.cu, gemv_streaming.cu);
// the backend sees only gemv() and gemv_tune() of ops.h.
#pragma once

#include <cstddef>

#include "cuda/ops.h"

namespace samba::cuda {

// The streaming kernel (TMA bulk copies, sm_90+; args.ksplit is not used).
void gemv_streaming(const GemvArgs& args, cudaStream_t stream);
bool gemv_streaming_available();
// Its shared memory per block: x staged as fp32 plus the tiles in flight.
size_t gemv_streaming_smem_bytes(int K, bool swiglu);

}  // namespace samba::cuda
