// What the channels-last windowed kernels share (kernels_nhwc.cu: pooling and depthwise
// convolution; kernels_direct_conv.cu): the walk over a window's taps that fall inside the
// input, and the start and end of a convolution output pack (bias in, residual + fused
// activation out).
#pragma once

#include "backends/cuda/device_math.cuh"
#include "ir/activation.h"

namespace inferd::cuda {

// Calls tap(kh, kw, ih, iw) for every tap of a kernel[0] x kernel[1] window (dilated)
// whose input row ih and column iw lie inside in_h x in_w; padding taps are skipped. The
// window's top-left tap sits at input (h0, w0), which may be negative.
template <typename Tap>
__device__ __forceinline__ void for_each_tap(const int (&kernel)[2], const int (&dilations)[2], int h0, int w0,
                                             int in_h, int in_w, Tap&& tap) {
  for (int kh = 0; kh < kernel[0]; ++kh) {
    const int ih = h0 + kh * dilations[0];
    if (ih < 0 || ih >= in_h) continue;
    for (int kw = 0; kw < kernel[1]; ++kw) {
      const int iw = w0 + kw * dilations[1];
      if (iw < 0 || iw >= in_w) continue;
      tap(kh, kw, ih, iw);
    }
  }
}

// acc = the bias pack at `bias` (null: zeros).
template <typename T, int V>
__device__ __forceinline__ void load_bias(const T* bias, float (&acc)[V]) {
  if (bias) {
    load_floats<T, V>(bias, acc);
    return;
  }
#pragma unroll
  for (int k = 0; k < V; ++k) acc[k] = 0.0f;
}

// Adds the residual pack at `r` (null: none), applies `act` and stores the pack at `y`.
// r may alias y: each thread reads its own elements before writing them.
template <typename T, int V>
__device__ __forceinline__ void finish_conv_pack(float (&acc)[V], const T* r, const ir::Activation& act, T* y) {
  if (r) {
    float res[V];
    load_floats<T, V>(r, res);
#pragma unroll
    for (int k = 0; k < V; ++k) acc[k] += res[k];
  }
#pragma unroll
  for (int k = 0; k < V; ++k) acc[k] = ir::apply_activation(act, acc[k]);
  store_floats<T, V>(y, acc);
}

}  // namespace inferd::cuda
