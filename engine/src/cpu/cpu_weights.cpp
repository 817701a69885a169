#include "cpu/cpu_weights.h"

#include <cmath>
#include <string>

#include "samba/weights.h"

namespace samba::cpu {

namespace {
size_t vec_bytes(const std::vector<float>& v) { return v.size() * sizeof(float); }
}  // namespace

Weights Weights::load(const ModelFiles& files) {
  const ModelConfig& c = files.config();
  auto get = [&](const std::string& name) { return files.get(name).to_f32(); };
  Weights w;
  w.embedding = get("transformer.wte.weight");
  w.norm_f = get("transformer.ln_f.weight");
  w.layers.resize(c.n_layer);
  for (int i = 0; i < c.n_layer; ++i) {
    const std::string p = "transformer.h." + std::to_string(i) + ".";
    LayerWeights& l = w.layers[i];
    l.norm_1 = get(p + "norm_1.weight");
    l.norm_2 = get(p + "norm_2.weight");
    l.w1 = get(p + "mlp.swiglu.w1.weight");
    l.w2 = get(p + "mlp.swiglu.w2.weight");
    l.w3 = get(p + "mlp.swiglu.w3.weight");
    if (c.is_mamba_layer(i)) {
      MambaWeights& m = l.mamba;
      m.in_proj = get(p + "attn.in_proj.weight");
      m.conv_w = get(p + "attn.conv1d.weight");  // [di,1,k] is [di,k] in memory
      m.conv_b = get(p + "attn.conv1d.bias");
      m.x_proj = get(p + "attn.x_proj.weight");
      m.dt_proj_w = get(p + "attn.dt_proj.weight");
      m.dt_proj_b = get(p + "attn.dt_proj.bias");
      m.A = get(p + "attn.A_log");
      for (float& a : m.A) a = -std::exp(a);
      m.D = get(p + "attn.D");
      m.out_proj = get(p + "attn.out_proj.weight");
    } else {
      AttentionWeights& a = l.attn;
      a.q = get(p + "attn.q_proj.weight");
      a.k = get(p + "attn.k_proj.weight");
      a.v = get(p + "attn.v_proj.weight");
      a.proj = get(p + "attn.proj.weight");
    }
  }
  return w;
}

size_t Weights::bytes() const {
  size_t total = vec_bytes(embedding) + vec_bytes(norm_f);
  for (const LayerWeights& l : layers) {
    total += vec_bytes(l.norm_1) + vec_bytes(l.norm_2) + vec_bytes(l.w1) + vec_bytes(l.w2) +
             vec_bytes(l.w3);
    const MambaWeights& m = l.mamba;
    total += vec_bytes(m.in_proj) + vec_bytes(m.conv_w) + vec_bytes(m.conv_b) +
             vec_bytes(m.x_proj) + vec_bytes(m.dt_proj_w) + vec_bytes(m.dt_proj_b) +
             vec_bytes(m.A) + vec_bytes(m.D) + vec_bytes(m.out_proj);
    const AttentionWeights& a = l.attn;
    total += vec_bytes(a.q) + vec_bytes(a.k) + vec_bytes(a.v) + vec_bytes(a.proj);
  }
  return total;
}

}  // namespace samba::cpu
