// Every op case of the op-test harness (support/op_cases.h) on the CUDA backend, in fp32
// (tolerance 1e-3 relative) and fp16 (1e-2), against the reference kernels: the same cases,
// layouts (NCHW, NHWC, channel slices) and batch sequence the CPU backend passes. Cases
// the CUDA backend does not support are skipped by name, so the gap is visible.
#include <gtest/gtest.h>

#include <algorithm>
#include <optional>

#include "backends/api/registry.h"
#include "backends/cuda/cuda_conv.h"
#include "support/op_cases.h"
#include "support/scoped_env.h"

namespace inferd::test {
namespace {

struct GpuCase {
  OpCase op;
  std::string precision;  // "fp32" | "fp16"
};

// gtest prints a failing parameter: the case name and precision, not its bytes.
void PrintTo(const GpuCase& c, std::ostream* os) {
  *os << c.op.name << " " << c.precision;
}

std::vector<GpuCase> all_cases() {
  const std::pair<const char*, std::vector<OpCase>> lists[] = {
      {"pool", pool_cases()},           {"norm", normalization_cases()},
      {"eltwise", elementwise_cases()}, {"other", reference_only_cases()},
      {"conv", conv_cases()},           {"gemm", gemm_cases()},
      {"deconv", deconv_cases()},       {"int8conv", int8_conv_cases()},
      {"rounded", rounded_conv_cases()}};
  std::vector<GpuCase> out;
  for (const auto& [family, list] : lists)
    for (OpCase c : list) {
      c.name = std::string(family) + "_" + c.name;  // unique across the lists
      for (const char* precision : {"fp32", "fp16"}) out.push_back({c, precision});
    }
  return out;
}

// The CUDA backend on GPU 0 in `precision`; nullopt when this machine has no GPU.
std::optional<BackendUnderTest> cuda_under_test(const std::string& precision) {
  if (backend_devices("cuda").empty()) return std::nullopt;
  static const std::shared_ptr<const Backend> backend = create_backend("cuda", {}).value();
  BackendUnderTest b;
  b.name = "cuda_" + precision;
  b.backend = backend;
  b.precision = precision;
  b.dtype = precision == "fp16" ? DataType::kFloat16 : DataType::kFloat32;
  b.tolerance = precision == "fp16" ? 1e-2f : 1e-3f;
  return b;
}

// Whether the backend runs the case's node (dtype included) as the harness will build it.
bool supported(const BackendUnderTest& b, const OpCase& c) {
  ir::Graph g;
  ir::Node node;
  node.op = c.op;
  node.attrs = c.attrs;
  for (size_t i = 0; i < c.inputs.size(); ++i) {
    const CaseInput& in = c.inputs[i];
    if (in.absent) {
      node.inputs.push_back(ir::kNoValue);
      continue;
    }
    ir::Value v;
    v.name = "in" + std::to_string(i);
    v.shape = in.shape;
    if (in.constant)
      v.constant = in.ints.empty() ? Tensor(DataType::kFloat32, in.shape) : Tensor::from_int64s(in.shape, in.ints);
    else
      v.dtype = b.dtype, v.shape[0] = kDynamicDim;
    if (v.constant) v.dtype = v.constant->dtype();
    node.inputs.push_back(g.add_value(std::move(v)));
  }
  for (size_t i = 0; i < c.outputs.size(); ++i) {
    ir::Value v;
    v.name = "out" + std::to_string(i);
    v.shape = c.outputs[i];
    v.shape[0] = kDynamicDim;
    v.dtype = b.dtype;
    node.outputs.push_back(g.add_value(std::move(v)));
  }
  return b.backend->supports(g, node);
}

class CudaOps : public ::testing::TestWithParam<GpuCase> {};

TEST_P(CudaOps, MatchesReference) {
  const GpuCase& c = GetParam();
  // Rounded outputs and levels run with the switch on (off by default: cuda_conv_int8.h).
  const ScopedEnv levels("INFERD_CUDA_INT8_LEVELS", "1");
  const auto b = cuda_under_test(c.precision);
  if (!b) GTEST_SKIP() << "no CUDA GPU on this machine";
  if (!supported(*b, c.op)) GTEST_SKIP() << c.op.name << ": not supported by the cuda backend";
  run_case(c.op, *b);
}

INSTANTIATE_TEST_SUITE_P(Cases, CudaOps, ::testing::ValuesIn(all_cases()),
                         [](const auto& info) { return info.param.op.name + "_" + info.param.precision; });

// The own convolution kernels, forced through a tuning blob that names them for every
// batch: the cases they cannot run (group, channels, layout) must fall back to cuDNN and
// still match.
struct OwnKernelCase {
  OpCase op;
  std::string precision;
  cuda::ConvChoiceKind kind;
  uint8_t variant = 0;  // ConvChoice::variant
};
void PrintTo(const OwnKernelCase& c, std::ostream* os) {
  *os << c.op.name << " " << c.precision;
}

std::vector<OwnKernelCase> own_kernel_cases() {
  std::vector<OwnKernelCase> out;
  for (const OpCase& c : conv_cases())
    for (const char* precision : {"fp32", "fp16"})
      for (auto kind : {cuda::ConvChoiceKind::kDepthwise, cuda::ConvChoiceKind::kDirect})
        for (uint8_t variant = 0; variant <= cuda::max_own_variant(kind); ++variant)
          out.push_back({c, precision, kind, variant});
  // The INT8 implicit GEMM's tiles on the INT8 cases (those of channels not in multiples of
  // 16 fall back to cuDNN's INT8 graph).
  for (OpCase c : int8_conv_cases()) {
    c.name = "int8conv_" + c.name;
    for (const char* precision : {"fp32", "fp16"})
      for (uint8_t variant = 0; variant <= cuda::max_own_variant(cuda::ConvChoiceKind::kInt8Gemm); ++variant)
        out.push_back({c, precision, cuda::ConvChoiceKind::kInt8Gemm, variant});
  }
  return out;
}

class CudaOwnConvKernels : public ::testing::TestWithParam<OwnKernelCase> {};

TEST_P(CudaOwnConvKernels, MatchReference) {
  const OwnKernelCase& c = GetParam();
  const ScopedEnv levels("INFERD_CUDA_INT8_LEVELS", "1");
  auto b = cuda_under_test(c.precision);
  if (!b) GTEST_SKIP() << "no CUDA GPU on this machine";
  if (!supported(*b, c.op)) GTEST_SKIP() << c.op.name << ": not supported by the cuda backend";
  cuda::ConvChoice forced;
  forced.batch = 1 << 20;  // covers every batch the harness runs
  forced.kind = c.kind;
  forced.variant = c.variant;
  b->choices = cuda::encode_conv_choices(std::span<const cuda::ConvChoice>(&forced, 1));
  run_case(c.op, *b);
}

INSTANTIATE_TEST_SUITE_P(Cases, CudaOwnConvKernels, ::testing::ValuesIn(own_kernel_cases()), [](const auto& info) {
  const cuda::ConvChoiceKind kind = info.param.kind;
  const std::string suffix =
      kind == cuda::ConvChoiceKind::kInt8Gemm ? cuda::own_kernel_name(kind, info.param.variant)
      : kind == cuda::ConvChoiceKind::kDepthwise
          ? "depthwise" + (info.param.variant ? "_strip" + std::to_string(2 * info.param.variant) : std::string())
          : std::string("direct");
  std::string name = info.param.op.name + "_" + info.param.precision + "_" + suffix;
  std::replace(name.begin(), name.end(), ':', '_');  // "cuda:int8_gemm_128x64"
  return name;
});

}  // namespace
}  // namespace inferd::test
