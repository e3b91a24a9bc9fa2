#include "backends/cpu/dnnl_gemv.h"

#include <algorithm>

#include "core/target_clones.h"

namespace inferd::cpu {
namespace {

// The kernels are compiled for AVX-512, AVX2 and baseline x86-64 (the project builds
// for generic x86-64); the loader picks the best clone for the CPU at start.

// Four rows at once: x is loaded once for four rows, and four independent sums keep
// the FMA units busy where a single sum would wait on its own latency.
INFERD_TARGET_CLONES("avx512f", "avx2", "default")
void rows4_dot(const float* w, const float* x, int64_t k, float* out) {
  const float *w0 = w, *w1 = w + k, *w2 = w + 2 * k, *w3 = w + 3 * k;
  float a0 = 0.0f, a1 = 0.0f, a2 = 0.0f, a3 = 0.0f;
#pragma omp simd reduction(+ : a0, a1, a2, a3)
  for (int64_t i = 0; i < k; ++i) {
    const float xi = x[i];
    a0 += w0[i] * xi;
    a1 += w1[i] * xi;
    a2 += w2[i] * xi;
    a3 += w3[i] * xi;
  }
  out[0] = a0;
  out[1] = a1;
  out[2] = a2;
  out[3] = a3;
}

INFERD_TARGET_CLONES("avx512f", "avx2", "default")
float row_dot(const float* w, const float* x, int64_t k) {
  float acc = 0.0f;
#pragma omp simd reduction(+ : acc)
  for (int64_t i = 0; i < k; ++i) acc += w[i] * x[i];
  return acc;
}

// One panel of a blocked W: out[j] = sum_k W[j][k] x[k] for the panel's NB outputs.
// NB is a compile-time constant so the NB sums stay in vector registers.
template <int64_t NB>
[[gnu::always_inline]] inline void panel_dot(const float* panel, const GemvLayout& l, const float* x, float* out) {
  float acc[NB] = {};
  for (int64_t k0 = 0, block = 0; k0 < l.k; k0 += l.k_block, ++block) {
    const float* w = panel + block * l.k_block_stride;
    const int64_t count = std::min(l.k_block, l.k - k0);  // the padding beyond K is never read
    for (int64_t i = 0; i < count; ++i, w += NB) {
      const float xi = x[k0 + i];
#pragma omp simd
      for (int64_t j = 0; j < NB; ++j) acc[j] += w[j] * xi;
    }
  }
  std::copy(acc, acc + NB, out);
}

INFERD_TARGET_CLONES("avx512f", "avx2", "default")
void panel_dot16(const float* panel, const GemvLayout& l, const float* x, float* out) {
  panel_dot<16>(panel, l, x, out);
}
INFERD_TARGET_CLONES("avx512f", "avx2", "default")
void panel_dot32(const float* panel, const GemvLayout& l, const float* x, float* out) {
  panel_dot<32>(panel, l, x, out);
}
INFERD_TARGET_CLONES("avx512f", "avx2", "default")
void panel_dot64(const float* panel, const GemvLayout& l, const float* x, float* out) {
  panel_dot<64>(panel, l, x, out);
}

using PanelFn = void (*)(const float*, const GemvLayout&, const float*, float*);

PanelFn panel_fn(int64_t n_block) {
  switch (n_block) {
    case 16: return panel_dot16;
    case 32: return panel_dot32;
    case 64: return panel_dot64;
    default: return nullptr;
  }
}

// Output rows [first, first + count) from their sums.
void store(const float* sums, int64_t first, int64_t count, const float* bias, const Activation& act, float* y,
           int64_t y_stride) {
  for (int64_t r = 0; r < count; ++r)
    y[(first + r) * y_stride] = apply(act, sums[r] + (bias ? bias[first + r] : 0.0f));
}

}  // namespace

std::optional<GemvLayout> gemv_layout_of(const dnnl::memory::desc& d) {
  const dnnl_memory_desc_t& md = d.data;
  if (md.ndims != 2 || md.format_kind != dnnl_blocked || md.offset0 != 0) return std::nullopt;
  const auto& b = md.format_desc.blocking;
  GemvLayout l;
  l.n = md.dims[0];
  l.k = md.dims[1];
  if (b.inner_nblks == 0 && b.strides[1] == 1 && b.strides[0] == l.k) return l;
  // BA<kb>b<nb>a: the K block (dim 1) outside, the N block (dim 0) innermost.
  if (b.inner_nblks != 2 || b.inner_idxs[0] != 1 || b.inner_idxs[1] != 0 || !panel_fn(b.inner_blks[1]))
    return std::nullopt;
  l.kind = GemvLayout::Kind::kBlocked;
  l.k_block = b.inner_blks[0];
  l.n_block = b.inner_blks[1];
  l.n_block_stride = b.strides[0];
  l.k_block_stride = b.strides[1];
  return l;
}

void gemv(const GemvLayout& l, const float* w, const float* x, const float* bias, const Activation& act, float* y,
          int64_t y_stride) {
  if (l.kind == GemvLayout::Kind::kBlocked) {
    const PanelFn dot = panel_fn(l.n_block);
    const int64_t panels = (l.n + l.n_block - 1) / l.n_block;
#pragma omp parallel for schedule(static)
    for (int64_t p = 0; p < panels; ++p) {
      float sums[64];
      dot(w + p * l.n_block_stride, l, x, sums);
      store(sums, p * l.n_block, std::min(l.n_block, l.n - p * l.n_block), bias, act, y, y_stride);
    }
    return;
  }
  const int64_t groups = (l.n + 3) / 4;  // rows in fours; the last group may be short
#pragma omp parallel for schedule(static)
  for (int64_t g = 0; g < groups; ++g) {
    float sums[4];
    const int64_t first = g * 4, count = std::min<int64_t>(4, l.n - first);
    if (count == 4) rows4_dot(w + first * l.k, x, l.k, sums);
    else
      for (int64_t r = 0; r < count; ++r) sums[r] = row_dot(w + (first + r) * l.k, x, l.k);
    store(sums, first, count, bias, act, y, y_stride);
  }
}

}  // namespace inferd::cpu
