// The own INT8 convolution of the GPU (kernels_int8_conv.cu): an implicit GEMM on the int8
// tensor cores (mma.sync m16n8k32, int32 sums) over the padded int8 levels that the quantize
// kernel writes (kernels_quantize.h), the same inputs and epilogue as cuDNN's INT8 graph in
// cuda_conv_int8.cc, which times both and keeps the faster per batch.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

#include "core/tensor.h"
#include "ir/activation.h"

namespace inferd::cuda {

struct Int8ConvArgs {
  // x: [n][in_h][in_w][channels] levels, int8 or (x_unsigned) uint8, with pad_h / pad_w rows
  // and columns of zeros (the level of 0) around it that are not stored (none where the
  // quantize kernel wrote the padding out); w: [out_channels][kernel_h][kernel_w][channels]
  // int8.
  const void* x = nullptr;
  const int8_t* w = nullptr;
  bool x_unsigned = false;
  int n = 0, in_h = 0, in_w = 0, channels = 0;
  int out_h = 0, out_w = 0, out_channels = 0;
  int kernel_h = 1, kernel_w = 1, stride_h = 1, stride_w = 1, dilation_h = 1, dilation_w = 1;
  int pad_h = 0, pad_w = 0;
  // v[m][k] = act(sum[m][k] x scale[k] + bias[k] + residual[m][k]), m = (n, oh, ow); scale and
  // bias fp32. y and the residual (or null) in `dtype`, through their strides in elements in
  // NCHW order (any layout; channels-last views whose pixels are 8-element aligned are
  // written 8 channels at a time).
  const float* scale = nullptr;
  const float* bias = nullptr;
  const void* residual = nullptr;
  void* y = nullptr;
  int64_t y_strides[4] = {}, residual_strides[4] = {};
  DataType dtype = DataType::kFloat16;
  ir::Activation act;
  // The output's grid where output_scale > 0: the level q = round_half_even(clamp(v /
  // output_scale, output_lo, output_hi)) (lo and hi: qmin and qmax less the zero point); y
  // = q x output_scale for a float dtype, or q + output_zero_point stored for int8 and uint8
  // (which need the grid, and no residual).
  float output_scale = 0;
  float output_lo = -128, output_hi = 127;
  int output_zero_point = 0;
};

// Tile shapes (Int8ConvArgs' output pixels x output channels per block): 0 is 128 x 64, 1 is
// 128 x 128.
constexpr uint8_t kInt8ConvVariants = 2;

// Whether the kernel runs a convolution of these channel counts (16-byte loads of input
// channels, 8-channel stores of outputs).
inline bool int8_conv_kernel_applies(int64_t channels, int64_t out_channels) {
  return channels % 16 == 0 && out_channels % 8 == 0;
}

// cudaErrorInvalidValue for what int8_conv_kernel_applies refuses, an unknown variant or
// dtype, x or w not 16-byte aligned, sizes past 2^31 elements, non-positive dimensions or a
// window that leaves the padded input.
cudaError_t launch_int8_conv(const Int8ConvArgs& a, uint8_t variant, cudaStream_t stream);

}  // namespace inferd::cuda
