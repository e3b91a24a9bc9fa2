// The reference dispatch table: one row per op kind. The kernels live in
// reference_{conv,pool,elementwise,shape}.cc, grouped by op family.
#include "backends/reference/reference.h"

#include <array>
#include <utility>

#include "backends/reference/reference_kernels.h"

namespace inferd::ref {
namespace {

using ir::OpKind;

// Shape has no row: it is always folded to a constant before any kernel runs.
constexpr std::array<std::pair<OpKind, ReferenceFn>, 33> kReferenceKernels{{
    {OpKind::kConv, ref::conv},
    {OpKind::kConvTranspose, ref::conv_transpose},
    {OpKind::kRelu, ref::relu},
    {OpKind::kClip, ref::clip},
    {OpKind::kLeakyRelu, ref::leaky_relu},
    {OpKind::kSigmoid, ref::sigmoid},
    {OpKind::kTanh, ref::tanh},
    {OpKind::kFakeQuantize, ref::fake_quantize},
    {OpKind::kHardSigmoid, ref::hard_sigmoid},
    {OpKind::kHardSwish, ref::hard_swish},
    {OpKind::kMaxPool, ref::max_pool},
    {OpKind::kAveragePool, ref::average_pool},
    {OpKind::kGlobalAveragePool, ref::global_average_pool},
    {OpKind::kLRN, ref::lrn},
    {OpKind::kBatchNormalization, ref::batch_normalization},
    {OpKind::kConcat, ref::concat},
    {OpKind::kAdd, ref::add},
    {OpKind::kMul, ref::mul},
    {OpKind::kSum, ref::sum},
    {OpKind::kMax, ref::max},
    {OpKind::kGemm, ref::gemm},
    {OpKind::kMatMul, ref::matmul},
    {OpKind::kFlatten, ref::copy_elements},
    {OpKind::kReshape, ref::copy_elements},
    {OpKind::kTranspose, ref::transpose},
    {OpKind::kSqueeze, ref::copy_elements},
    {OpKind::kUnsqueeze, ref::copy_elements},
    {OpKind::kSoftmax, ref::softmax},
    {OpKind::kIdentity, ref::copy_elements},
    {OpKind::kPad, ref::pad},
    {OpKind::kGather, ref::gather},
    {OpKind::kSlice, ref::slice},
    {OpKind::kReorder, ref::copy_elements},
}};

}  // namespace

ReferenceFn reference_kernel(ir::OpKind op) {
  for (const auto& [kind, fn] : kReferenceKernels)
    if (kind == op) return fn;
  return nullptr;
}

float apply_activation(const ir::Attributes& attrs, float x) {
  return ref::fused_act(attrs, /*op_owns_alpha_beta=*/false)(x);
}

}  // namespace inferd::ref
