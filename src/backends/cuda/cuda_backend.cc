// The CUDA backend: answers the optimizer's questions for NVIDIA GPUs and dispatches each
// node to its op family (cuda_ops.h) through one table. Activations are NHWC in the GPU's
// memory, in fp32, fp16 or bf16 as the plan's precision says; weights are packed onto the
// GPU once per engine. Registers itself as "cuda" (one backend instance per GPU index).
#include <array>
#include <utility>

#include "backends/api/registry.h"
#include "backends/cuda/cuda_device.h"
#include "backends/cuda/cuda_ops.h"
#include "backends/cuda/gpu_jpeg_decoder.h"
#include "core/log.h"

namespace inferd::cuda {
namespace {

using ir::OpKind;

struct Family {
  OpKind op;
  SupportsFn supports;
  PackFn pack;
  TuneFn tune;             // nullptr: nothing worth timing at build time
  bool strided_output;     // kernels write through the output's strides (a concat slice)
};

constexpr std::array<Family, 30> kFamilies{{
    // Conv: false, so concat elimination leaves a Concat of convolutions a copy. Writing the
    // channel slices in place sends cuDNN's output through a packed temp and an epilogue
    // pass; GoogLeNet at batch 256 ran 45,098 img/s that way and 53,292 with the copies
    // (H200, 2026-12-04; batch 1: 0.415 vs 0.432 ms).
    {OpKind::kConv, supports_conv, pack_conv, tune_conv, false},
    {OpKind::kConvTranspose, supports_conv_transpose, pack_conv_transpose, nullptr, true},
    {OpKind::kGemm, supports_gemm, pack_gemm, tune_gemm, false},
    {OpKind::kMaxPool, supports_pool, pack_pool, nullptr, true},
    {OpKind::kAveragePool, supports_pool, pack_pool, nullptr, true},
    {OpKind::kGlobalAveragePool, supports_pool, pack_pool, nullptr, true},
    {OpKind::kLRN, supports_lrn, pack_lrn, nullptr, true},
    {OpKind::kSoftmax, supports_softmax, pack_softmax, nullptr, false},
    {OpKind::kRelu, supports_pointwise, pack_pointwise, nullptr, true},
    {OpKind::kClip, supports_pointwise, pack_pointwise, nullptr, true},
    {OpKind::kLeakyRelu, supports_pointwise, pack_pointwise, nullptr, true},
    {OpKind::kSigmoid, supports_pointwise, pack_pointwise, nullptr, true},
    {OpKind::kTanh, supports_pointwise, pack_pointwise, nullptr, true},
    {OpKind::kHardSigmoid, supports_pointwise, pack_pointwise, nullptr, true},
    {OpKind::kHardSwish, supports_pointwise, pack_pointwise, nullptr, true},
    {OpKind::kFakeQuantize, supports_pointwise, pack_pointwise, nullptr, true},
    {OpKind::kAdd, supports_pointwise, pack_pointwise, nullptr, true},
    {OpKind::kMul, supports_pointwise, pack_pointwise, nullptr, true},
    {OpKind::kSum, supports_pointwise, pack_pointwise, nullptr, true},
    {OpKind::kMax, supports_pointwise, pack_pointwise, nullptr, true},
    {OpKind::kReorder, supports_data, pack_data, nullptr, true},
    {OpKind::kConcat, supports_data, pack_data, nullptr, true},
    {OpKind::kSlice, supports_data, pack_data, nullptr, true},
    {OpKind::kIdentity, supports_data, pack_data, nullptr, false},
    {OpKind::kReshape, supports_data, pack_data, nullptr, false},
    {OpKind::kFlatten, supports_data, pack_data, nullptr, false},
    {OpKind::kSqueeze, supports_data, pack_data, nullptr, false},
    {OpKind::kUnsqueeze, supports_data, pack_data, nullptr, false},
    {OpKind::kBatchNormalization, supports_data, pack_data, nullptr, true},
    {OpKind::kMatMul, nullptr, nullptr, nullptr, false},  // not on the GPU yet: supports() says no
}};

const Family* family_of(OpKind op) {
  for (const auto& f : kFamilies)
    if (f.op == op && f.supports != nullptr) return &f;
  return nullptr;
}

// As on the CPU, convolutions want NHWC (cuDNN's tensor-core kernels read NHWC without a
// transpose) and the ops between them follow, so that no Reorder sits between two convs.
bool prefers_nhwc(OpKind op) {
  return op == OpKind::kConv || op == OpKind::kConvTranspose || ir::follows_convolution_layout(op);
}

class CudaBackend final : public Backend {
 public:
  explicit CudaBackend(std::shared_ptr<const CudaDevice> device)
      : device_(std::move(device)), env_{device_->index(), device_->sm()} {}

  std::string_view name() const override { return "cuda"; }
  const Device& device() const override { return *device_; }

  bool supports(const ir::Graph& graph, const ir::Node& node) const override {
    const Family* f = family_of(node.op);
    return f != nullptr && f->supports(graph, node);
  }

  ir::Layout preferred_layout(const ir::Graph& graph, const ir::Node& node) const override {
    const bool four_d = !node.inputs.empty() && node.inputs[0] != ir::kNoValue &&
                        graph.value(node.inputs[0]).shape.size() == 4;
    return prefers_nhwc(node.op) && four_d ? ir::Layout::kNHWC : ir::Layout::kNCHW;
  }

  bool supports_strided_output(const ir::Graph& graph, const ir::Node& node) const override {
    const Family* f = family_of(node.op);
    return f != nullptr && f->strided_output && f->supports(graph, node);
  }

  // One launch instead of two convolutions and a concat copy (or slow strided cuDNN
  // writes): small convolutions here are bound by launches and memory traffic, so the
  // padded 1x1 branch's extra multiply-adds are expected to cost less than what they save.
  bool prefers_padded_window_merge(const ir::Graph& graph, const ir::Node& merged_conv) const override {
    return supports(graph, merged_conv);
  }

  // The plan's own largest batch (up to 256): a small batch times launches and the
  // synchronization, not the layer (measured on an H100, 2026-12-06: at batch 8 the clock
  // made 34 of ResNet-50's convolutions INT8, each "faster" by a few microseconds, and the
  // plan ran at 0.58x the fp16 plan's speed at batch 256 and 8, 0.62x at batch 1: at 256
  // its INT8 1x1 convolutions, each quantizing its fp16 input in a pass of its own, took
  // 2-3x the fp16 ones' time).
  int layer_clock_batch(int max_batch) const override { return max_batch < 256 ? max_batch : 256; }

  Result<DataType> activation_dtype(std::string_view precision) const override {
    if (precision == "fp32" || precision == "tf32") return DataType::kFloat32;
    if (precision == "fp16") return DataType::kFloat16;
    if (precision == "bf16") return DataType::kBFloat16;
    return unimplemented("the cuda backend runs fp32, tf32, fp16 or bf16, not '" + std::string(precision) + "'");
  }

  Result<std::vector<uint8_t>> tune(const ir::Graph& graph, const ir::Node& node,
                                    const TuneOptions& options) const override {
    const Family* f = family_of(node.op);
    if (f == nullptr || f->tune == nullptr) return std::vector<uint8_t>{};
    return f->tune(env_, graph, node, options);
  }

  Result<std::unique_ptr<PackedOp>> pack(const ir::Graph& graph, const ir::Node& node,
                                         const PackOptions& options) const override {
    const Family* f = family_of(node.op);
    if (f == nullptr || !f->supports(graph, node))
      return unimplemented(ir::describe(graph, node) + ": not supported by the cuda backend");
    return f->pack(env_, graph, node, options);
  }

 private:
  std::shared_ptr<const CudaDevice> device_;
  CudaOpEnv env_;
};

// Registers "cuda" when the binary starts (linked whole: src/CMakeLists.txt). With no GPU
// or no driver the backend is still listed, with no devices, and "auto" picks the CPU.
const bool kRegistered = [] {
  BackendRegistration reg;
  reg.create = [](const BackendOptions& options) -> Result<std::shared_ptr<const Backend>> {
    ASSIGN_OR_RETURN(auto device, CudaDevice::open(options.device));
    return std::shared_ptr<const Backend>(std::make_shared<CudaBackend>(std::move(device)));
  };
  reg.devices = list_cuda_devices;
  reg.open_image_decoder = open_gpu_jpeg_decoder;
  register_backend("cuda", std::move(reg));
  return true;
}();

}  // namespace
}  // namespace inferd::cuda
