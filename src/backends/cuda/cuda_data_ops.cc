// Data movement on the CUDA backend, all through one strided copy (launch_copy,
// kernels_data.cu): Reorder (layout and dtype), Concat (a copy of each input into its
// slice of the output along the axis), Slice (a strided window of the input), the
// reshaping copies (Identity, Reshape, Flatten, Squeeze, Unsqueeze), and an unfolded
// BatchNormalization as a per-channel affine map whose coefficients pack() computes.
//
// A Concat marked in_place (concat elimination) has nothing left to do: its producers
// already wrote into their slices of its output.
#include <algorithm>
#include <cmath>
#include <string>
#include <type_traits>
#include <vector>

#include "backends/cuda/cuda_common.h"
#include "backends/cuda/cuda_kernels.h"
#include "backends/cuda/cuda_ops.h"
#include "backends/cuda/cuda_views.h"

namespace inferd::cuda {
namespace {

using Inputs = std::span<const ConstTensorView>;
using Outputs = std::span<const TensorView>;
using ir::OpKind;

// Row-major contiguous, ignoring the strides of size-1 dims (an NHWC [N,C,1,1] is).
template <typename View>
bool contiguous(const View& v) {
  int64_t expected = 1;
  for (size_t d = v.shape.size(); d-- > 0;) {
    if (v.shape[d] != 1 && v.strides[d] != expected) return false;
    expected *= v.shape[d];
  }
  return true;
}

// Whether a copy can move dtype `from` into `to`: float conversions, or equal dtypes
// whose elements are 1, 2, 4 or 8 bytes (moved bit for bit).
bool copyable(DataType from, DataType to) {
  if (is_float_activation(from) && is_float_activation(to)) return true;
  const size_t size = element_size(from);
  return from == to && (size == 1 || size == 2 || size == 4 || size == 8);
}

template <typename Ptr>
BasicDeviceTensor<Ptr> offset_by(BasicDeviceTensor<Ptr> t, int64_t elements) {
  using Byte = std::conditional_t<std::is_const_v<std::remove_pointer_t<Ptr>>, const char, char>;
  t.data = static_cast<Byte*>(t.data) + elements * static_cast<int64_t>(element_size(t.dtype));
  return t;
}

// ---- kernels ------------------------------------------------------------------------------

// Reorder and the reshaping copies. Equal shapes copy index by index through both views'
// strides; different shapes (Reshape, ...) copy in row-major order, which needs one side
// contiguous: that side is then read as a dense tensor of the other's shape. When neither
// is (NHWC in, column-major 2-D out), the copy goes through a dense buffer in the
// workspace: x into it with x's shape, then out of it with y's shape.
class CopyKernel final : public Kernel {
 public:
  CopyKernel(DataType x_dtype, DataType y_dtype) : x_dtype_(x_dtype), y_dtype_(y_dtype) {}

  Status reshape(Inputs in, Outputs out) override {
    if (in.empty() || out.empty()) return invalid_argument("expected one input and one output");
    const ConstTensorView& x = in[0];
    const TensorView& y = out[0];
    if (x.size() != y.size()) return invalid_argument("input and output sizes differ");
    if (x.dtype != x_dtype_ || y.dtype != y_dtype_) return invalid_argument("unexpected dtypes");
    if (x.memory != MemoryKind::kDevice || y.memory != MemoryKind::kDevice)
      return invalid_argument("input or output is not in device memory");
    count_ = y.size();
    staged_ = false;
    workspace_ = 0;
    flat_ = contiguous(x) && contiguous(y);
    if (flat_) return Status::ok();
    if (x.shape == y.shape) {
      RETURN_IF_ERROR(bind_view(x, x_dtype_, "input", &x_));
      return bind_view(y, y_dtype_, "output", &y_);
    }
    // One side contiguous: read it with the other side's shape and dense strides.
    if (contiguous(x)) {
      RETURN_IF_ERROR(bind_view(y, y_dtype_, "output", &y_));
      return bind_view(ConstTensorView(x.data, y.shape, dense_strides(y.shape), x_dtype_, x.memory), x_dtype_, "input",
                       &x_);
    }
    if (contiguous(y)) {
      RETURN_IF_ERROR(bind_view(x, x_dtype_, "input", &x_));
      return bind_view(TensorView(y.data, x.shape, dense_strides(x.shape), y_dtype_, y.memory), y_dtype_, "output",
                       &y_);
    }
    return plan_staging(x, y);
  }

  size_t workspace_bytes() const override { return workspace_; }

  Status enqueue(Inputs in, Outputs out, const EnqueueContext& ctx) override {
    const cudaStream_t stream = cuda_stream(ctx).get();
    if (flat_) {
      CUDA_RETURN_IF_ERROR(launch_flat_copy(in[0].data, x_dtype_, out[0].data, y_dtype_, count_, stream));
      return Status::ok();
    }
    x_.data = in[0].data;
    y_.data = out[0].data;
    if (!staged_) {
      CUDA_RETURN_IF_ERROR(launch_copy(x_, y_, stream));
      return Status::ok();
    }
    if (ctx.workspace_bytes < workspace_ || (workspace_ > 0 && ctx.workspace == nullptr))
      return internal_error("the copy needs " + std::to_string(workspace_) + " bytes of workspace");
    into_.data = ctx.workspace;
    out_of_.data = ctx.workspace;
    CUDA_RETURN_IF_ERROR(launch_copy(x_, into_, stream));
    CUDA_RETURN_IF_ERROR(launch_copy(out_of_, y_, stream));
    return Status::ok();
  }

 private:
  // Both views strided and shaped differently: the workspace holds x densely, in x's dtype
  // (the second copy converts, if anything does).
  Status plan_staging(const ConstTensorView& x, const TensorView& y) {
    RETURN_IF_ERROR(bind_view(x, x_dtype_, "input", &x_));
    RETURN_IF_ERROR(bind_view(y, y_dtype_, "output", &y_));
    RETURN_IF_ERROR(bind_view(TensorView(nullptr, x.shape, dense_strides(x.shape), x_dtype_, MemoryKind::kDevice),
                              x_dtype_, "staged input", &into_));
    RETURN_IF_ERROR(bind_view(ConstTensorView(nullptr, y.shape, dense_strides(y.shape), x_dtype_, MemoryKind::kDevice),
                              x_dtype_, "staged output", &out_of_));
    staged_ = true;
    workspace_ = static_cast<size_t>(count_) * element_size(x_dtype_);
    return Status::ok();
  }

  DataType x_dtype_, y_dtype_;
  bool flat_ = true;
  bool staged_ = false;  // through the workspace: x_ -> into_, then out_of_ -> y_
  int64_t count_ = 0;
  size_t workspace_ = 0;
  ConstDeviceTensor x_, out_of_;
  DeviceTensor y_, into_;
};

// Each input is copied into the window of the output that starts at its running offset
// along the axis (the output's strides, so any layout works).
class ConcatKernel final : public Kernel {
 public:
  ConcatKernel(DataType dtype, int64_t axis) : dtype_(dtype), axis_(axis) {}

  Status reshape(Inputs in, Outputs out) override {
    if (in.empty() || out.empty()) return invalid_argument("expected inputs and one output");
    DeviceTensor y;
    RETURN_IF_ERROR(bind_view(out[0], dtype_, "output", &y));
    const int64_t axis = axis_ < 0 ? axis_ + y.rank : axis_;
    if (axis < 0 || axis >= y.rank) return invalid_argument("concat axis outside the output's rank");
    x_.resize(in.size());
    slices_.resize(in.size());
    offsets_.resize(in.size());
    int64_t start = 0;
    for (size_t i = 0; i < in.size(); ++i) {
      RETURN_IF_ERROR(bind_view(in[i], dtype_, "input " + std::to_string(i), &x_[i]));
      if (x_[i].rank != y.rank) return invalid_argument("concat inputs and output differ in rank");
      for (int d = 0; d < y.rank; ++d)
        if (d != axis && x_[i].dims[d] != y.dims[d])
          return invalid_argument("concat input " + std::to_string(i) + " differs from the output off the axis");
      slices_[i] = y;
      std::copy(x_[i].dims, x_[i].dims + kMaxDims, slices_[i].dims);
      offsets_[i] = start * y.strides[axis];
      start += x_[i].dims[axis];
    }
    if (start != y.dims[axis]) return invalid_argument("concat inputs do not fill the output along the axis");
    return Status::ok();
  }

  Status enqueue(Inputs in, Outputs out, const EnqueueContext& ctx) override {
    const cudaStream_t stream = cuda_stream(ctx).get();
    for (size_t i = 0; i < x_.size(); ++i) {
      x_[i].data = in[i].data;
      slices_[i].data = out[0].data;
      CUDA_RETURN_IF_ERROR(launch_copy(x_[i], offset_by(slices_[i], offsets_[i]), stream));
    }
    return Status::ok();
  }

 private:
  DataType dtype_;
  int64_t axis_;
  std::vector<ConstDeviceTensor> x_;
  std::vector<DeviceTensor> slices_;  // the output's strides, input i's dims
  std::vector<int64_t> offsets_;      // elements from the output's start to slice i
};

// The range [start, start + y.dims[axis]) of x along the axis.
class SliceKernel final : public Kernel {
 public:
  SliceKernel(DataType dtype, int64_t axis, int64_t start) : dtype_(dtype), axis_(axis), start_(start) {}

  Status reshape(Inputs in, Outputs out) override {
    if (in.empty() || out.empty()) return invalid_argument("expected one input and one output");
    ConstDeviceTensor x;
    RETURN_IF_ERROR(bind_view(in[0], dtype_, "input", &x));
    RETURN_IF_ERROR(bind_view(out[0], dtype_, "output", &y_));
    const int64_t axis = axis_ < 0 ? axis_ + x.rank : axis_;
    if (axis < 0 || axis >= x.rank || x.rank != y_.rank) return invalid_argument("slice axis or ranks invalid");
    const int64_t start = start_ < 0 ? start_ + x.dims[axis] : start_;
    for (int d = 0; d < x.rank; ++d)
      if (d != axis && x.dims[d] != y_.dims[d]) return invalid_argument("slice output differs off the axis");
    if (start < 0 || start + y_.dims[axis] > x.dims[axis]) return invalid_argument("slice range outside the input");
    offset_ = start * x.strides[axis];
    window_ = x;
    std::copy(y_.dims, y_.dims + kMaxDims, window_.dims);
    return Status::ok();
  }

  Status enqueue(Inputs in, Outputs out, const EnqueueContext& ctx) override {
    window_.data = in[0].data;
    y_.data = out[0].data;
    CUDA_RETURN_IF_ERROR(launch_copy(offset_by(window_, offset_), y_, cuda_stream(ctx).get()));
    return Status::ok();
  }

 private:
  DataType dtype_;
  int64_t axis_, start_;
  int64_t offset_ = 0;
  ConstDeviceTensor window_;  // the input's strides, the output's dims
  DeviceTensor y_;
};

// y = x * scale[c] + shift[c] along dim 1.
class ChannelAffineKernel final : public Kernel {
 public:
  ChannelAffineKernel(DataType dtype, const float* scale, const float* shift, int64_t channels)
      : dtype_(dtype), scale_(scale), shift_(shift), channels_(channels) {}

  Status reshape(Inputs in, Outputs out) override {
    if (in.empty() || out.empty()) return invalid_argument("expected an input and one output");
    RETURN_IF_ERROR(bind_view(in[0], dtype_, "input", &x_));
    RETURN_IF_ERROR(bind_view(out[0], dtype_, "output", &y_));
    if (x_.rank < 2 || x_.rank != y_.rank || x_.dims[1] != channels_)
      return invalid_argument("input must have " + std::to_string(channels_) + " channels in dim 1");
    for (int d = 0; d < x_.rank; ++d)
      if (x_.dims[d] != y_.dims[d]) return invalid_argument("input and output shapes differ");
    return Status::ok();
  }

  Status enqueue(Inputs in, Outputs out, const EnqueueContext& ctx) override {
    x_.data = in[0].data;
    y_.data = out[0].data;
    CUDA_RETURN_IF_ERROR(launch_channel_affine(x_, y_, 1, scale_, shift_, cuda_stream(ctx).get()));
    return Status::ok();
  }

 private:
  DataType dtype_;
  const float *scale_, *shift_;  // device memory of the PackedOp
  int64_t channels_;
  ConstDeviceTensor x_;
  DeviceTensor y_;
};

class NoOpKernel final : public Kernel {
 public:
  Status reshape(Inputs, Outputs) override { return Status::ok(); }
  Status enqueue(Inputs, Outputs, const EnqueueContext&) override { return Status::ok(); }
};

// ---- packed ops ---------------------------------------------------------------------------

// A PackedOp whose kernels are made by `make` (a copy of the node's parameters) and which
// owns the device memory they read.
template <typename Make>
class DataOp final : public PackedOp {
 public:
  DataOp(Make make, const char* implementation, DeviceMemory memory = {})
      : make_(std::move(make)), implementation_(implementation), memory_(std::move(memory)) {}
  Result<std::unique_ptr<Kernel>> create_kernel() const override { return std::unique_ptr<Kernel>(make_()); }
  std::string_view implementation() const override { return implementation_; }

 private:
  Make make_;
  const char* implementation_;
  DeviceMemory memory_;
};

template <typename Make>
std::unique_ptr<PackedOp> make_op(Make make, const char* implementation, DeviceMemory memory = {}) {
  return std::make_unique<DataOp<Make>>(std::move(make), implementation, std::move(memory));
}

bool is_reshaping_copy(OpKind op) {
  return op == OpKind::kIdentity || op == OpKind::kReshape || op == OpKind::kFlatten || op == OpKind::kSqueeze ||
         op == OpKind::kUnsqueeze;
}

// Input 0 present and not a constant, exactly one output.
bool one_activation_in(const ir::Graph& graph, const ir::Node& node) {
  return !node.inputs.empty() && node.inputs[0] != ir::kNoValue && node.outputs.size() == 1 &&
         !graph.value(node.inputs[0]).is_constant();
}

bool valid_axis(int64_t axis, size_t rank) {
  return axis >= -static_cast<int64_t>(rank) && axis < static_cast<int64_t>(rank);
}

bool supports_concat(const ir::Graph& graph, const ir::Node& node) {
  if (node.outputs.size() != 1) return false;
  if (node.attrs.get_int("in_place", 0) != 0) return true;
  const ir::Value& y = graph.value(node.outputs[0]);
  if (node.inputs.empty() || y.shape.size() > size_t{kMaxDims} ||
      !valid_axis(node.attrs.get_int("axis", 1), y.shape.size()) || !copyable(y.dtype, y.dtype))
    return false;
  for (ir::ValueId id : node.inputs) {
    if (id == ir::kNoValue) return false;
    const ir::Value& x = graph.value(id);
    if (x.is_constant() || x.dtype != y.dtype || x.shape.size() != y.shape.size()) return false;
  }
  return true;
}

// The per-channel values of constant BatchNormalization input `i` as floats.
bool bn_param(const ir::Graph& graph, const ir::Node& node, size_t i, std::vector<double>* out) {
  if (node.inputs.size() <= i || node.inputs[i] == ir::kNoValue || !graph.value(node.inputs[i]).is_constant())
    return false;
  const Tensor& t = *graph.value(node.inputs[i]).constant;
  if (t.shape().size() != 1) return false;
  const auto n = static_cast<size_t>(t.size());
  out->resize(n);
  for (size_t c = 0; c < n; ++c) {
    if (t.dtype() == DataType::kFloat32)
      (*out)[c] = t.data<float>()[c];
    else if (t.dtype() == DataType::kFloat16)
      (*out)[c] = half_to_float(t.data<uint16_t>()[c]);
    else
      return false;
  }
  return true;
}

// scale' = scale / sqrt(var + eps) and shift = B - mean * scale', in double as the
// reference computes, stored as [scale'..., shift...] fp32. False when unsupported.
bool bn_coefficients(const ir::Graph& graph, const ir::Node& node, std::vector<float>* coefficients) {
  std::vector<double> scale, bias, mean, var;
  if (!bn_param(graph, node, 1, &scale) || !bn_param(graph, node, 2, &bias) || !bn_param(graph, node, 3, &mean) ||
      !bn_param(graph, node, 4, &var))
    return false;
  const size_t c = scale.size();
  if (bias.size() != c || mean.size() != c || var.size() != c) return false;
  const double epsilon = node.attrs.get_float("epsilon", 1e-5f);
  coefficients->resize(2 * c);
  for (size_t i = 0; i < c; ++i) {
    const double s = scale[i] / std::sqrt(var[i] + epsilon);
    (*coefficients)[i] = static_cast<float>(s);
    (*coefficients)[c + i] = static_cast<float>(bias[i] - mean[i] * s);
  }
  return true;
}

bool supports_batch_norm(const ir::Graph& graph, const ir::Node& node) {
  if (!one_activation_in(graph, node) || node.inputs.size() != 5) return false;
  const ir::Value& x = graph.value(node.inputs[0]);
  const ir::Value& y = graph.value(node.outputs[0]);
  std::vector<float> coefficients;
  return is_float_activation(x.dtype) && x.dtype == y.dtype && x.shape.size() >= 2 &&
         x.shape.size() <= size_t{kMaxDims} && bn_coefficients(graph, node, &coefficients) &&
         (x.shape[1] == kDynamicDim || static_cast<size_t>(x.shape[1]) * 2 == coefficients.size());
}

Result<std::unique_ptr<PackedOp>> pack_batch_norm(const CudaOpEnv& env, const ir::Graph& graph, const ir::Node& node) {
  std::vector<float> coefficients;
  bn_coefficients(graph, node, &coefficients);
  const int64_t channels = static_cast<int64_t>(coefficients.size() / 2);
  CUDA_RETURN_IF_ERROR(cudaSetDevice(env.device));
  void* device = nullptr;
  CUDA_RETURN_IF_ERROR(upload_floats(coefficients.data(), 2 * channels, DataType::kFloat32, &device));
  DeviceMemory memory(device);
  const auto* scale = static_cast<const float*>(device);
  const DataType dtype = graph.value(node.outputs[0]).dtype;
  return make_op([=] { return std::make_unique<ChannelAffineKernel>(dtype, scale, scale + channels, channels); },
                 "cuda:batch_norm", std::move(memory));
}

}  // namespace

bool supports_data(const ir::Graph& graph, const ir::Node& node) {
  if (node.op == OpKind::kConcat) return supports_concat(graph, node);
  if (node.op == OpKind::kBatchNormalization) return supports_batch_norm(graph, node);
  if (!one_activation_in(graph, node)) return false;
  const ir::Value& x = graph.value(node.inputs[0]);
  const ir::Value& y = graph.value(node.outputs[0]);
  switch (node.op) {
    case OpKind::kReorder:
      return node.inputs.size() == 1 && x.shape == y.shape && copyable(x.dtype, y.dtype);
    case OpKind::kSlice: {
      const int64_t axis = node.attrs.get_int("axis", 1);
      return node.inputs.size() == 1 && x.dtype == y.dtype && copyable(x.dtype, y.dtype) &&
             x.shape.size() == y.shape.size() && x.shape.size() <= size_t{kMaxDims} && valid_axis(axis, x.shape.size());
    }
    default:
      // Reshape's second input is its constant shape, which the output view already carries.
      return is_reshaping_copy(node.op) && x.dtype == y.dtype && copyable(x.dtype, y.dtype) &&
             (node.inputs.size() == 1 || node.op == OpKind::kReshape);
  }
}

Result<std::unique_ptr<PackedOp>> pack_data(const CudaOpEnv& env, const ir::Graph& graph, const ir::Node& node,
                                            const PackOptions&) {
  if (!supports_data(graph, node))
    return unimplemented(ir::describe(graph, node) + ": not supported by the CUDA kernels (dtype, rank or attributes)");
  const DataType dtype = graph.value(node.outputs[0]).dtype;
  switch (node.op) {
    case OpKind::kBatchNormalization:
      return pack_batch_norm(env, graph, node);
    case OpKind::kConcat: {
      if (node.attrs.get_int("in_place", 0) != 0)
        return make_op([] { return std::make_unique<NoOpKernel>(); }, "cuda:concat_in_place");
      const int64_t axis = node.attrs.get_int("axis", 1);
      return make_op([=] { return std::make_unique<ConcatKernel>(dtype, axis); }, "cuda:concat");
    }
    case OpKind::kSlice: {
      const int64_t axis = node.attrs.get_int("axis", 1), start = node.attrs.get_int("start", 0);
      return make_op([=] { return std::make_unique<SliceKernel>(dtype, axis, start); }, "cuda:slice");
    }
    default: {
      const DataType x_dtype = graph.value(node.inputs[0]).dtype;
      const char* implementation = node.op == OpKind::kReorder ? "cuda:reorder" : "cuda:copy";
      return make_op([=] { return std::make_unique<CopyKernel>(x_dtype, dtype); }, implementation);
    }
  }
}

}  // namespace inferd::cuda
