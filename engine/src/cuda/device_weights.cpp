#include "cuda/device_weights.h"

#include <cmath>
#include <string>
#include <vector>

#include "cuda/cuda_check.h"
#include "cuda/ops.h"
#include "samba/error.h"
#include "samba/safetensors.h"
#include "samba/weights.h"

namespace samba::cuda {

void DeviceWeights::layout(Arena& arena, const ModelConfig& c) {
  const size_t d = c.d_model, di = c.d_inner, n = c.d_state, r = c.dt_rank, I = c.intermediate;
  const size_t qkv_rows = static_cast<size_t>(c.q_dim()) + 2 * c.kv_dim();
  embedding = arena.take<__nv_bfloat16>(static_cast<size_t>(c.vocab_size) * d);
  norm_f = arena.take<float>(d);
  layers.assign(c.n_layer, LayerWeights{});
  for (int i = 0; i < c.n_layer; ++i) {
    LayerWeights& L = layers[i];
    L.norm_1 = arena.take<float>(d);
    L.norm_2 = arena.take<float>(d);
    L.w12 = arena.take<__nv_bfloat16>(2 * I * d);
    L.w3 = arena.take<__nv_bfloat16>(d * I);
    if (c.is_mamba_layer(i)) {
      MambaLayerWeights& m = L.mamba;
      m.in_proj = arena.take<__nv_bfloat16>(2 * di * d);
      m.conv_w = arena.take<float>(di * c.d_conv);
      m.conv_b = arena.take<float>(di);
      m.x_proj = arena.take<__nv_bfloat16>((r + 2 * n) * di);
      m.dt_proj = arena.take<float>(di * r);
      m.dt_bias = arena.take<float>(di);
      m.A = arena.take<float>(di * n);
      m.D = arena.take<float>(di);
      m.out_proj = arena.take<__nv_bfloat16>(d * di);
    } else {
      L.swa.qkv = arena.take<__nv_bfloat16>(qkv_rows * d);
      L.swa.proj = arena.take<__nv_bfloat16>(d * c.q_dim());
    }
  }
}

uint64_t DeviceWeights::device_bytes(const ModelConfig& config) {
  DeviceWeights counting;
  Arena arena;
  counting.layout(arena, config);
  return arena.used();
}

uint64_t DeviceWeights::f32_copy_bytes(const ModelConfig& config) {
  DeviceWeights counting;
  Arena arena;
  counting.layout_f32(arena, config, /*widen=*/false, nullptr);
  return arena.used();
}

void DeviceWeights::layout_f32(Arena& arena, const ModelConfig& c, bool widen, cudaStream_t stream) {
  const size_t d = c.d_model, di = c.d_inner, n = c.d_state, r = c.dt_rank, I = c.intermediate;
  const size_t qkv_rows = static_cast<size_t>(c.q_dim()) + 2 * c.kv_dim();
  if (layers.size() != static_cast<size_t>(c.n_layer)) layers.assign(c.n_layer, LayerWeights{});
  auto copy = [&](const __nv_bfloat16* from, size_t count) {
    float* to = arena.take<float>(count);
    if (widen) widen_bf16(from, count, to, stream);
    return to;
  };
  embedding_f32 = copy(embedding, static_cast<size_t>(c.vocab_size) * d);
  for (int i = 0; i < c.n_layer; ++i) {
    LayerWeights& L = layers[i];
    L.w12_f32 = copy(L.w12, 2 * I * d);
    L.w3_f32 = copy(L.w3, d * I);
    if (c.is_mamba_layer(i)) {
      MambaLayerWeights& m = L.mamba;
      m.in_proj_f32 = copy(m.in_proj, 2 * di * d);
      m.x_proj_f32 = copy(m.x_proj, (r + 2 * n) * di);
      m.out_proj_f32 = copy(m.out_proj, d * di);
    } else {
      L.swa.qkv_f32 = copy(L.swa.qkv, qkv_rows * d);
      L.swa.proj_f32 = copy(L.swa.proj, d * c.q_dim());
    }
  }
}

void DeviceWeights::make_f32_copies(const ModelConfig& c, cudaStream_t stream) {
  memory_f32_ = DeviceBuffer(f32_copy_bytes(c), "the fp32 copy of the weights (exact mode) of " + c.name);
  Arena arena(static_cast<char*>(memory_f32_.get()));
  layout_f32(arena, c, /*widen=*/true, stream);
}

namespace {

// Host -> device copies of one named tensor into its slot.
class Uploader {
 public:
  explicit Uploader(const ModelFiles& files) : files_(files) {}

  void bf16(const std::string& name, __nv_bfloat16* dst) {
    const WeightRef& ref = files_.get(name);
    if (ref.file && ref.info && ref.info->dtype == DType::BF16) {
      const auto bytes = ref.file->bytes(*ref.info);  // already bf16: copy as stored
      SAMBA_CUDA_CHECK(cudaMemcpy(dst, bytes.data(), bytes.size(), cudaMemcpyHostToDevice));
      return;
    }
    const std::vector<float> values = ref.to_f32();
    staging_.resize(values.size());
    for (size_t i = 0; i < values.size(); ++i) staging_[i] = f32_to_bf16(values[i]);
    SAMBA_CUDA_CHECK(cudaMemcpy(dst, staging_.data(), staging_.size() * 2, cudaMemcpyHostToDevice));
  }

  void f32(const std::string& name, float* dst) { copy(ref_f32(name), dst); }

  std::vector<float> ref_f32(const std::string& name) { return files_.get(name).to_f32(); }

  static void copy(const std::vector<float>& values, float* dst) {
    SAMBA_CUDA_CHECK(cudaMemcpy(dst, values.data(), values.size() * sizeof(float), cudaMemcpyHostToDevice));
  }

 private:
  const ModelFiles& files_;
  std::vector<uint16_t> staging_;
};

}  // namespace

DeviceWeights DeviceWeights::upload(const ModelFiles& files) {
  const ModelConfig& c = files.config();
  DeviceWeights w;
  Arena counting;
  w.layout(counting, c);
  w.memory_ = DeviceBuffer(counting.used(), "the weights of " + files.folder());
  Arena arena(static_cast<char*>(w.memory_.get()));
  w.layout(arena, c);

  Uploader up(files);
  const size_t d = c.d_model, I = c.intermediate;
  up.bf16("transformer.wte.weight", w.embedding);
  up.f32("transformer.ln_f.weight", w.norm_f);
  for (int i = 0; i < c.n_layer; ++i) {
    const std::string p = "transformer.h." + std::to_string(i) + ".";
    LayerWeights& L = w.layers[i];
    up.f32(p + "norm_1.weight", L.norm_1);
    up.f32(p + "norm_2.weight", L.norm_2);
    up.bf16(p + "mlp.swiglu.w1.weight", L.w12);
    up.bf16(p + "mlp.swiglu.w2.weight", L.w12 + I * d);
    up.bf16(p + "mlp.swiglu.w3.weight", L.w3);
    if (c.is_mamba_layer(i)) {
      MambaLayerWeights& m = L.mamba;
      up.bf16(p + "attn.in_proj.weight", m.in_proj);
      up.f32(p + "attn.conv1d.weight", m.conv_w);  // [di,1,K] is [di][K] in memory
      up.f32(p + "attn.conv1d.bias", m.conv_b);
      up.bf16(p + "attn.x_proj.weight", m.x_proj);
      up.f32(p + "attn.dt_proj.weight", m.dt_proj);
      up.f32(p + "attn.dt_proj.bias", m.dt_bias);
      std::vector<float> A = up.ref_f32(p + "attn.A_log");
      for (float& v : A) v = -std::exp(v);
      Uploader::copy(A, m.A);
      up.f32(p + "attn.D", m.D);
      up.bf16(p + "attn.out_proj.weight", m.out_proj);
    } else {
      const size_t q_rows = c.q_dim(), kv_rows = c.kv_dim();
      up.bf16(p + "attn.q_proj.weight", L.swa.qkv);
      up.bf16(p + "attn.k_proj.weight", L.swa.qkv + q_rows * d);
      up.bf16(p + "attn.v_proj.weight", L.swa.qkv + (q_rows + kv_rows) * d);
      up.bf16(p + "attn.proj.weight", L.swa.proj);
    }
  }
  return w;
}

DeviceWeights DeviceWeights::random(const ModelConfig& c, uint64_t seed, cudaStream_t stream) {
  DeviceWeights w;
  Arena counting;
  w.layout(counting, c);
  w.memory_ = DeviceBuffer(counting.used(), "random weights of " + c.name);
  Arena arena(static_cast<char*>(w.memory_.get()));
  w.layout(arena, c);

  const size_t d = c.d_model, di = c.d_inner, n = c.d_state, r = c.dt_rank, I = c.intermediate;
  uint64_t stream_id = seed * 1000003ull;
  // Uniform with standard deviation `std`: half-width std * sqrt(3).
  auto mat = [&](__nv_bfloat16* p, size_t count, float std) {
    const float a = std * 1.7320508f;
    fill_uniform_bf16(p, count, ++stream_id, -a, a, stream);
  };
  auto vec = [&](float* p, size_t count, float lo, float hi) { fill_uniform_f32(p, count, ++stream_id, lo, hi, stream); };
  const float s = 0.02f;  // the reference's initialisation scale
  mat(w.embedding, static_cast<size_t>(c.vocab_size) * d, s);
  fill_constant_f32(w.norm_f, d, 1.0f, stream);
  std::vector<float> A(di * n);
  for (size_t ch = 0; ch < di; ++ch)
    for (size_t k = 0; k < n; ++k) A[ch * n + k] = -static_cast<float>(k + 1);  // A_log = log(1..n)
  for (int i = 0; i < c.n_layer; ++i) {
    LayerWeights& L = w.layers[i];
    fill_constant_f32(L.norm_1, d, 1.0f, stream);
    fill_constant_f32(L.norm_2, d, 1.0f, stream);
    mat(L.w12, 2 * I * d, s);
    mat(L.w3, d * I, s);
    if (c.is_mamba_layer(i)) {
      MambaLayerWeights& m = L.mamba;
      mat(m.in_proj, 2 * di * d, s);
      vec(m.conv_w, di * c.d_conv, -0.5f, 0.5f);
      vec(m.conv_b, di, -0.1f, 0.1f);
      mat(m.x_proj, (r + 2 * n) * di, s);
      vec(m.dt_proj, di * r, -1.0f / std::sqrt(static_cast<float>(r)), 1.0f / std::sqrt(static_cast<float>(r)));
      vec(m.dt_bias, di, -6.9f, -2.3f);  // softplus^-1 of dt in [0.001, 0.1]
      SAMBA_CUDA_CHECK(cudaMemcpyAsync(m.A, A.data(), A.size() * sizeof(float), cudaMemcpyHostToDevice, stream));
      fill_constant_f32(m.D, di, 1.0f, stream);
      mat(m.out_proj, d * di, s);
    } else {
      mat(L.swa.qkv, (static_cast<size_t>(c.q_dim()) + 2 * c.kv_dim()) * d, s);
      mat(L.swa.proj, d * c.q_dim(), s);
    }
    // A is a pageable host vector reused for every layer: let each copy finish.
    SAMBA_CUDA_CHECK(cudaStreamSynchronize(stream));
  }
  return w;
}

}  // namespace samba::cuda
