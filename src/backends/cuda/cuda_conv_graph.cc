// The operation graph of a Conv node (cuda_conv_graph.h): tensors, the convolution and
// its pointwise epilogue, finalized into one CUDNN_BACKEND_OPERATIONGRAPH_DESCRIPTOR.
#include "backends/cuda/cuda_conv_graph.h"

#include <limits>

namespace inferd::cuda {

BackendDescriptor& BackendDescriptor::operator=(BackendDescriptor&& o) noexcept {
  if (this != &o) {
    if (d_) cudnnBackendDestroyDescriptor(d_);
    d_ = o.d_;
    o.d_ = nullptr;
  }
  return *this;
}

BackendDescriptor::~BackendDescriptor() {
  if (d_) cudnnBackendDestroyDescriptor(d_);
}

Result<BackendDescriptor> BackendDescriptor::create(cudnnBackendDescriptorType_t type) {
  BackendDescriptor d;
  CUDNN_RETURN_IF_ERROR(cudnnBackendCreateDescriptor(type, &d.d_));
  return d;
}

Status set_backend_attribute(cudnnBackendDescriptor_t d, cudnnBackendAttributeName_t name,
                             cudnnBackendAttributeType_t type, int64_t count, const void* values, const char* what) {
  const cudnnStatus_t st = cudnnBackendSetAttribute(d, name, type, count, values);
  return cudnn_status(st, "cudnnBackendSetAttribute").with_context(what);
}

Status finalize_backend(cudnnBackendDescriptor_t d, const char* what) {
  return cudnn_status(cudnnBackendFinalize(d), "cudnnBackendFinalize").with_context(what);
}

bool graph_activation_supported(const ir::Activation& act) {
  using K = ir::Activation::Kind;
  return act.kind == K::kIdentity || act.kind == K::kRelu || act.kind == K::kClip || act.kind == K::kSigmoid;
}

namespace {

using K = ir::Activation::Kind;

// W [K, C/g, kH, kW] as the pack code lays it out: KRSC for NHWC activations, else KCRS.
GraphTensorLayout filter_layout(const ConvSpec& s) {
  const int64_t k = s.out_channels, c = s.in_per_group, r = s.kernel_h, q = s.kernel_w;
  GraphTensorLayout l;
  l.dims = {k, c, r, q};
  l.strides = s.channels_last ? std::array<int64_t, 4>{r * q * c, 1, q * c, c} : std::array<int64_t, 4>{c * r * q, r * q, q, 1};
  return l;
}

// bias [1, K, 1, 1]; strides of the unit dims follow the output's channel order.
GraphTensorLayout bias_layout(const ConvSpec& s, bool channels_last) {
  const int64_t k = s.out_channels;
  GraphTensorLayout l;
  l.dims = {1, k, 1, 1};
  l.strides = channels_last ? std::array<int64_t, 4>{k, 1, k, k} : std::array<int64_t, 4>{k, 1, 1, 1};
  return l;
}

// The float graph's types: everything in the spec's dtype, fp32 accumulation at every
// precision (as the legacy path does), no scale.
ConvGraphTypes float_types(cudnnDataType_t type) {
  ConvGraphTypes t;
  t.x = t.w = t.y = t.bias = t.residual = type;
  t.compute = CUDNN_DATA_FLOAT;
  t.scale = false;
  return t;
}

// cuDNN's clip attributes are finite floats: an infinite bound becomes the largest float.
float finite(float v) {
  constexpr float kMax = std::numeric_limits<float>::max();
  return v > kMax ? kMax : (v < -kMax ? -kMax : v);
}

}  // namespace

cudnnBackendDescriptor_t ConvOpGraph::tensor(int64_t uid) const {
  for (const auto& [id, d] : tensors_)
    if (id == uid) return d.get();
  return nullptr;
}

Status ConvOpGraph::add_tensor(int64_t uid, cudnnDataType_t type, const GraphTensorLayout& layout, int64_t alignment,
                               bool is_virtual) {
  ASSIGN_OR_RETURN(BackendDescriptor t, BackendDescriptor::create(CUDNN_BACKEND_TENSOR_DESCRIPTOR));
  const cudnnBackendDescriptor_t d = t.get();
  GRAPH_SET(d, CUDNN_ATTR_TENSOR_DATA_TYPE, CUDNN_TYPE_DATA_TYPE, 1, &type);
  GRAPH_SET(d, CUDNN_ATTR_TENSOR_DIMENSIONS, CUDNN_TYPE_INT64, 4, layout.dims.data());
  GRAPH_SET(d, CUDNN_ATTR_TENSOR_STRIDES, CUDNN_TYPE_INT64, 4, layout.strides.data());
  GRAPH_SET(d, CUDNN_ATTR_TENSOR_UNIQUE_ID, CUDNN_TYPE_INT64, 1, &uid);
  GRAPH_SET(d, CUDNN_ATTR_TENSOR_BYTE_ALIGNMENT, CUDNN_TYPE_INT64, 1, &alignment);
  GRAPH_SET(d, CUDNN_ATTR_TENSOR_IS_VIRTUAL, CUDNN_TYPE_BOOLEAN, 1, &is_virtual);
  RETURN_IF_ERROR(finalize_backend(d, "tensor descriptor"));
  tensors_.emplace_back(uid, std::move(t));
  return Status::ok();
}

Status ConvOpGraph::add_conv(const ConvSpec& s, cudnnDataType_t compute, int64_t out_uid) {
  ASSIGN_OR_RETURN(BackendDescriptor conv, BackendDescriptor::create(CUDNN_BACKEND_CONVOLUTION_DESCRIPTOR));
  const cudnnBackendDescriptor_t c = conv.get();
  const cudnnConvolutionMode_t mode = CUDNN_CROSS_CORRELATION;
  const int64_t spatial = 2;
  const int64_t dilations[2] = {s.dilation_h, s.dilation_w}, strides[2] = {s.stride_h, s.stride_w};
  const int64_t pads[2] = {s.pad_h, s.pad_w};  // conv_spec admits symmetric pads only
  GRAPH_SET(c, CUDNN_ATTR_CONVOLUTION_COMP_TYPE, CUDNN_TYPE_DATA_TYPE, 1, &compute);
  GRAPH_SET(c, CUDNN_ATTR_CONVOLUTION_CONV_MODE, CUDNN_TYPE_CONVOLUTION_MODE, 1, &mode);
  GRAPH_SET(c, CUDNN_ATTR_CONVOLUTION_SPATIAL_DIMS, CUDNN_TYPE_INT64, 1, &spatial);
  GRAPH_SET(c, CUDNN_ATTR_CONVOLUTION_DILATIONS, CUDNN_TYPE_INT64, 2, dilations);
  GRAPH_SET(c, CUDNN_ATTR_CONVOLUTION_FILTER_STRIDES, CUDNN_TYPE_INT64, 2, strides);
  GRAPH_SET(c, CUDNN_ATTR_CONVOLUTION_PRE_PADDINGS, CUDNN_TYPE_INT64, 2, pads);
  GRAPH_SET(c, CUDNN_ATTR_CONVOLUTION_POST_PADDINGS, CUDNN_TYPE_INT64, 2, pads);
  RETURN_IF_ERROR(finalize_backend(c, "convolution descriptor"));

  ASSIGN_OR_RETURN(BackendDescriptor op, BackendDescriptor::create(CUDNN_BACKEND_OPERATION_CONVOLUTION_FORWARD_DESCRIPTOR));
  const cudnnBackendDescriptor_t o = op.get();
  const cudnnBackendDescriptor_t x = tensor(kUidX), w = tensor(kUidW), y = tensor(out_uid);
  const float alpha = 1.0f, beta = 0.0f;
  GRAPH_SET(o, CUDNN_ATTR_OPERATION_CONVOLUTION_FORWARD_X, CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, &x);
  GRAPH_SET(o, CUDNN_ATTR_OPERATION_CONVOLUTION_FORWARD_W, CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, &w);
  GRAPH_SET(o, CUDNN_ATTR_OPERATION_CONVOLUTION_FORWARD_Y, CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, &y);
  GRAPH_SET(o, CUDNN_ATTR_OPERATION_CONVOLUTION_FORWARD_CONV_DESC, CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, &c);
  GRAPH_SET(o, CUDNN_ATTR_OPERATION_CONVOLUTION_FORWARD_ALPHA, CUDNN_TYPE_FLOAT, 1, &alpha);
  GRAPH_SET(o, CUDNN_ATTR_OPERATION_CONVOLUTION_FORWARD_BETA, CUDNN_TYPE_FLOAT, 1, &beta);
  RETURN_IF_ERROR(finalize_backend(o, "convolution forward operation"));
  helpers_.push_back(std::move(conv));
  ops_.push_back(std::move(op));
  return Status::ok();
}

// out = mode(in, other) for ADD (other = bias or residual), or out = act(in) when `act`
// is given (other_uid 0): RELU_FWD with clips for Relu and Clip, SIGMOID_FWD for Sigmoid.
Status ConvOpGraph::add_pointwise(cudnnPointwiseMode_t mode, const ir::Activation* act, int64_t in_uid,
                                  int64_t other_uid, int64_t out_uid) {
  ASSIGN_OR_RETURN(BackendDescriptor pw, BackendDescriptor::create(CUDNN_BACKEND_POINTWISE_DESCRIPTOR));
  const cudnnBackendDescriptor_t p = pw.get();
  const cudnnDataType_t math = CUDNN_DATA_FLOAT;
  GRAPH_SET(p, CUDNN_ATTR_POINTWISE_MODE, CUDNN_TYPE_POINTWISE_MODE, 1, &mode);
  GRAPH_SET(p, CUDNN_ATTR_POINTWISE_MATH_PREC, CUDNN_TYPE_DATA_TYPE, 1, &math);
  if (act && act->kind == K::kClip) {
    const float lower = finite(act->min), upper = finite(act->max);
    GRAPH_SET(p, CUDNN_ATTR_POINTWISE_RELU_LOWER_CLIP, CUDNN_TYPE_FLOAT, 1, &lower);
    GRAPH_SET(p, CUDNN_ATTR_POINTWISE_RELU_UPPER_CLIP, CUDNN_TYPE_FLOAT, 1, &upper);
  }
  RETURN_IF_ERROR(finalize_backend(p, "pointwise descriptor"));

  ASSIGN_OR_RETURN(BackendDescriptor op, BackendDescriptor::create(CUDNN_BACKEND_OPERATION_POINTWISE_DESCRIPTOR));
  const cudnnBackendDescriptor_t o = op.get();
  const cudnnBackendDescriptor_t in = tensor(in_uid), out = tensor(out_uid);
  GRAPH_SET(o, CUDNN_ATTR_OPERATION_POINTWISE_PW_DESCRIPTOR, CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, &p);
  GRAPH_SET(o, CUDNN_ATTR_OPERATION_POINTWISE_XDESC, CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, &in);
  if (other_uid != 0) {
    const cudnnBackendDescriptor_t other = tensor(other_uid);
    GRAPH_SET(o, CUDNN_ATTR_OPERATION_POINTWISE_BDESC, CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, &other);
  }
  GRAPH_SET(o, CUDNN_ATTR_OPERATION_POINTWISE_YDESC, CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, &out);
  RETURN_IF_ERROR(finalize_backend(o, "pointwise operation"));
  helpers_.push_back(std::move(pw));
  ops_.push_back(std::move(op));
  return Status::ok();
}

Status ConvOpGraph::finalize(cudnnHandle_t handle) {
  ASSIGN_OR_RETURN(graph_, BackendDescriptor::create(CUDNN_BACKEND_OPERATIONGRAPH_DESCRIPTOR));
  std::vector<cudnnBackendDescriptor_t> ops;
  for (const BackendDescriptor& op : ops_) ops.push_back(op.get());
  GRAPH_SET(graph_.get(), CUDNN_ATTR_OPERATIONGRAPH_OPS, CUDNN_TYPE_BACKEND_DESCRIPTOR, static_cast<int64_t>(ops.size()),
            ops.data());
  // Deprecated since cuDNN 9 (the device is the current one), still accepted; set so that
  // older 9.x releases that want it have it. A refusal is not an error.
  (void)cudnnBackendSetAttribute(graph_.get(), CUDNN_ATTR_OPERATIONGRAPH_HANDLE, CUDNN_TYPE_HANDLE, 1, &handle);
  return finalize_backend(graph_.get(), "operation graph");
}

// Chain: conv -> T0 [* scale] [+ bias] [+ R] [act] -> Y; the last operation writes Y,
// every earlier output is a virtual fp32 tensor laid out like Y.
Result<std::shared_ptr<const ConvOpGraph>> ConvOpGraph::build(cudnnHandle_t handle, const ConvSpec& s,
                                                              const ConvGraphShape& shape) {
  auto g = std::make_shared<ConvOpGraph>();
  ASSIGN_OR_RETURN(const cudnnDataType_t type, cudnn_data_type(s.dtype));
  const ConvGraphTypes t = shape.types ? *shape.types : float_types(type);
  const bool fuse_act = shape.fuse_activation && !s.act.is_identity();
  if (fuse_act && !graph_activation_supported(s.act)) return unimplemented("activation not expressible in the graph");
  g->has_bias_ = s.has_bias;
  g->has_residual_ = s.has_residual;
  g->has_scale_ = t.scale;
  const int stages = 1 + (t.scale ? 1 : 0) + (s.has_bias ? 1 : 0) + (s.has_residual ? 1 : 0) + (fuse_act ? 1 : 0);
  const bool y_channels_last = shape.y.strides[1] == 1;
  const GraphTensorLayout bias = bias_layout(s, y_channels_last);
  RETURN_IF_ERROR(g->add_tensor(kUidX, t.x, shape.x, shape.x_alignment, false));
  RETURN_IF_ERROR(g->add_tensor(kUidW, t.w, filter_layout(s), 16, false));
  if (t.scale) RETURN_IF_ERROR(g->add_tensor(kUidScale, CUDNN_DATA_FLOAT, bias_layout(s, y_channels_last), 16, false));
  if (s.has_bias) RETURN_IF_ERROR(g->add_tensor(kUidBias, t.bias, bias, 16, false));
  if (s.has_residual) RETURN_IF_ERROR(g->add_tensor(kUidResidual, t.residual, shape.y, shape.r_alignment, false));
  RETURN_IF_ERROR(g->add_tensor(kUidY, t.y, shape.y, shape.y_alignment, false));
  for (int i = 0; i + 1 < stages; ++i)
    RETURN_IF_ERROR(g->add_tensor(kUidVirtual + i, CUDNN_DATA_FLOAT, shape.y, 16, true));
  // Output uid of stage i: virtual until the last.
  int stage = 0;
  const auto out_of = [&](int i) -> int64_t { return i + 1 == stages ? kUidY : kUidVirtual + i; };
  RETURN_IF_ERROR(g->add_conv(s, t.compute, out_of(stage)));
  const auto binary = [&](cudnnPointwiseMode_t mode, int64_t other) -> Status {
    RETURN_IF_ERROR(g->add_pointwise(mode, nullptr, out_of(stage), other, out_of(stage + 1)));
    ++stage;
    return Status::ok();
  };
  if (t.scale) RETURN_IF_ERROR(binary(CUDNN_POINTWISE_MUL, kUidScale));
  if (s.has_bias) RETURN_IF_ERROR(binary(CUDNN_POINTWISE_ADD, kUidBias));
  if (s.has_residual) RETURN_IF_ERROR(binary(CUDNN_POINTWISE_ADD, kUidResidual));
  if (fuse_act) {
    const cudnnPointwiseMode_t mode = s.act.kind == K::kSigmoid ? CUDNN_POINTWISE_SIGMOID_FWD : CUDNN_POINTWISE_RELU_FWD;
    RETURN_IF_ERROR(g->add_pointwise(mode, &s.act, out_of(stage), 0, out_of(stage + 1)));
  }
  RETURN_IF_ERROR(g->finalize(handle));
  return std::shared_ptr<const ConvOpGraph>(std::move(g));
}

}  // namespace inferd::cuda
