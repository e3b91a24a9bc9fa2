// Naive reference kernels: the test oracle for every op, and the CPU backend's
// fallback. Written for clarity, not speed: plain loops that index through
// TensorView strides, so any layout (NCHW, NHWC, channel slices) is handled.
#pragma once

#include <span>

#include "backends/api/tensor_view.h"
#include "ir/graph.h"

namespace inferd::ref {

// Computes `node`'s outputs from its inputs with the semantics documented in
// ir/op.cc (fused activation / residual included). Inputs follow node.inputs
// (constants included; data == nullptr for absent optionals).
// int64 constant inputs arrive as views whose dtype is kInt64. Views are host memory;
// float views are fp32 (the oracle computes in fp32 whatever a backend stores).
using ReferenceFn = void (*)(const ir::Attributes& attrs, std::span<const ConstTensorView> inputs,
                             std::span<const TensorView> outputs);

// nullptr when the op has no reference kernel (only Shape, which is always folded).
ReferenceFn reference_kernel(ir::OpKind op);

// The fused activations of Conv/Gemm (attr "activation"), applied to one value.
float apply_activation(const ir::Attributes& attrs, float x);

}  // namespace inferd::ref
