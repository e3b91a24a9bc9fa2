// What the INT8 convolution's op (cuda_conv_int8.cc) and its build-time tuner
// (cuda_conv_int8_tune.cc) share: the node's INT8 spec and the shapes both run.
#pragma once

#include <cstdint>
#include <vector>

#include "backends/cuda/cuda_conv.h"
#include "backends/cuda/cuda_conv_graph.h"
#include "backends/cuda/kernels_int8_conv.h"

namespace inferd::cuda {

// A Conv with INT8 input attributes as CUDA runs it.
struct Int8Spec {
  ConvSpec conv;                          // the node's geometry, padding included; dtype: the output's
  DataType x_dtype = DataType::kFloat32;  // a float dtype (quantized by a pass), or int8 / uint8 levels
  int64_t input_qmin = -128, input_qmax = 127;
  // The output's grid (output_scale > 0: rounded, or stored as levels when conv.dtype is int8
  // or uint8): lo and hi are qmin and qmax less the zero point.
  float output_scale = 0, output_lo = -128, output_hi = 127;
  int output_zero_point = 0;
  // Levels in or out, or a rounded output: only the own implicit GEMM computes it (cuDNN's
  // graph takes float outputs and int8 inputs padded by the quantize kernel).
  bool own_only = false;
};

// Whether levels in or out and rounded outputs (Int8Spec::own_only) are on: with
// INFERD_CUDA_INT8_LEVELS=1 in the environment. Off by default: on ResNet-50 at batch 256
// (H100, 2026-12-06) the own kernel computing them ran 2-3x slower than cuDNN's INT8
// engines with their quantize and FakeQuantize passes (docs/benchmarks.md, "The own INT8
// kernel"), so int8_storage and the rounding fusion stay off the GPU until it is faster.
bool int8_levels_enabled();

// The spec of an INT8 Conv, or why CUDA cannot run it: group 1, channels in multiples of 8
// (16 input channels where only the own kernel runs it), an int8 or uint8 input grid
// without zero point, levels typed like their grid, levels and rounded outputs only where
// int8_levels_enabled().
Result<Int8Spec> int8_spec(const ir::Graph& graph, const ir::Node& node);

// cuDNN's graph spec: the padding written out by the quantize kernel, always a bias (the
// corrected one), and not fp32 for the engine filter, whose fp32 rules (no engine that
// down-converts fp32 inputs, no tensor cores for strict fp32) are about float inputs.
ConvSpec graph_spec(ConvSpec s);

// What the graph reads and writes for a dense NHWC output: int8 X and W, int32 compute,
// fp32 scale and bias, the output's float type for Y and R.
ConvGraphShape direct_shape(const std::vector<int64_t>& padded_x, const std::vector<int64_t>& y_dims,
                            cudnnDataType_t float_type);

// x's dims (NCHW order) with the padding added.
std::vector<int64_t> padded_dims(std::vector<int64_t> x, int pad_h, int pad_w);

// The own kernel's arguments for an input of dims `x_dims` (NCHW order) with `pad_h` /
// `pad_w` of padding not stored (0 where the quantize kernel wrote it out): the geometry,
// the activation and the output's grid; dense NHWC output; the caller sets the pointers.
Int8ConvArgs own_conv_args(const Int8Spec& s, const std::vector<int64_t>& x_dims, int pad_h, int pad_w);

}  // namespace inferd::cuda
