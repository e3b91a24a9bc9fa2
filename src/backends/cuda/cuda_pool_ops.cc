// MaxPool, AveragePool, GlobalAveragePool, LRN and Softmax on the CUDA backend's own
// kernels (kernels_pool.cu). All five read one activation and write one of the same dtype,
// so one kernel class serves them: reshape() checks the views and keeps their geometry,
// enqueue() only refreshes the data pointers and launches.
//
// The output shape is authoritative (shape inference applied ceil_mode), as in the
// reference kernels; attributes are ONNX's canonical ones (ir/op.cc).
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

enum class Family { kMaxPool, kAvgPool, kGlobalAvgPool, kLrn, kSoftmax };

struct Config {
  Family family = Family::kMaxPool;
  DataType dtype = DataType::kFloat32;
  Pool2dParams pool;
  LrnParams lrn;
  int64_t axis = -1;  // softmax, possibly negative
  bool legacy_2d = false;
};

bool same_dims(const ConstDeviceTensor& x, const DeviceTensor& y) {
  if (x.rank != y.rank) return false;
  for (int d = 0; d < x.rank; ++d)
    if (x.dims[d] != y.dims[d]) return false;
  return true;
}

class OneInputKernel final : public Kernel {
 public:
  explicit OneInputKernel(const Config& config) : config_(config) {}

  Status reshape(Inputs in, Outputs out) override {
    if (in.empty() || out.empty()) return invalid_argument("expected one input and one output");
    RETURN_IF_ERROR(bind_view(in[0], config_.dtype, "input", &x_));
    RETURN_IF_ERROR(bind_view(out[0], config_.dtype, "output", &y_));
    return check_shapes();
  }

  Status enqueue(Inputs in, Outputs out, const EnqueueContext& ctx) override {
    x_.data = in[0].data;
    y_.data = out[0].data;
    const cudaStream_t stream = cuda_stream(ctx).get();
    switch (config_.family) {
      case Family::kMaxPool:
        CUDA_RETURN_IF_ERROR(launch_max_pool2d(x_, y_, config_.pool, stream));
        break;
      case Family::kAvgPool:
        CUDA_RETURN_IF_ERROR(launch_avg_pool2d(x_, y_, config_.pool, stream));
        break;
      case Family::kGlobalAvgPool:
        CUDA_RETURN_IF_ERROR(launch_global_avg_pool(x_, y_, stream));
        break;
      case Family::kLrn:
        CUDA_RETURN_IF_ERROR(launch_lrn(x_, y_, config_.lrn, stream));
        break;
      case Family::kSoftmax:
        CUDA_RETURN_IF_ERROR(launch_softmax(x_, y_, axis_, config_.legacy_2d, stream));
        break;
    }
    return Status::ok();
  }

 private:
  Status check_shapes() {
    const bool pooling = config_.family == Family::kMaxPool || config_.family == Family::kAvgPool ||
                         config_.family == Family::kGlobalAvgPool;
    if (!pooling) {
      if (!same_dims(x_, y_)) return invalid_argument("input and output shapes differ");
      if (config_.family == Family::kLrn && x_.rank < 2) return invalid_argument("LRN needs a channel dim");
      if (config_.family == Family::kLrn && config_.lrn.within_channel &&
          (x_.rank != 4 || x_.dims[2] > INT_MAX || x_.dims[3] > INT_MAX))
        return unimplemented("within-channel LRN takes 4-D tensors of at most 2^31 rows and columns");
      axis_ = static_cast<int>(config_.axis < 0 ? config_.axis + x_.rank : config_.axis);
      if (config_.family == Family::kSoftmax && (axis_ < 0 || axis_ >= x_.rank))
        return invalid_argument("softmax axis " + std::to_string(config_.axis) + " is outside a rank-" +
                                std::to_string(x_.rank) + " tensor");
      return Status::ok();
    }
    if (x_.rank != 4 || y_.rank != 4 || x_.dims[0] != y_.dims[0] || x_.dims[1] != y_.dims[1])
      return invalid_argument("pooling needs 4-D input and output with equal N and C");
    if (x_.dims[2] > INT_MAX || x_.dims[3] > INT_MAX) return unimplemented("input too large for the pool kernel");
    if (config_.family == Family::kGlobalAvgPool) {
      if (y_.dims[2] != 1 || y_.dims[3] != 1) return invalid_argument("global pooling output must be [N,C,1,1]");
      if (x_.dims[0] > 65535) return unimplemented("global pooling takes batches of at most 65535");
    }
    return Status::ok();
  }

  Config config_;
  ConstDeviceTensor x_;
  DeviceTensor y_;
  int axis_ = 0;
};

class OneInputOp final : public PackedOp {
 public:
  OneInputOp(Config config, std::string implementation) : config_(config), implementation_(std::move(implementation)) {}
  Result<std::unique_ptr<Kernel>> create_kernel() const override {
    return std::unique_ptr<Kernel>(std::make_unique<OneInputKernel>(config_));
  }
  std::string_view implementation() const override { return implementation_; }

 private:
  Config config_;
  std::string implementation_;
};

// One non-constant float activation in, one of the same dtype out, ranks in [min, max].
bool one_float_activation(const ir::Graph& graph, const ir::Node& node, size_t min_rank, size_t max_rank) {
  if (node.inputs.size() != 1 || node.outputs.size() != 1 || node.inputs[0] == ir::kNoValue) return false;
  const ir::Value& x = graph.value(node.inputs[0]);
  const ir::Value& y = graph.value(node.outputs[0]);
  return !x.is_constant() && x.dtype == y.dtype && is_float_activation(y.dtype) && x.shape.size() >= min_rank &&
         x.shape.size() <= max_rank && y.shape.size() >= min_rank && y.shape.size() <= max_rank;
}

bool all_in(const std::vector<int64_t>& v, size_t size, int64_t lo) {
  if (v.size() != size) return false;
  for (int64_t e : v)
    if (e < lo || e > INT_MAX / 2) return false;
  return true;
}

// Pool2dParams from the canonical attributes (the reference kernel's defaults); false for
// what the kernel does not take.
bool pool_params(const ir::Node& node, Pool2dParams* p) {
  const std::vector<int64_t> k = node.attrs.get_ints("kernel_shape", {1, 1});
  const std::vector<int64_t> s = node.attrs.get_ints("strides", {1, 1});
  const std::vector<int64_t> pads = node.attrs.get_ints("pads", {0, 0, 0, 0});
  const std::vector<int64_t> d = node.attrs.get_ints("dilations", {1, 1});
  if (!all_in(k, 2, 1) || !all_in(s, 2, 1) || !all_in(pads, 4, 0) || !all_in(d, 2, 1)) return false;
  for (int i = 0; i < 2; ++i) {
    p->kernel[i] = static_cast<int>(k[static_cast<size_t>(i)]);
    p->strides[i] = static_cast<int>(s[static_cast<size_t>(i)]);
    p->dilations[i] = static_cast<int>(d[static_cast<size_t>(i)]);
  }
  for (int i = 0; i < 4; ++i) p->pads[i] = static_cast<int>(pads[static_cast<size_t>(i)]);
  p->count_include_pad = node.attrs.get_int("count_include_pad", 0) != 0;
  return true;
}

int64_t softmax_axis(const ir::Node& node) {
  return node.attrs.get_int("axis", node.attrs.get_int("legacy_2d", 0) != 0 ? 1 : -1);
}

Result<std::unique_ptr<PackedOp>> make_op(const ir::Graph& graph, const ir::Node& node, Config config,
                                          const char* implementation) {
  config.dtype = graph.value(node.outputs[0]).dtype;
  return std::unique_ptr<PackedOp>(std::make_unique<OneInputOp>(config, implementation));
}

Status rejected(const ir::Graph& graph, const ir::Node& node) {
  return unimplemented(ir::describe(graph, node) + ": not supported by the CUDA kernels (dtype, rank or attributes)");
}

}  // namespace

bool supports_pool(const ir::Graph& graph, const ir::Node& node) {
  switch (node.op) {
    case ir::OpKind::kGlobalAveragePool:
      return one_float_activation(graph, node, 4, 4);
    case ir::OpKind::kMaxPool:
    case ir::OpKind::kAveragePool: {
      Pool2dParams p;
      return one_float_activation(graph, node, 4, 4) && pool_params(node, &p);
    }
    default:
      return false;
  }
}

Result<std::unique_ptr<PackedOp>> pack_pool(const CudaOpEnv&, const ir::Graph& graph, const ir::Node& node,
                                            const PackOptions&) {
  if (!supports_pool(graph, node)) return rejected(graph, node);
  Config config;
  if (node.op == ir::OpKind::kGlobalAveragePool) {
    config.family = Family::kGlobalAvgPool;
    return make_op(graph, node, config, "cuda:global_avg_pool");
  }
  pool_params(node, &config.pool);
  const bool max = node.op == ir::OpKind::kMaxPool;
  config.family = max ? Family::kMaxPool : Family::kAvgPool;
  return make_op(graph, node, config, max ? "cuda:max_pool" : "cuda:avg_pool");
}

bool supports_lrn(const ir::Graph& graph, const ir::Node& node) {
  const int64_t size = node.attrs.get_int("size", 1);
  const std::string region = node.attrs.get_string("region", "across_channels");
  if (region == "within_channel")  // Caffe's square spatial window: 4-D, odd sizes
    return node.op == ir::OpKind::kLRN && one_float_activation(graph, node, 4, 4) && size % 2 == 1 &&
           size <= INT_MAX / 2;
  return node.op == ir::OpKind::kLRN && region == "across_channels" &&
         one_float_activation(graph, node, 2, kMaxDims) && size >= 1 && size <= INT_MAX / 2;
}

Result<std::unique_ptr<PackedOp>> pack_lrn(const CudaOpEnv&, const ir::Graph& graph, const ir::Node& node,
                                           const PackOptions&) {
  if (!supports_lrn(graph, node)) return rejected(graph, node);
  Config config;
  config.family = Family::kLrn;
  config.lrn.size = static_cast<int>(node.attrs.get_int("size", 1));
  config.lrn.alpha = node.attrs.get_float("alpha", 1e-4f);
  config.lrn.beta = node.attrs.get_float("beta", 0.75f);
  config.lrn.bias = node.attrs.get_float("bias", 1.0f);
  config.lrn.within_channel = node.attrs.get_string("region", "across_channels") == "within_channel";
  return make_op(graph, node, config, config.lrn.within_channel ? "cuda:lrn_within_channel" : "cuda:lrn");
}

bool supports_softmax(const ir::Graph& graph, const ir::Node& node) {
  if (node.op != ir::OpKind::kSoftmax || !one_float_activation(graph, node, 1, kMaxDims)) return false;
  const auto rank = static_cast<int64_t>(graph.value(node.inputs[0]).shape.size());
  const int64_t axis = softmax_axis(node);
  return axis >= -rank && axis < rank;
}

Result<std::unique_ptr<PackedOp>> pack_softmax(const CudaOpEnv&, const ir::Graph& graph, const ir::Node& node,
                                               const PackOptions&) {
  if (!supports_softmax(graph, node)) return rejected(graph, node);
  Config config;
  config.family = Family::kSoftmax;
  config.axis = softmax_axis(node);
  config.legacy_2d = node.attrs.get_int("legacy_2d", 0) != 0;
  return make_op(graph, node, config, "cuda:softmax");
}

}  // namespace inferd::cuda
