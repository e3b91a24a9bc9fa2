#include "import/caffe/caffe_importer.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/tokenizer.h>
#include <google/protobuf/text_format.h>

#include <climits>
#include <map>
#include <set>
#include <vector>

#include "caffe_subset.pb.h"
#include "core/file.h"
#include "ir/shape_inference.h"

namespace inferd {
namespace {

using inferd_caffe::LayerParameter;
using inferd_caffe::NetParameter;

// The first error of the text parser, with its line and column.
class FirstError : public google::protobuf::io::ErrorCollector {
 public:
  void AddError(int line, google::protobuf::io::ColumnNumber column, const std::string& message) override {
    if (first.empty()) first = "line " + std::to_string(line + 1) + ", column " + std::to_string(column + 1) + ": " + message;
  }
  std::string first;
};

Result<NetParameter> parse_prototxt(std::string_view text) {
  NetParameter net;
  google::protobuf::TextFormat::Parser parser;
  FirstError errors;
  parser.RecordErrorsTo(&errors);
  parser.AllowUnknownField(true);  // training settings (param, weight_filler, ...) are not ours
  if (text.size() > INT_MAX || !parser.ParseFromString(std::string(text), &net))
    return invalid_argument("not a Caffe prototxt: " + (errors.first.empty() ? "too large" : errors.first));
  return net;
}

// Caffe writes weights as one message; protobuf's default limits would refuse large files.
Result<NetParameter> parse_caffemodel(std::span<const uint8_t> bytes) {
  if (bytes.size() > static_cast<size_t>(INT_MAX)) return unimplemented("weights files over 2 GiB are not supported");
  google::protobuf::io::CodedInputStream in(bytes.data(), static_cast<int>(bytes.size()));
  in.SetTotalBytesLimit(INT_MAX);
  NetParameter net;
  if (!net.ParseFromCodedStream(&in) || !in.ConsumedEntireMessage())
    return data_loss("the weights file is not a Caffe NetParameter (truncated or corrupt)");
  return net;
}

Result<Tensor> blob_tensor(const inferd_caffe::BlobProto& b) {
  Shape shape;
  if (b.has_shape()) {
    for (int64_t d : b.shape().dim()) shape.push_back(d);
  } else {
    shape = {b.num(), b.channels(), b.height(), b.width()};
  }
  int64_t count = 1;
  for (int64_t d : shape) {
    if (d < 0 || d > (int64_t{1} << 32)) return invalid_argument("a blob has dimension " + std::to_string(d));
    count *= d;
    if (count > (int64_t{1} << 34)) return invalid_argument("a blob is too large");
  }
  std::vector<float> values(b.data().begin(), b.data().end());
  if (values.empty()) values.assign(b.double_data().begin(), b.double_data().end());
  if (static_cast<int64_t>(values.size()) != count)
    return invalid_argument("a blob of shape " + to_string(shape) + " holds " + std::to_string(values.size()) +
                            " values");
  return Tensor::from_floats(shape, values);
}

class CaffeGraphBuilder {
 public:
  CaffeGraphBuilder(const NetParameter& weights, std::string file) : file_(std::move(file)) {
    for (const auto& l : weights.layer())
      if (l.blobs_size() > 0) weights_[l.name()] = &l;
  }

  Status add_legacy_inputs(const NetParameter& net) {
    for (int i = 0; i < net.input_size(); ++i) {
      Shape dims;
      if (i < net.input_shape_size()) {
        for (int64_t d : net.input_shape(i).dim()) dims.push_back(d);
      } else if (net.input_dim_size() >= 4 * (i + 1)) {
        for (int k = 0; k < 4; ++k) dims.push_back(net.input_dim(4 * i + k));
      } else {
        return invalid_argument(file_ + ": input '" + net.input(i) + "' has no input_shape or 4 input_dim values");
      }
      RETURN_IF_ERROR(add_input(net.input(i), dims));
    }
    return Status::ok();
  }

  Status add_layer(const LayerParameter& l) {
    Status s = convert(l);
    if (!s.is_ok()) return Status(s.code(), file_ + ": layer '" + l.name() + "' (" + l.type() + "): " + s.message());
    return s;
  }

  Result<ir::Graph> finish() {
    for (const auto& [name, id] : order_)
      if (!read_.count(id) && !is_input(id)) graph_.outputs.push_back(id);
    if (graph_.inputs.empty()) return invalid_argument(file_ + ": the network declares no input");
    if (graph_.outputs.empty()) return invalid_argument(file_ + ": the network computes nothing");
    RETURN_IF_ERROR(graph_.sort_topologically());
    if (Status s = ir::infer_shapes(graph_); !s.is_ok()) return Status(s.code(), file_ + ": " + s.message());
    return std::move(graph_);
  }

  ir::Graph& graph() { return graph_; }

 private:
  bool is_input(ir::ValueId id) const {
    for (auto in : graph_.inputs)
      if (in == id) return true;
    return false;
  }

  Status add_input(const std::string& name, Shape dims) {
    if (dims.size() != 4) return invalid_argument(file_ + ": input '" + name + "' must have 4 dims (N, C, H, W)");
    for (int64_t d : dims)
      if (d <= 0) return invalid_argument(file_ + ": input '" + name + "' has dims " + to_string(dims));
    dims[0] = kDynamicDim;
    ir::Value v;
    v.name = graph_.unique_value_name(name);
    v.shape = dims;
    const ir::ValueId id = graph_.add_value(std::move(v));
    graph_.inputs.push_back(id);
    define(name, id);
    return Status::ok();
  }

  void define(const std::string& blob, ir::ValueId id) {
    blobs_[blob] = id;
    order_.emplace_back(blob, id);
  }

  Result<ir::ValueId> bottom(const LayerParameter& l, int i) const {
    if (i >= l.bottom_size()) return invalid_argument("needs input #" + std::to_string(i));
    auto it = blobs_.find(l.bottom(i));
    if (it == blobs_.end()) return invalid_argument("reads '" + l.bottom(i) + "', which no earlier layer writes");
    return it->second;
  }

  Result<std::vector<ir::ValueId>> bottoms(const LayerParameter& l, int min_count) {
    if (l.bottom_size() < min_count) return invalid_argument("needs at least " + std::to_string(min_count) + " inputs");
    std::vector<ir::ValueId> ids;
    for (int i = 0; i < l.bottom_size(); ++i) {
      ASSIGN_OR_RETURN(ir::ValueId id, bottom(l, i));
      read_.insert(id);
      ids.push_back(id);
    }
    return ids;
  }

  // A node named `name` of `op` reading `inputs`; returns its new output value.
  ir::ValueId add_op(const std::string& name, const std::string& out_name, ir::OpKind op,
                     std::vector<ir::ValueId> inputs, ir::Attributes attrs) {
    ir::Value v;
    v.name = graph_.unique_value_name(out_name);
    const ir::ValueId out = graph_.add_value(std::move(v));
    ir::Node n;
    n.name = name;
    n.op = op;
    n.inputs = std::move(inputs);
    n.outputs = {out};
    n.attrs = std::move(attrs);
    graph_.add_node(std::move(n));
    return out;
  }

  // The layer's node: reads `inputs`, writes the layer's top (a new value even in place).
  Status emit(const LayerParameter& l, ir::OpKind op, std::vector<ir::ValueId> inputs, ir::Attributes attrs) {
    if (l.top_size() != 1) return invalid_argument("must have exactly one output");
    define(l.top(0), add_op(l.name(), l.top(0), op, std::move(inputs), std::move(attrs)));
    return Status::ok();
  }

  // `x` flattened to [N, rest] before the layer's own node (InnerProduct, Softmax).
  ir::ValueId flattened(const LayerParameter& l, ir::ValueId x) {
    ir::Attributes a;
    a.set("axis", int64_t{1});
    return add_op(l.name() + "_flatten", (l.top_size() > 0 ? l.top(0) : l.name()) + "_flatten", ir::OpKind::kFlatten,
                  {x}, std::move(a));
  }

  // Gives constant `id` the shape `shape` (same element count: the caller checked).
  void reshape_constant(ir::ValueId id, const Shape& shape) {
    ir::Value& v = graph_.value(id);
    v.shape = shape;
    v.constant = Tensor::from_floats(shape, v.constant->floats());
  }

  // The bias blob (#1) as [count]: Caffe may store it as [1,1,1,count].
  Result<ir::ValueId> bias(const LayerParameter& l, int64_t count) {
    ASSIGN_OR_RETURN(ir::ValueId b, weight(l, 1, "bias"));
    if (graph_.value(b).constant->size() != count) return invalid_argument("the bias does not have num_output values");
    reshape_constant(b, {count});
    return b;
  }

  Result<ir::ValueId> weight(const LayerParameter& l, int index, const std::string& what) {
    auto it = weights_.find(l.name());
    if (it == weights_.end()) return invalid_argument("the weights file has no blobs for it");
    if (index >= it->second->blobs_size())
      return invalid_argument("the weights file has no " + what + " blob (#" + std::to_string(index) + ")");
    auto t = blob_tensor(it->second->blobs(index));
    if (!t.is_ok()) return Status(t.status().code(), what + ": " + t.status().message());
    return graph_.add_constant(graph_.unique_value_name(l.name() + "_" + what), std::move(t).value());
  }

  Status convert(const LayerParameter& l);
  Status convolution(const LayerParameter& l);
  Status pooling(const LayerParameter& l);
  Status inner_product(const LayerParameter& l);
  Status eltwise(const LayerParameter& l);
  Status pass_through(const LayerParameter& l);

  std::string file_;
  ir::Graph graph_;
  std::map<std::string, const LayerParameter*> weights_;
  std::map<std::string, ir::ValueId> blobs_;                     // blob name -> its latest value
  std::vector<std::pair<std::string, ir::ValueId>> order_;       // every value defined, in order
  std::set<ir::ValueId> read_;
};

// Caffe's two spellings of a 2-D window parameter: `name: v` (repeated, 1 or 2 values) or
// `name_h`/`name_w`.
std::vector<int64_t> pair_of(const google::protobuf::RepeatedField<uint32_t>& both, bool has_h, uint32_t h,
                             uint32_t w, int64_t fallback) {
  if (has_h) return {h, w};
  if (both.empty()) return {fallback, fallback};
  if (both.size() == 1) return {both[0], both[0]};
  return {both[0], both[1]};
}

Status CaffeGraphBuilder::convolution(const LayerParameter& l) {
  const auto& p = l.convolution_param();
  if (p.axis() != 1) return unimplemented("axis " + std::to_string(p.axis()) + " (only 1)");
  ASSIGN_OR_RETURN(auto in, bottoms(l, 1));
  ASSIGN_OR_RETURN(ir::ValueId w, weight(l, 0, "weights"));
  const Shape ws = graph_.value(w).shape;  // a copy: adding the bias may move the values
  const auto kernel = pair_of(p.kernel_size(), p.has_kernel_h(), p.kernel_h(), p.kernel_w(), 0);
  if (ws.size() != 4 || ws[0] != static_cast<int64_t>(p.num_output()) || ws[2] != kernel[0] || ws[3] != kernel[1])
    return invalid_argument("weights of shape " + to_string(ws) + " do not match num_output " +
                            std::to_string(p.num_output()) + " and kernel " + std::to_string(kernel[0]) + "x" +
                            std::to_string(kernel[1]));
  std::vector<ir::ValueId> inputs{in[0], w};
  if (p.bias_term()) {
    ASSIGN_OR_RETURN(ir::ValueId b, bias(l, ws[0]));
    inputs.push_back(b);
  }
  const auto pads = pair_of(p.pad(), p.has_pad_h(), p.pad_h(), p.pad_w(), 0);
  const auto strides = pair_of(p.stride(), p.has_stride_h(), p.stride_h(), p.stride_w(), 1);
  std::vector<int64_t> dilations{1, 1};
  if (p.dilation_size() >= 1) dilations = {p.dilation(0), p.dilation(p.dilation_size() > 1 ? 1 : 0)};
  ir::Attributes a;
  a.set("strides", strides);
  a.set("pads", std::vector<int64_t>{pads[0], pads[1], pads[0], pads[1]});
  a.set("dilations", dilations);
  a.set("group", static_cast<int64_t>(p.group()));
  return emit(l, ir::OpKind::kConv, std::move(inputs), std::move(a));
}

Status CaffeGraphBuilder::pooling(const LayerParameter& l) {
  const auto& p = l.pooling_param();
  ASSIGN_OR_RETURN(auto in, bottoms(l, 1));
  using Pool = inferd_caffe::PoolingParameter;
  if (p.pool() == Pool::STOCHASTIC) return unimplemented("STOCHASTIC pooling");
  if (p.global_pooling()) {
    if (p.pool() != Pool::AVE) return unimplemented("global MAX pooling");
    return emit(l, ir::OpKind::kGlobalAveragePool, {in[0]}, {});
  }
  if (!p.has_kernel_size() && !p.has_kernel_h()) return invalid_argument("has no kernel_size");
  const int64_t kh = p.has_kernel_h() ? p.kernel_h() : p.kernel_size(), kw = p.has_kernel_h() ? p.kernel_w() : p.kernel_size();
  const int64_t ph = p.has_pad_h() ? p.pad_h() : p.pad(), pw = p.has_pad_h() ? p.pad_w() : p.pad();
  const int64_t sh = p.has_stride_h() ? p.stride_h() : p.stride(), sw = p.has_stride_h() ? p.stride_w() : p.stride();
  ir::Attributes a;
  a.set("kernel_shape", std::vector<int64_t>{kh, kw});
  a.set("strides", std::vector<int64_t>{sh, sw});
  a.set("pads", std::vector<int64_t>{ph, pw, ph, pw});
  a.set("ceil_mode", int64_t{1});  // Caffe rounds the output size up
  // Caffe divides by the window clipped to the padded input: padding counts.
  a.set("count_include_pad", int64_t{1});
  return emit(l, p.pool() == Pool::MAX ? ir::OpKind::kMaxPool : ir::OpKind::kAveragePool, {in[0]}, std::move(a));
}

Status CaffeGraphBuilder::inner_product(const LayerParameter& l) {
  const auto& p = l.inner_product_param();
  if (p.axis() != 1) return unimplemented("axis " + std::to_string(p.axis()) + " (only 1)");
  ASSIGN_OR_RETURN(auto in, bottoms(l, 1));
  ASSIGN_OR_RETURN(ir::ValueId w, weight(l, 0, "weights"));
  Shape ws = graph_.value(w).shape;
  while (ws.size() > 2 && ws[0] == 1) ws.erase(ws.begin());  // legacy [1,1,N,K] blobs
  if (ws.size() != 2) return invalid_argument("weights of shape " + to_string(graph_.value(w).shape) + " are not 2-D");
  reshape_constant(w, ws);
  const int64_t outputs = p.transpose() ? ws[1] : ws[0];
  if (outputs != static_cast<int64_t>(p.num_output()))
    return invalid_argument("weights of shape " + to_string(ws) + " do not have num_output " +
                            std::to_string(p.num_output()) + " rows");
  if (l.top_size() != 1) return invalid_argument("must have exactly one output");
  std::vector<ir::ValueId> inputs{flattened(l, in[0]), w};
  if (p.bias_term()) {
    ASSIGN_OR_RETURN(ir::ValueId b, bias(l, outputs));
    inputs.push_back(b);
  }
  ir::Attributes a;
  a.set("alpha", 1.0f);
  a.set("beta", 1.0f);
  a.set("transA", int64_t{0});
  a.set("transB", int64_t{p.transpose() ? 0 : 1});
  return emit(l, ir::OpKind::kGemm, std::move(inputs), std::move(a));
}

Status CaffeGraphBuilder::eltwise(const LayerParameter& l) {
  const auto& p = l.eltwise_param();
  ASSIGN_OR_RETURN(auto in, bottoms(l, 2));
  using Op = inferd_caffe::EltwiseParameter;
  if (p.operation() == Op::MAX) return unimplemented("Eltwise MAX");
  if (p.operation() == Op::PROD) {
    if (in.size() != 2) return unimplemented("Eltwise PROD of more than 2 inputs");
    return emit(l, ir::OpKind::kMul, in, {});
  }
  for (float c : p.coeff())
    if (c != 1.0f) return unimplemented("Eltwise SUM with coefficients other than 1");
  return emit(l, in.size() == 2 ? ir::OpKind::kAdd : ir::OpKind::kSum, in, {});
}

// Dropout (identity at inference) and Split: every top names the bottom's value.
Status CaffeGraphBuilder::pass_through(const LayerParameter& l) {
  // Not marked read: the value is read only if a later layer reads one of the tops.
  ASSIGN_OR_RETURN(ir::ValueId in, bottom(l, 0));
  if (l.top_size() < 1) return invalid_argument("has no output");
  for (const auto& top : l.top()) define(top, in);
  return Status::ok();
}

Status CaffeGraphBuilder::convert(const LayerParameter& l) {
  const std::string& type = l.type();
  if (type == "Input") {
    for (int i = 0; i < l.top_size(); ++i) {
      const auto& shapes = l.input_param().shape();
      if (shapes.empty()) return invalid_argument("has no input_param shape");
      const auto& dim = shapes[std::min(i, shapes.size() - 1)].dim();  // one shape may serve every top
      Shape dims(dim.begin(), dim.end());
      RETURN_IF_ERROR(add_input(l.top(i), dims));
    }
    return Status::ok();
  }
  if (type == "Convolution") return convolution(l);
  if (type == "Pooling") return pooling(l);
  if (type == "InnerProduct") return inner_product(l);
  if (type == "Eltwise") return eltwise(l);
  if (type == "Dropout" || type == "Split") return pass_through(l);
  if (type == "ReLU") {
    ASSIGN_OR_RETURN(auto in, bottoms(l, 1));
    const float slope = l.relu_param().negative_slope();
    if (slope == 0.0f) return emit(l, ir::OpKind::kRelu, in, {});
    ir::Attributes a;
    a.set("alpha", slope);
    return emit(l, ir::OpKind::kLeakyRelu, in, std::move(a));
  }
  if (type == "LRN") {
    const auto& p = l.lrn_param();
    if (p.norm_region() != inferd_caffe::LRNParameter::ACROSS_CHANNELS) return unimplemented("WITHIN_CHANNEL LRN");
    ASSIGN_OR_RETURN(auto in, bottoms(l, 1));
    ir::Attributes a;
    a.set("size", static_cast<int64_t>(p.local_size()));
    a.set("alpha", p.alpha());
    a.set("beta", p.beta());
    a.set("bias", p.k());
    return emit(l, ir::OpKind::kLRN, in, std::move(a));
  }
  if (type == "Concat") {
    ASSIGN_OR_RETURN(auto in, bottoms(l, 1));
    const auto& p = l.concat_param();
    ir::Attributes a;
    a.set("axis", static_cast<int64_t>(p.has_axis() || !p.has_concat_dim() ? p.axis() : p.concat_dim()));
    return emit(l, ir::OpKind::kConcat, in, std::move(a));
  }
  if (type == "Flatten" || type == "Softmax") {
    ASSIGN_OR_RETURN(auto in, bottoms(l, 1));
    const int64_t axis = type == "Flatten" ? l.flatten_param().axis() : l.softmax_param().axis();
    if (axis != 1) return unimplemented("axis " + std::to_string(axis) + " (only 1)");
    if (type == "Flatten" && l.flatten_param().end_axis() != -1) return unimplemented("end_axis other than -1");
    ir::Attributes a;
    if (type == "Flatten") {
      a.set("axis", axis);
      return emit(l, ir::OpKind::kFlatten, in, std::move(a));
    }
    // Softmax over the channels of [N, C, 1, 1] (a classifier's global-pooled head) is the
    // softmax of [N, C]: flattened first, so the output is the [N, classes] of a classifier.
    if (l.top_size() != 1) return invalid_argument("must have exactly one output");
    a.set("axis", int64_t{-1});
    return emit(l, ir::OpKind::kSoftmax, {flattened(l, in[0])}, std::move(a));
  }
  return unimplemented("unsupported layer type");
}

}  // namespace

Result<ir::Graph> import_caffe_bytes(std::string_view prototxt, std::span<const uint8_t> caffemodel,
                                     const std::string& name_for_errors) {
  auto topology = parse_prototxt(prototxt);
  if (!topology.is_ok()) return Status(topology.status().code(), name_for_errors + ": " + topology.status().message());
  auto weights = parse_caffemodel(caffemodel);
  if (!weights.is_ok()) return Status(weights.status().code(), name_for_errors + ": " + weights.status().message());
  CaffeGraphBuilder builder(*weights, name_for_errors);
  builder.graph().name = topology->name().empty() ? "caffe" : topology->name();
  RETURN_IF_ERROR(builder.add_legacy_inputs(*topology));
  for (const auto& layer : topology->layer()) RETURN_IF_ERROR(builder.add_layer(layer));
  return builder.finish();
}

Result<ir::Graph> import_caffe(const std::string& prototxt_path, const std::string& caffemodel_path) {
  ASSIGN_OR_RETURN(auto text, read_file(prototxt_path));
  ASSIGN_OR_RETURN(auto weights, read_file(caffemodel_path));
  const std::string_view view(reinterpret_cast<const char*>(text.data()), text.size());
  return import_caffe_bytes(view, weights, prototxt_path);
}

}  // namespace inferd
