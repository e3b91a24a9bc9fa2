// ConvTranspose on the CUDA backend's own gather kernel (kernels_conv_transpose.cu), in
// fp32, fp16 and bf16 activations with the fused activation of conv_activation_fusion.
// The weights and bias are graph constants (fp32 in every plan precision) and are uploaded
// once, as fp32, by pack(); the kernel accumulates in fp32.
#include <climits>
#include <string>

#include "backends/cuda/cuda_common.h"
#include "backends/cuda/cuda_kernels.h"
#include "backends/cuda/cuda_ops.h"
#include "backends/cuda/cuda_views.h"

namespace inferd::cuda {
namespace {

using Inputs = std::span<const ConstTensorView>;
using Outputs = std::span<const TensorView>;

struct Config {
  DataType dtype = DataType::kFloat32;
  ConvTransposeParams params;
  const float* weights = nullptr;  // device, owned by the PackedOp
  const float* bias = nullptr;     // device or null
};

class ConvTransposeKernel final : public Kernel {
 public:
  explicit ConvTransposeKernel(const Config& config) : config_(config) {}

  Status reshape(Inputs in, Outputs out) override {
    if (in.size() < 2 || out.empty()) return invalid_argument("expected inputs X and W and one output");
    RETURN_IF_ERROR(bind_view(in[0], config_.dtype, "input", &x_));
    RETURN_IF_ERROR(bind_view(out[0], config_.dtype, "output", &y_));
    if (x_.rank != 4 || y_.rank != 4 || x_.dims[0] != y_.dims[0])
      return invalid_argument("ConvTranspose needs 4-D input and output of one batch size");
    return Status::ok();
  }

  Status enqueue(Inputs in, Outputs out, const EnqueueContext& ctx) override {
    x_.data = in[0].data;
    y_.data = out[0].data;
    CUDA_RETURN_IF_ERROR(
        launch_conv_transpose2d(x_, config_.weights, config_.bias, y_, config_.params, cuda_stream(ctx).get()));
    return Status::ok();
  }

 private:
  Config config_;
  ConstDeviceTensor x_;
  DeviceTensor y_;
};

class ConvTransposeOp final : public PackedOp {
 public:
  ConvTransposeOp(Config config, DeviceMemory weights, DeviceMemory bias)
      : config_(config), weights_(std::move(weights)), bias_(std::move(bias)) {}
  Result<std::unique_ptr<Kernel>> create_kernel() const override {
    return std::unique_ptr<Kernel>(std::make_unique<ConvTransposeKernel>(config_));
  }
  std::string_view implementation() const override { return "cuda:conv_transpose"; }

 private:
  Config config_;  // points into weights_ and bias_
  DeviceMemory weights_, bias_;
};

bool fp32_constant(const ir::Graph& graph, ir::ValueId id) {
  if (id == ir::kNoValue) return false;
  const ir::Value& v = graph.value(id);
  return v.is_constant() && v.constant->dtype() == DataType::kFloat32;
}

bool in_range(const std::vector<int64_t>& v, size_t size, int64_t lo) {
  if (v.size() != size) return false;
  for (int64_t e : v)
    if (e < lo || e > INT_MAX / 4) return false;
  return true;
}

// The kernel's parameters from the canonical attributes; false for what it does not take.
bool conv_transpose_params(const ir::Graph& graph, const ir::Node& node, ConvTransposeParams* p) {
  const std::vector<int64_t> s = node.attrs.get_ints("strides", {1, 1});
  const std::vector<int64_t> pads = node.attrs.get_ints("pads", {0, 0, 0, 0});
  const std::vector<int64_t> d = node.attrs.get_ints("dilations", {1, 1});
  const int64_t group = node.attrs.get_int("group", 1);
  const Shape& w = graph.value(node.inputs[1]).shape;
  if (!in_range(s, 2, 1) || !in_range(pads, 4, 0) || !in_range(d, 2, 1) || w.size() != 4 || group < 1 ||
      group > INT_MAX || w[2] > INT_MAX / 4 || w[3] > INT_MAX / 4)
    return false;
  auto act = ir::fused_activation(node.attrs, /*op_owns_alpha_beta=*/false);
  if (!act.is_ok()) return false;
  for (int i = 0; i < 2; ++i) {
    p->kernel[i] = static_cast<int>(w[2 + static_cast<size_t>(i)]);
    p->strides[i] = static_cast<int>(s[static_cast<size_t>(i)]);
    p->dilations[i] = static_cast<int>(d[static_cast<size_t>(i)]);
  }
  for (int i = 0; i < 4; ++i) p->pads[i] = static_cast<int>(pads[static_cast<size_t>(i)]);
  p->group = static_cast<int>(group);
  p->act = *act;
  return true;
}

Result<DeviceMemory> upload(const Tensor& t) {
  void* device = nullptr;
  CUDA_RETURN_IF_ERROR(upload_floats(t.data<float>(), t.size(), DataType::kFloat32, &device));
  return DeviceMemory(device);
}

}  // namespace

bool supports_conv_transpose(const ir::Graph& graph, const ir::Node& node) {
  if (node.op != ir::OpKind::kConvTranspose || node.inputs.size() < 2 || node.inputs.size() > 3 ||
      node.outputs.size() != 1 || node.inputs[0] == ir::kNoValue)
    return false;
  const ir::Value& x = graph.value(node.inputs[0]);
  const ir::Value& y = graph.value(node.outputs[0]);
  if (x.is_constant() || x.dtype != y.dtype || !is_float_activation(y.dtype) || x.shape.size() != 4 ||
      y.shape.size() != 4 || !fp32_constant(graph, node.inputs[1]))
    return false;
  if (node.inputs.size() == 3 && node.inputs[2] != ir::kNoValue && !fp32_constant(graph, node.inputs[2])) return false;
  ConvTransposeParams p;
  return conv_transpose_params(graph, node, &p);
}

Result<std::unique_ptr<PackedOp>> pack_conv_transpose(const CudaOpEnv& env, const ir::Graph& graph,
                                                      const ir::Node& node, const PackOptions&) {
  if (!supports_conv_transpose(graph, node))
    return unimplemented(ir::describe(graph, node) + ": not supported by the CUDA kernels (dtype, rank or attributes)");
  Config config;
  config.dtype = graph.value(node.outputs[0]).dtype;
  conv_transpose_params(graph, node, &config.params);
  CUDA_RETURN_IF_ERROR(cudaSetDevice(env.device));
  ASSIGN_OR_RETURN(DeviceMemory weights, upload(*graph.value(node.inputs[1]).constant));
  DeviceMemory bias;
  if (node.inputs.size() == 3 && node.inputs[2] != ir::kNoValue) {
    ASSIGN_OR_RETURN(bias, upload(*graph.value(node.inputs[2]).constant));
  }
  config.weights = static_cast<const float*>(weights.get());
  config.bias = static_cast<const float*>(bias.get());
  return std::unique_ptr<PackedOp>(std::make_unique<ConvTransposeOp>(config, std::move(weights), std::move(bias)));
}

}  // namespace inferd::cuda
