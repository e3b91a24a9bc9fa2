// The epilogue of Conv and Gemm when the library cannot fuse it: one pass that reads the
// library's raw result t (dense), adds the per-channel bias and the residual, applies the
// fused activation and writes the output, which may be strided (a channel slice of a
// concat buffer). One kernel instead of a bias pass, an add pass and an activation pass.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>
#include <limits>

#include "core/status.h"
#include "core/tensor.h"
#include "ir/activation.h"

namespace inferd::cuda {

// y[n,c,h,w] = act(t[n,c,h,w] + bias[c] + r[n,c,h,w]), logical NCHW, all in `dtype`.
// Strides are in elements. t may be y itself (same strides: each element is read, then
// written, by one thread), and so may r.
struct EpilogueArgs {
  DataType dtype = DataType::kFloat32;  // fp32, fp16 or bf16
  int64_t dims[4] = {1, 1, 1, 1};
  const void* t = nullptr;
  int64_t t_strides[4] = {};
  const void* bias = nullptr;      // [C] or null
  const void* residual = nullptr;  // or null
  int64_t r_strides[4] = {};
  void* y = nullptr;
  int64_t y_strides[4] = {};
  ir::Activation act;
  // Iterate with c fastest (NHWC data: coalesced) rather than w fastest (NCHW).
  bool channels_last = true;
};

// Clip(0, inf) is ReLU and Clip(-inf, inf) nothing: the forms cuDNN and cuBLASLt fuse.
inline ir::Activation simplify_activation(ir::Activation act) {
  constexpr float kInf = std::numeric_limits<float>::infinity();
  if (act.kind == ir::Activation::Kind::kClip && act.max == kInf) {
    if (act.min == 0.0f) act.kind = ir::Activation::Kind::kRelu;
    if (act.min == -kInf) act.kind = ir::Activation::Kind::kIdentity;
  }
  return act;
}

// Enqueues the epilogue on `stream`; fails on an unsupported dtype or a launch error.
Status launch_epilogue(const EpilogueArgs& args, cudaStream_t stream);

}  // namespace inferd::cuda
