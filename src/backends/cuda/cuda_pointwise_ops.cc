// Relu, Clip, LeakyRelu, Sigmoid, Tanh, HardSigmoid, HardSwish, FakeQuantize, Add, Mul, Sum
// and Max on the CUDA backend's elementwise kernel (launch_eltwise, kernels_pointwise.cu): a standalone
// activation is a one-input pass; Add/Mul/Sum/Max combine inputs with numpy broadcasting
// and apply the node's fused activation (attr "activation"), if any.
//
// Constant operands (a bias, a scale) arrive at run time as host views; pack() uploads
// them once, converted to the activation dtype, and the kernels read that copy.
#include <cuda_runtime.h>

#include <string>
#include <vector>

#include "backends/cuda/cuda_common.h"
#include "backends/cuda/cuda_kernels.h"
#include "backends/cuda/cuda_ops.h"
#include "backends/cuda/cuda_views.h"

namespace inferd::cuda {
namespace {

using Inputs = std::span<const ConstTensorView>;
using Outputs = std::span<const TensorView>;

bool is_binary(ir::OpKind op) {
  return op == ir::OpKind::kAdd || op == ir::OpKind::kMul || op == ir::OpKind::kSum || op == ir::OpKind::kMax;
}

// An input packed onto the device (a constant), or not (an activation bound per call).
struct Operand {
  bool constant = false;
  ConstDeviceTensor packed;  // for constants: the device copy, dense
};

struct Config {
  DataType dtype = DataType::kFloat32;
  Combine op = Combine::kAdd;
  ir::Activation act;
  std::vector<Operand> operands;  // one per node input
};

// x broadcasts to y (numpy, aligned right); y's dims are the view's, x's may be fewer.
bool broadcasts_to(const ConstDeviceTensor& x, const DeviceTensor& y) {
  if (x.rank > y.rank) return false;
  for (int d = 0; d < x.rank; ++d) {
    const int64_t xd = x.dims[d], yd = y.dims[d + y.rank - x.rank];
    if (xd != 1 && xd != yd) return false;
  }
  return true;
}

class EltwiseKernel final : public Kernel {
 public:
  explicit EltwiseKernel(const Config& config) : config_(config), x_(config.operands.size()) {}

  Status reshape(Inputs in, Outputs out) override {
    if (in.size() != config_.operands.size() || out.empty())
      return invalid_argument("expected " + std::to_string(config_.operands.size()) + " inputs and one output");
    RETURN_IF_ERROR(bind_view(out[0], config_.dtype, "output", &y_));
    for (size_t i = 0; i < in.size(); ++i) {
      const Operand& operand = config_.operands[i];
      if (operand.constant)
        x_[i] = operand.packed;
      else
        RETURN_IF_ERROR(bind_view(in[i], config_.dtype, "input " + std::to_string(i), &x_[i]));
      if (!broadcasts_to(x_[i], y_))
        return invalid_argument("input " + std::to_string(i) + " does not broadcast to the output shape");
    }
    return Status::ok();
  }

  Status enqueue(Inputs in, Outputs out, const EnqueueContext& ctx) override {
    for (size_t i = 0; i < x_.size(); ++i)
      if (!config_.operands[i].constant) x_[i].data = in[i].data;
    y_.data = out[0].data;
    CUDA_RETURN_IF_ERROR(
        launch_eltwise(x_.data(), static_cast<int>(x_.size()), config_.op, config_.act, y_, cuda_stream(ctx).get()));
    return Status::ok();
  }

 private:
  Config config_;  // constants point into the PackedOp's memory: it outlives its kernels
  std::vector<ConstDeviceTensor> x_;
  DeviceTensor y_;
};

class EltwiseOp final : public PackedOp {
 public:
  EltwiseOp(Config config, std::vector<DeviceMemory> memory, const char* implementation)
      : config_(std::move(config)), memory_(std::move(memory)), implementation_(implementation) {}
  Result<std::unique_ptr<Kernel>> create_kernel() const override {
    return std::unique_ptr<Kernel>(std::make_unique<EltwiseKernel>(config_));
  }
  std::string_view implementation() const override { return implementation_; }

 private:
  Config config_;
  std::vector<DeviceMemory> memory_;  // the constants config_.operands point into
  const char* implementation_;
};

// The constant's values as floats (fp32 and fp16 constants; others are not supported).
bool constant_floats(const Tensor& t, std::vector<float>* values) {
  const auto n = static_cast<size_t>(t.size());
  values->resize(n);
  if (t.dtype() == DataType::kFloat32) {
    std::copy(t.data<float>(), t.data<float>() + n, values->begin());
  } else if (t.dtype() == DataType::kFloat16) {
    for (size_t i = 0; i < n; ++i) (*values)[i] = half_to_float(t.data<uint16_t>()[i]);
  } else {
    return false;
  }
  return true;
}

// Shapes broadcast statically (a dynamic batch dim matches itself or 1).
bool static_broadcast(const Shape& x, const Shape& y) {
  if (x.size() > y.size()) return false;
  for (size_t d = 0; d < x.size(); ++d) {
    const int64_t xd = x[d], yd = y[d + y.size() - x.size()];
    if (xd != 1 && xd != yd) return false;
  }
  return true;
}

bool supports_input(const ir::Graph& graph, ir::ValueId id, const ir::Value& y) {
  if (id == ir::kNoValue) return false;
  const ir::Value& x = graph.value(id);
  if (x.shape.size() > size_t{kMaxDims} || !static_broadcast(x.shape, y.shape)) return false;
  if (!x.is_constant()) return x.dtype == y.dtype;
  return x.constant->dtype() == DataType::kFloat32 || x.constant->dtype() == DataType::kFloat16;
}

// Uploads constant input `id` in `dtype`; the memory joins `memory`.
Result<Operand> pack_constant(const ir::Graph& graph, ir::ValueId id, DataType dtype,
                              std::vector<DeviceMemory>* memory) {
  const Tensor& t = *graph.value(id).constant;
  std::vector<float> values;
  if (!constant_floats(t, &values)) return unimplemented("constant of type " + std::string(to_string(t.dtype())));
  void* device = nullptr;
  CUDA_RETURN_IF_ERROR(upload_floats(values.data(), static_cast<int64_t>(values.size()), dtype, &device));
  memory->emplace_back(device);
  Operand operand{true, {}};
  operand.packed.data = device;
  operand.packed.dtype = dtype;
  operand.packed.rank = static_cast<int>(t.shape().size());
  int64_t stride = 1;
  for (int d = operand.packed.rank - 1; d >= 0; --d) {
    operand.packed.dims[d] = t.shape()[static_cast<size_t>(d)];
    operand.packed.strides[d] = stride;
    stride *= operand.packed.dims[d];
  }
  return operand;
}

Result<ir::Activation> node_activation(const ir::Node& node) {
  if (is_binary(node.op)) return ir::fused_activation(node.attrs, false);
  return ir::standalone_activation(node.op, node.attrs);
}

// One input, one output, applied elementwise: the activations and FakeQuantize (calibrated
// plans: an INT8 layer's input rounded onto its grid; the layer itself runs in float).
bool is_unary(ir::OpKind op) { return ir::is_activation(op) || op == ir::OpKind::kFakeQuantize; }

}  // namespace

bool supports_pointwise(const ir::Graph& graph, const ir::Node& node) {
  const bool binary = is_binary(node.op);
  if ((!binary && !is_unary(node.op)) || node.outputs.size() != 1 || node.inputs.empty()) return false;
  if (!node_activation(node).is_ok()) return false;
  const ir::Value& y = graph.value(node.outputs[0]);
  if (!is_float_activation(y.dtype) || y.shape.size() > size_t{kMaxDims}) return false;
  // Activations: exactly one input (Clip's min/max only as attributes), an activation.
  if (!binary)
    return node.inputs.size() == 1 && supports_input(graph, node.inputs[0], y) &&
           !graph.value(node.inputs[0]).is_constant();
  if (node.op != ir::OpKind::kSum && node.op != ir::OpKind::kMax && node.inputs.size() != 2) return false;
  for (ir::ValueId id : node.inputs)
    if (!supports_input(graph, id, y)) return false;
  return true;
}

Result<std::unique_ptr<PackedOp>> pack_pointwise(const CudaOpEnv& env, const ir::Graph& graph, const ir::Node& node,
                                                 const PackOptions&) {
  if (!supports_pointwise(graph, node))
    return unimplemented(ir::describe(graph, node) + ": not supported by the CUDA kernels (dtype, rank or shapes)");
  Config config;
  config.dtype = graph.value(node.outputs[0]).dtype;
  config.op = node.op == ir::OpKind::kMul ? Combine::kMul : node.op == ir::OpKind::kMax ? Combine::kMax : Combine::kAdd;
  ASSIGN_OR_RETURN(config.act, node_activation(node));
  std::vector<DeviceMemory> memory;
  for (ir::ValueId id : node.inputs) {
    if (!graph.value(id).is_constant()) {
      config.operands.push_back({});
      continue;
    }
    if (memory.empty()) CUDA_RETURN_IF_ERROR(cudaSetDevice(env.device));
    ASSIGN_OR_RETURN(Operand operand, pack_constant(graph, id, config.dtype, &memory));
    config.operands.push_back(operand);
  }
  const char* implementation = is_binary(node.op)                       ? "cuda:binary"
                               : node.op == ir::OpKind::kFakeQuantize ? "cuda:fake_quantize"
                                                                      : "cuda:activation";
  return std::unique_ptr<PackedOp>(std::make_unique<EltwiseOp>(std::move(config), std::move(memory), implementation));
}

}  // namespace inferd::cuda
