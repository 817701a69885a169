// Moves key/value rows between the per-layer ring of W slots (slot = absolute
// position % W, the decode state) and the contiguous buffer a prefill chunk
// attends over: the W-1 keys before the chunk, then the chunk's own.
#include <string>

#include "cuda/cuda_check.h"
#include "cuda/ops.h"
#include "samba/error.h"

namespace samba::cuda {

namespace {
// One block per row; 16-byte copies (rows are whole heads of bf16 or fp32
// values, head sizes multiples of 16, so row_bytes is a multiple of 32).
// `row_vecs` = row_bytes / 16.
__global__ void gather_kernel(const uint4* __restrict__ ring, int window, int64_t first_pos, int row_vecs,
                              uint4* __restrict__ dst) {
  const int i = blockIdx.x;
  const int64_t slot = (first_pos + i) % window;
  const uint4* from = ring + slot * row_vecs;
  uint4* to = dst + static_cast<size_t>(i) * row_vecs;
  for (int e = threadIdx.x; e < row_vecs; e += blockDim.x) to[e] = from[e];
}

__global__ void store_kernel(const uint4* __restrict__ src, int64_t first_pos, int window, int row_vecs,
                             uint4* __restrict__ ring) {
  const int i = blockIdx.x;
  const int64_t slot = (first_pos + i) % window;
  const uint4* from = src + static_cast<size_t>(i) * row_vecs;
  uint4* to = ring + slot * row_vecs;
  for (int e = threadIdx.x; e < row_vecs; e += blockDim.x) to[e] = from[e];
}

int row_vecs_of(size_t row_bytes) {
  if (row_bytes % 16 != 0)
    throw Error(ErrorKind::InvalidArgument, "CUDA key window: rows of " + std::to_string(row_bytes) +
                                                " bytes are not a multiple of 16");
  return static_cast<int>(row_bytes / 16);
}
}  // namespace

void gather_window(const void* ring, int window, int64_t first_pos, int count, size_t row_bytes, void* dst,
                   cudaStream_t stream) {
  if (count <= 0) return;
  gather_kernel<<<count, 128, 0, stream>>>(static_cast<const uint4*>(ring), window, first_pos,
                                           row_vecs_of(row_bytes), static_cast<uint4*>(dst));
  SAMBA_CUDA_CHECK_LAUNCH();
}

void store_window(const void* src, int64_t first_pos, int count, int window, size_t row_bytes, void* ring,
                  cudaStream_t stream) {
  if (count <= 0) return;
  store_kernel<<<count, 128, 0, stream>>>(static_cast<const uint4*>(src), first_pos, window, row_vecs_of(row_bytes),
                                          static_cast<uint4*>(ring));
  SAMBA_CUDA_CHECK_LAUNCH();
}

}  // namespace samba::cuda
