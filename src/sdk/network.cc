// NetworkDefinition: each add* checks its arguments, adds IR nodes with the canonical
// attributes of ir/op.cc and infers the output's shape at once, so that a mistake is
// reported at the layer that made it.
#include <algorithm>
#include <atomic>
#include <cctype>

#include "ir/shape_inference.h"
#include "sdk/sdk_internal.h"

namespace inferd::v1 {
namespace {

std::atomic<uint64_t> next_network_tag{1};

std::vector<int64_t> pads4(Dims2 p) { return {p.h, p.w, p.h, p.w}; }
std::vector<int64_t> pair(Dims2 d) { return {d.h, d.w}; }

bool positive(Dims2 d) { return d.h > 0 && d.w > 0; }
bool non_negative(Dims2 d) { return d.h >= 0 && d.w >= 0; }

}  // namespace

// --- Impl: the IR side ---------------------------------------------------------------

ir::ValueId NetworkDefinition::Impl::fail(const std::string& message, StatusCode code) {
  if (error.isOk()) error = Status(code, "network '" + graph.name + "': " + message);
  return ir::kNoValue;
}

ir::ValueId NetworkDefinition::Impl::fail_layer(const std::string& layer, const std::string& message) {
  return fail("layer '" + layer + "': " + message);
}

std::string NetworkDefinition::Impl::layer_name(const std::string& requested, const std::string& kind) const {
  if (!requested.empty()) return requested;
  return graph.unique_value_name(kind + "_" + std::to_string(layers + 1));
}

ir::ValueId NetworkDefinition::Impl::weights(const std::string& layer, const std::string& what, Weights w,
                                             Shape shape) {
  const int64_t need = element_count(shape);
  if (w.count != need)
    return fail_layer(layer, what + " weights hold " + std::to_string(w.count) + " values, the layer needs " +
                                 std::to_string(need) + " (" + to_string(shape) + ")");
  if (w.values == nullptr) return fail_layer(layer, what + " weights point to no values");
  return graph.add_constant(graph.unique_value_name(layer + "_" + what),
                            inferd::Tensor::from_floats(std::move(shape), {w.values, static_cast<size_t>(w.count)}));
}

ir::ValueId NetworkDefinition::Impl::add_layer(const std::string& name, ir::OpKind op,
                                               std::vector<ir::ValueId> inputs, ir::Attributes attrs) {
  if (graph.find_value(name)) return fail_layer(name, "the name is taken by another tensor of the network");
  ir::Value value;
  value.name = name;
  const ir::ValueId out = graph.add_value(std::move(value));
  ir::Node& n = graph.add_node({.name = name, .op = op, .inputs = std::move(inputs), .outputs = {out}, .attrs = std::move(attrs)});
  if (inferd::Status s = ir::infer_node_shapes(graph, n); !s.is_ok()) {
    graph.nodes().pop_back();  // the value stays, unread: the build drops it
    return fail(s.message(), to_public(s).code());
  }
  ++layers;
  return out;
}

bool NetworkDefinition::Impl::check_grouped_window(const std::string& layer, ir::ValueId x, int64_t outputs,
                                                   int64_t groups, bool geometry_ok, const std::string& geometry_error) {
  const Shape& xs = shape(x);
  std::string problem;
  if (xs.size() != 4) {
    problem = "input of shape " + to_string(xs) + " is not NCHW";
  } else if (outputs < 1 || groups < 1 || xs[1] % groups != 0 || outputs % groups != 0) {
    problem = "numOutputs " + std::to_string(outputs) + " and input channels " + std::to_string(xs[1]) +
              " must both divide into groups " + std::to_string(groups);
  } else if (!geometry_ok) {
    problem = geometry_error;
  }
  if (problem.empty()) return true;
  fail_layer(layer, problem);
  return false;
}

std::vector<ir::ValueId> NetworkDefinition::Impl::weighted_inputs(const std::string& layer, ir::ValueId x,
                                                                  Weights kernel, Shape kernel_shape, Weights bias,
                                                                  int64_t outputs) {
  std::vector<ir::ValueId> in{x, weights(layer, "kernel", kernel, std::move(kernel_shape))};
  if (in[1] == ir::kNoValue) return {};
  if (bias.count != 0) {
    in.push_back(weights(layer, "bias", bias, {outputs}));
    if (in[2] == ir::kNoValue) return {};
  }
  return in;
}

ir::ValueId NetworkDefinition::Impl::flattened(const std::string& layer, ir::ValueId x) {
  if (shape(x).size() == 2) return x;
  ir::Attributes a;
  a.set("axis", int64_t{1});
  return add_layer(graph.unique_value_name(layer + "_flatten"), ir::OpKind::kFlatten, {x}, std::move(a));
}

// --- the public class ------------------------------------------------------------------

NetworkDefinition::NetworkDefinition(const std::string& name) : impl_(std::make_unique<Impl>()) {
  impl_->graph.name = name;
  impl_->tag = next_network_tag++;
}
NetworkDefinition::~NetworkDefinition() = default;
NetworkDefinition::NetworkDefinition(NetworkDefinition&&) noexcept = default;
NetworkDefinition& NetworkDefinition::operator=(NetworkDefinition&&) noexcept = default;

Tensor NetworkDefinition::wrap(int32_t value) const {
  if (value == ir::kNoValue) return {};
  return Tensor(value, impl_->tag);
}

int32_t NetworkDefinition::unwrap(Tensor t) {
  if (!t.isValid()) return ir::kNoValue;  // the error that made it is recorded already
  if (t.network_ != impl_->tag || static_cast<size_t>(t.id_) >= impl_->graph.value_count()) {
    impl_->fail("a tensor of another network was passed to it");
    return ir::kNoValue;
  }
  return t.id_;
}

Tensor NetworkDefinition::addInput(const std::string& name, const std::vector<int64_t>& dims) {
  Impl& m = *impl_;
  if (name.empty()) return wrap(m.fail("an input needs a name"));
  if (m.graph.find_value(name)) return wrap(m.fail("input '" + name + "': the name is taken"));
  if (dims.size() < 2) return wrap(m.fail("input '" + name + "': dims " + to_string(dims) + " need the batch and at least one more"));
  for (size_t i = 0; i < dims.size(); ++i)
    if (dims[i] <= 0 && !(i == 0 && dims[i] == kDynamicDim))
      return wrap(m.fail("input '" + name + "': dims " + to_string(dims) +
                         " must be positive (the batch, dim 0, may be -1)"));
  ir::Value value;
  value.name = name;
  value.shape = dims;
  const ir::ValueId id = m.graph.add_value(std::move(value));
  m.graph.inputs.push_back(id);
  return wrap(id);
}

Tensor NetworkDefinition::addConvolution(Tensor input, const ConvolutionDesc& d, Weights kernel, Weights bias,
                                         const std::string& name) {
  const ir::ValueId x = unwrap(input);
  if (x == ir::kNoValue) return {};
  Impl& m = *impl_;
  const std::string layer = m.layer_name(name, "conv");
  const bool geometry = positive(d.kernel) && positive(d.stride) && positive(d.dilation) && non_negative(d.padding);
  if (!m.check_grouped_window(layer, x, d.numOutputs, d.groups, geometry,
                              "kernel, stride and dilation must be positive, padding not negative"))
    return {};
  const Shape kernel_shape{d.numOutputs, m.shape(x)[1] / d.groups, d.kernel.h, d.kernel.w};
  std::vector<ir::ValueId> in = m.weighted_inputs(layer, x, kernel, kernel_shape, bias, d.numOutputs);
  if (in.empty()) return {};
  ir::Attributes a;
  a.set("strides", pair(d.stride));
  a.set("pads", pads4(d.padding));
  a.set("dilations", pair(d.dilation));
  a.set("group", d.groups);
  return wrap(m.add_layer(layer, ir::OpKind::kConv, std::move(in), std::move(a)));
}

Tensor NetworkDefinition::addDeconvolution(Tensor input, const DeconvolutionDesc& d, Weights kernel, Weights bias,
                                           const std::string& name) {
  const ir::ValueId x = unwrap(input);
  if (x == ir::kNoValue) return {};
  Impl& m = *impl_;
  const std::string layer = m.layer_name(name, "deconv");
  const bool geometry = positive(d.kernel) && positive(d.stride) && positive(d.dilation) && non_negative(d.padding) &&
                        non_negative(d.outputPadding);
  if (!m.check_grouped_window(layer, x, d.numOutputs, d.groups, geometry,
                              "kernel, stride and dilation must be positive, paddings not negative"))
    return {};
  const Shape kernel_shape{m.shape(x)[1], d.numOutputs / d.groups, d.kernel.h, d.kernel.w};
  std::vector<ir::ValueId> in = m.weighted_inputs(layer, x, kernel, kernel_shape, bias, d.numOutputs);
  if (in.empty()) return {};
  ir::Attributes a;
  a.set("strides", pair(d.stride));
  a.set("pads", pads4(d.padding));
  a.set("dilations", pair(d.dilation));
  a.set("output_padding", pair(d.outputPadding));
  a.set("group", d.groups);
  return wrap(m.add_layer(layer, ir::OpKind::kConvTranspose, std::move(in), std::move(a)));
}

Tensor NetworkDefinition::addActivation(Tensor input, ActivationType type, float alpha, float beta,
                                        const std::string& name) {
  const ir::ValueId x = unwrap(input);
  if (x == ir::kNoValue) return {};
  Impl& m = *impl_;
  ir::Attributes a;
  ir::OpKind op = ir::OpKind::kRelu;
  switch (type) {
    case ActivationType::kRelu: break;
    case ActivationType::kLeakyRelu: op = ir::OpKind::kLeakyRelu; a.set("alpha", alpha); break;
    case ActivationType::kClip:
      op = ir::OpKind::kClip;
      if (!(alpha <= beta)) return wrap(m.fail_layer(m.layer_name(name, "clip"), "clip range [alpha, beta] is empty"));
      a.set("min", alpha);
      a.set("max", beta);
      break;
    case ActivationType::kSigmoid: op = ir::OpKind::kSigmoid; break;
    case ActivationType::kTanh: op = ir::OpKind::kTanh; break;
  }
  std::string kind(ir::to_string(op));
  std::transform(kind.begin(), kind.end(), kind.begin(), [](unsigned char c) { return std::tolower(c); });
  return wrap(m.add_layer(m.layer_name(name, kind), op, {x}, std::move(a)));
}

Tensor NetworkDefinition::addPooling(Tensor input, const PoolingDesc& d, const std::string& name) {
  const ir::ValueId x = unwrap(input);
  if (x == ir::kNoValue) return {};
  Impl& m = *impl_;
  const bool max = d.type == PoolingType::kMax;
  const std::string layer = m.layer_name(name, max ? "maxpool" : "avgpool");
  const Shape& xs = m.shape(x);
  if (xs.size() != 4) return wrap(m.fail_layer(layer, "input of shape " + to_string(xs) + " is not NCHW"));
  if (d.global && !max) return wrap(m.add_layer(layer, ir::OpKind::kGlobalAveragePool, {x}));
  const Dims2 window = d.global ? Dims2{xs[2], xs[3]} : d.window;
  const Dims2 stride = d.global ? Dims2{1, 1} : d.stride;
  const Dims2 padding = d.global ? Dims2{0, 0} : d.padding;
  if (!positive(window) || !positive(stride) || !non_negative(padding))
    return wrap(m.fail_layer(layer, "window and stride must be positive, padding not negative"));
  if (padding.h >= window.h || padding.w >= window.w)
    return wrap(m.fail_layer(layer, "padding must be smaller than the window"));
  ir::Attributes a;
  a.set("kernel_shape", pair(window));
  a.set("strides", pair(stride));
  a.set("pads", pads4(padding));
  a.set("ceil_mode", int64_t{d.roundUp ? 1 : 0});
  a.set("count_include_pad", int64_t{d.countPadding ? 1 : 0});
  return wrap(m.add_layer(layer, max ? ir::OpKind::kMaxPool : ir::OpKind::kAveragePool, {x}, std::move(a)));
}

Tensor NetworkDefinition::addElementWise(Tensor a, Tensor b, ElementWiseOperation op, const std::string& name) {
  const ir::ValueId x = unwrap(a), y = unwrap(b);
  if (x == ir::kNoValue || y == ir::kNoValue) return {};
  const ir::OpKind kind = op == ElementWiseOperation::kSum    ? ir::OpKind::kAdd
                          : op == ElementWiseOperation::kProd ? ir::OpKind::kMul
                                                              : ir::OpKind::kMax;
  const char* prefix = op == ElementWiseOperation::kSum ? "add" : op == ElementWiseOperation::kProd ? "mul" : "max";
  return wrap(impl_->add_layer(impl_->layer_name(name, prefix), kind, {x, y}));
}

Tensor NetworkDefinition::addLRN(Tensor input, int64_t window, float alpha, float beta, float k,
                                 const std::string& name) {
  const ir::ValueId x = unwrap(input);
  if (x == ir::kNoValue) return {};
  Impl& m = *impl_;
  const std::string layer = m.layer_name(name, "lrn");
  if (window < 1 || window % 2 == 0) return wrap(m.fail_layer(layer, "window " + std::to_string(window) + " must be odd and positive"));
  if (m.shape(x).size() != 4) return wrap(m.fail_layer(layer, "input of shape " + to_string(m.shape(x)) + " is not NCHW"));
  ir::Attributes a;
  a.set("size", window);
  a.set("alpha", alpha);
  a.set("beta", beta);
  a.set("bias", k);
  return wrap(m.add_layer(layer, ir::OpKind::kLRN, {x}, std::move(a)));
}

Tensor NetworkDefinition::addFullyConnected(Tensor input, int64_t numOutputs, Weights kernel, Weights bias,
                                            const std::string& name) {
  const ir::ValueId x0 = unwrap(input);
  if (x0 == ir::kNoValue) return {};
  Impl& m = *impl_;
  const std::string layer = m.layer_name(name, "fc");
  if (numOutputs < 1) return wrap(m.fail_layer(layer, "numOutputs must be positive"));
  const ir::ValueId x = m.flattened(layer, x0);
  if (x == ir::kNoValue) return {};
  std::vector<ir::ValueId> in{x, m.weights(layer, "kernel", kernel, {numOutputs, m.shape(x)[1]})};
  if (in[1] == ir::kNoValue) return {};
  if (bias.count != 0) {
    in.push_back(m.weights(layer, "bias", bias, {numOutputs}));
    if (in[2] == ir::kNoValue) return {};
  }
  ir::Attributes a;
  a.set("alpha", 1.0f);
  a.set("beta", 1.0f);
  a.set("transA", int64_t{0});
  a.set("transB", int64_t{1});  // kernel is [numOutputs, K]
  return wrap(m.add_layer(layer, ir::OpKind::kGemm, std::move(in), std::move(a)));
}

Tensor NetworkDefinition::addSoftMax(Tensor input, const std::string& name) {
  const ir::ValueId x0 = unwrap(input);
  if (x0 == ir::kNoValue) return {};
  Impl& m = *impl_;
  const std::string layer = m.layer_name(name, "softmax");
  const ir::ValueId x = m.flattened(layer, x0);
  if (x == ir::kNoValue) return {};
  ir::Attributes a;
  a.set("axis", int64_t{-1});
  return wrap(m.add_layer(layer, ir::OpKind::kSoftmax, {x}, std::move(a)));
}

Tensor NetworkDefinition::addConcatenation(const std::vector<Tensor>& inputs, int axis, const std::string& name) {
  std::vector<ir::ValueId> in;
  for (const Tensor& t : inputs) {
    in.push_back(unwrap(t));
    if (in.back() == ir::kNoValue) return {};
  }
  Impl& m = *impl_;
  const std::string layer = m.layer_name(name, "concat");
  if (in.empty()) return wrap(m.fail_layer(layer, "has no inputs"));
  if (axis < 1) return wrap(m.fail_layer(layer, "axis " + std::to_string(axis) + ": only axes after the batch"));
  ir::Attributes a;
  a.set("axis", int64_t{axis});
  return wrap(m.add_layer(layer, ir::OpKind::kConcat, std::move(in), std::move(a)));
}

Status NetworkDefinition::markOutput(Tensor tensor, const std::string& name) {
  const ir::ValueId id = unwrap(tensor);
  Impl& m = *impl_;
  if (id == ir::kNoValue) {
    if (m.error.isOk()) m.fail("markOutput: the tensor is invalid");
    return m.error;
  }
  ir::ValueId out = id;
  if (!name.empty() && name != m.graph.value(id).name) {
    // A value's name is fixed: a renamed output is an Identity the optimizer removes,
    // keeping the name.
    out = m.add_layer(name, ir::OpKind::kIdentity, {id});
    if (out == ir::kNoValue) return m.error;
  }
  if (m.graph.is_graph_output(out)) {
    Status s(StatusCode::kInvalidArgument, "network '" + m.graph.name + "': '" + m.graph.value(out).name +
                                               "' is marked as an output twice");
    if (m.error.isOk()) m.error = s;
    return s;
  }
  m.graph.outputs.push_back(out);
  return Status::success();
}

std::vector<int64_t> NetworkDefinition::dimensions(Tensor tensor) const {
  if (!tensor.isValid() || tensor.network_ != impl_->tag ||
      static_cast<size_t>(tensor.id_) >= impl_->graph.value_count())
    return {};
  return impl_->graph.value(tensor.id_).shape;
}

Tensor NetworkDefinition::input(int i) const {
  const auto& ids = impl_->graph.inputs;
  return i >= 0 && static_cast<size_t>(i) < ids.size() ? wrap(ids[static_cast<size_t>(i)]) : Tensor();
}

Tensor NetworkDefinition::output(int i) const {
  const auto& ids = impl_->graph.outputs;
  return i >= 0 && static_cast<size_t>(i) < ids.size() ? wrap(ids[static_cast<size_t>(i)]) : Tensor();
}

const std::string& NetworkDefinition::name() const { return impl_->graph.name; }
int NetworkDefinition::numLayers() const { return static_cast<int>(impl_->graph.nodes().size()); }
int NetworkDefinition::numInputs() const { return static_cast<int>(impl_->graph.inputs.size()); }
int NetworkDefinition::numOutputs() const { return static_cast<int>(impl_->graph.outputs.size()); }
const Status& NetworkDefinition::status() const { return impl_->error; }

}  // namespace inferd::v1
