// Moves key/value rows between the per-layer ring of W slots (slot = absolute
// position % W, the decode state) and the contiguous buffer a prefill chunk
// attends over: the W-1 keys before the chunk, then the chunk's own.
#include "cuda/cuda_check.h"
#include "cuda/ops.h"

namespace samba::cuda {

namespace {
// One block per row; 16-byte copies (row_elems is a multiple of 8: head
// sizes are multiples of 16).
__global__ void gather_kernel(const bf16* __restrict__ ring, int window, int64_t first_pos, int row_elems,
                              bf16* __restrict__ dst) {
  const int i = blockIdx.x;
  const int64_t slot = (first_pos + i) % window;
  const uint4* from = reinterpret_cast<const uint4*>(ring + slot * row_elems);
  uint4* to = reinterpret_cast<uint4*>(dst + static_cast<size_t>(i) * row_elems);
  for (int e = threadIdx.x; e < row_elems / 8; e += blockDim.x) to[e] = from[e];
}

__global__ void store_kernel(const bf16* __restrict__ src, int64_t first_pos, int window, int row_elems,
                             bf16* __restrict__ ring) {
  const int i = blockIdx.x;
  const int64_t slot = (first_pos + i) % window;
  const uint4* from = reinterpret_cast<const uint4*>(src + static_cast<size_t>(i) * row_elems);
  uint4* to = reinterpret_cast<uint4*>(ring + slot * row_elems);
  for (int e = threadIdx.x; e < row_elems / 8; e += blockDim.x) to[e] = from[e];
}
}  // namespace

void gather_window(const bf16* ring, int window, int64_t first_pos, int count, int row_elems, bf16* dst,
                   cudaStream_t stream) {
  if (count <= 0) return;
  gather_kernel<<<count, 128, 0, stream>>>(ring, window, first_pos, row_elems, dst);
  SAMBA_CUDA_CHECK_LAUNCH();
}

void store_window(const bf16* src, int64_t first_pos, int count, int window, int row_elems, bf16* ring,
                  cudaStream_t stream) {
  if (count <= 0) return;
  store_kernel<<<count, 128, 0, stream>>>(src, first_pos, window, row_elems, ring);
  SAMBA_CUDA_CHECK_LAUNCH();
}

}  // namespace samba::cuda
