#include "backends/cpu/cpu_backend.h"

#include <algorithm>
#include <array>
#include <utility>

#include "backends/api/registry.h"
#include "backends/cpu/cpu_device.h"
#include "backends/cpu/dnnl_common.h"
#include "backends/cpu/dnnl_ops.h"
#include "backends/cpu/dnnl_quantize.h"
#include "backends/reference/reference.h"
#include "core/levels.h"
#include "core/log.h"

namespace inferd::cpu {
namespace {

using ir::OpKind;

// Dispatch: the oneDNN-backed family of each op. Ops not listed (and nodes a family
// declines) run on their reference kernel.
constexpr std::array<std::pair<OpKind, PackFn>, 19> kDispatch{{
    {OpKind::kConv, pack_conv},
    {OpKind::kConvTranspose, pack_conv_transpose},
    {OpKind::kGemm, pack_gemm},
    {OpKind::kMaxPool, pack_pool},
    {OpKind::kAveragePool, pack_pool},
    {OpKind::kGlobalAveragePool, pack_pool},
    {OpKind::kLRN, pack_lrn},
    {OpKind::kSoftmax, pack_softmax},
    {OpKind::kRelu, pack_eltwise},
    {OpKind::kClip, pack_eltwise},
    {OpKind::kLeakyRelu, pack_eltwise},
    {OpKind::kSigmoid, pack_eltwise},
    {OpKind::kTanh, pack_eltwise},
    {OpKind::kHardSigmoid, pack_eltwise},
    {OpKind::kHardSwish, pack_eltwise},
    {OpKind::kAdd, pack_add},
    {OpKind::kReorder, pack_reorder},
    {OpKind::kConcat, pack_concat},
    {OpKind::kSlice, pack_slice},
}};

PackFn onednn_family(OpKind op) {
  for (const auto& [kind, fn] : kDispatch)
    if (kind == op) return fn;
  return nullptr;
}

bool has_4d_input(const ir::Graph& graph, const ir::Node& node) {
  return !node.inputs.empty() && node.inputs[0] != ir::kNoValue && graph.value(node.inputs[0]).shape.size() == 4;
}

// Ops that prefer NHWC over 4-D tensors: oneDNN 2.6's fastest fp32 convolutions on
// AVX-512 (brgconv, brgconv_1x1, brdgmm_dw) take NHWC, while plain NCHW gets im2col +
// GEMM ("x64:gemm:jit"). bench_ops, batch 1, 16-core Xeon: ResNet-50's 3x3 64->64 at
// 56x56 takes 0.19 ms in NHWC vs 0.52 ms in NCHW, its 1x1s 1.5-5.7x less (3.5x and
// 1.7-7.2x at 1 thread). The ops around convolutions follow so that no reorders sit
// between them; the elementwise reference ops index through strides, so NHWC costs
// them nothing. (Softmax stays NCHW: 2.6 has no jit softmax over a non-innermost axis
// of NCHW, and classifier softmaxes are 2-D anyway.)
// ConvTranspose follows too: oneDNN's deconvolution runs on the convolution kernels.
bool prefers_nhwc(OpKind op) {
  return op == OpKind::kConv || op == OpKind::kConvTranspose || ir::follows_convolution_layout(op);
}

// Where an INT8 convolution loses, it stays a float convolution after its FakeQuantize (the
// same numerics): over few input channels per group (an RGB stem: oneDNN 2.6's int8 kernels
// want channel blocks of 4+; SqueezeNet's conv1 at batch 1 on 2 AVX-512 VNNI cores: 0.40 ms
// int8, 0.22 ms fp32), which includes depthwise ones (memory-bound: quantizing the input
// costs as much as the layer; MobileNetV2's features.2.dw at batch 8: 4.4 ms int8, 0.97 ms
// fp32).
bool int8_conv_pays(const ir::Graph& graph, const ir::Node& node) {
  if (node.inputs.size() < 2 || !has_4d_input(graph, node)) return false;
  const int64_t group = std::max<int64_t>(1, node.attrs.get_int("group", 1));
  return graph.value(node.inputs[0]).shape[1] / group >= 4;
}

// A max pool or a channel Concat over u8/s8 levels, all of one type in and out (oneDNN's
// pooling and concat move levels as they move values).
bool passes_levels(const ir::Graph& graph, const ir::Node& node) {
  if ((node.op != OpKind::kMaxPool && node.op != OpKind::kConcat) || node.outputs.size() != 1) return false;
  const DataType t = graph.value(node.outputs[0]).dtype;
  if (!is_levels(t)) return false;
  return std::all_of(node.inputs.begin(), node.inputs.end(),
                     [&](ir::ValueId id) { return id != ir::kNoValue && graph.value(id).dtype == t; });
}

// fp32 activations everywhere, except u8/s8 at input 0 of an INT8 Conv (input_scale), at
// the output of one that rounds it (output_scale) with no residual, and through the max
// pools and Concats between them.
bool activation_dtypes_supported(const ir::Graph& graph, const ir::Node& node) {
  if (passes_levels(graph, node)) return true;
  const bool int8_conv = node.op == OpKind::kConv && node.attrs.has("input_scale");
  for (size_t i = 0; i < node.inputs.size(); ++i) {
    if (node.inputs[i] == ir::kNoValue || !is_levels(graph.value(node.inputs[i]).dtype)) continue;
    if (!int8_conv || i != 0) return false;
  }
  for (auto id : node.outputs) {
    const DataType t = graph.value(id).dtype;
    if (t == DataType::kFloat32) continue;
    const bool residual = node.inputs.size() > 3 && node.inputs[3] != ir::kNoValue;
    if (!is_levels(t) || !int8_conv || !node.attrs.has("output_scale") || residual) return false;
  }
  return true;
}

class CpuBackend final : public Backend {
 public:
  explicit CpuBackend(const CpuBackendOptions& opts) : opts_(opts) {
    // oneDNN (Debian's build uses the OpenMP runtime) sizes its thread team with
    // omp_get_max_threads(). OpenMP keeps that per thread, so this covers the thread
    // that builds and runs in the common single-threaded case; every kernel also
    // re-applies it on the thread that runs it (apply_thread_count).
    apply_thread_count(opts_.threads);
  }

  std::string_view name() const override { return "cpu"; }
  const Device& device() const override { return device_; }

  bool supports(const ir::Graph& graph, const ir::Node& node) const override {
    if (node.op == OpKind::kShape) return false;  // always folded away by the builder
    // The kernels compute in fp32 (int64 only for shape-like constants), but for the u8/s8
    // levels an INT8 convolution reads and writes (int8_storage).
    if (!activation_dtypes_supported(graph, node)) return false;
    if (node.op == OpKind::kConv || node.op == OpKind::kConvTranspose || node.op == OpKind::kGemm) {
      if (!dnnl_fused_activation(node.attrs, node.op == OpKind::kGemm).is_ok()) return false;
    }
    if (node.op == OpKind::kConv && node.attrs.has("input_scale") && !int8_conv_pays(graph, node)) return false;
    if (node.attrs.has("input_scale") && !int8_input_supported(node)) return false;
    return onednn_family(node.op) != nullptr || ref::reference_kernel(node.op) != nullptr;
  }

  ir::Layout preferred_layout(const ir::Graph& graph, const ir::Node& node) const override {
    return prefers_nhwc(node.op) && has_4d_input(graph, node) ? ir::Layout::kNHWC : ir::Layout::kNCHW;
  }

  // Whether writing a channel slice directly pays: true for the reference kernels
  // (they index through strides) and for Reorder/Concat/Slice (oneDNN reorders write strided
  // views as they are). Not for the other oneDNN primitives: 2.6 runs them on its naive
  // "ref:any" implementation when the output is a slice (conv: always in NHWC, in NCHW
  // from batch 2), so their kernels compute into a kernel-owned compact buffer and copy it into
  // the slice: the same copy as the planner's Concat, plus a buffer per kernel and shape
  // outside the arena. SqueezeNet on 16 cores with its fire Concats eliminated vs kept:
  // batch 1 1.23-1.27 vs 1.29-1.31 ms, batch 32 29-31 vs 26-30 ms (noise), peak RSS at
  // batch 32 362 vs 179 MB. (Given a slice anyway, every kernel still stages correctly.)
  bool supports_strided_output(const ir::Graph& graph, const ir::Node& node) const override {
    if (!supports(graph, node)) return false;
    return node.op == OpKind::kReorder || node.op == OpKind::kConcat || node.op == OpKind::kSlice ||
           onednn_family(node.op) == nullptr;
  }

  // A Conv with a residual may accumulate onto the residual's buffer: its pipeline skips
  // copying the residual into the output when both are one buffer (ResNet's 16 blocks).
  bool may_overwrite_input(const ir::Graph&, const ir::Node& node, size_t input) const override {
    return node.op == OpKind::kConv && input == 3;
  }

  Result<std::unique_ptr<PackedOp>> pack(const ir::Graph& graph, const ir::Node& node,
                                         const PackOptions&) const override {
    if (!supports(graph, node)) return unimplemented(ir::describe(graph, node) + ": not supported by the CPU backend");
    if (const PackFn family = onednn_family(node.op)) {
      PackResult packed = family(graph, node, opts_);
      // kUnimplemented: oneDNN refused the primitive; the reference kernel still can.
      if (!packed.is_ok() && packed.status().code() != StatusCode::kUnimplemented) return packed.status();
      if (packed.is_ok() && packed.value() != nullptr) return packed;
      log_debug("cpu_reference_fallback")
          .kv("node", ir::describe(graph, node))
          .kv("reason", packed.is_ok() ? "attributes outside oneDNN's primitive" : packed.status().message());
    }
    return pack_reference(graph, node, opts_);
  }

 private:
  CpuBackendOptions opts_;
  CpuDevice device_;
};

// Registers "cpu" when the binary starts (the library is linked whole, see src/CMakeLists.txt).
const bool kRegistered = [] {
  BackendRegistration reg;
  reg.create = [](const BackendOptions& options) -> Result<std::shared_ptr<const Backend>> {
    return std::shared_ptr<const Backend>(make_cpu_backend({options.threads}));
  };
  reg.devices = [] { return std::vector<DeviceDescription>{{0, "cpu", CpuDevice().target(), 0}}; };
  register_backend("cpu", std::move(reg));
  return true;
}();

}  // namespace

std::unique_ptr<Backend> make_cpu_backend(const CpuBackendOptions& opts) {
  return std::make_unique<CpuBackend>(opts);
}

}  // namespace inferd::cpu
