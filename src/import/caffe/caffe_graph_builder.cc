#include "import/caffe/caffe_graph_builder.h"

#include "ir/shape_inference.h"

namespace inferd::caffe {
namespace {

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
  const int64_t held = b.data_size() > 0 ? b.data_size() : b.double_data_size();
  if (held != count)
    return invalid_argument("a blob of shape " + to_string(shape) + " holds " + std::to_string(held) + " values");
  if (b.data_size() > 0) return Tensor::from_floats(shape, {b.data().data(), static_cast<size_t>(count)});
  const std::vector<float> narrowed(b.double_data().begin(), b.double_data().end());
  return Tensor::from_floats(shape, narrowed);
}

}  // namespace

Result<Tensor> take_blob(inferd_caffe::BlobProto& b) {
  ASSIGN_OR_RETURN(Tensor t, blob_tensor(b));
  google::protobuf::RepeatedField<float>().Swap(b.mutable_data());  // frees, unlike Clear()
  google::protobuf::RepeatedField<double>().Swap(b.mutable_double_data());
  return t;
}

CaffeGraphBuilder::CaffeGraphBuilder(NetParameter* weights, std::string file) : file_(std::move(file)) {
  for (auto& l : *weights->mutable_layer())
    if (l.blobs_size() > 0) weights_[l.name()] = &l;
}

Status CaffeGraphBuilder::add_legacy_inputs(const NetParameter& net) {
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

Status CaffeGraphBuilder::add_layer(const LayerParameter& l) {
  Status s = convert(l);
  if (!s.is_ok()) return Status(s.code(), file_ + ": layer '" + l.name() + "' (" + l.type() + "): " + s.message());
  return s;
}

Result<ir::Graph> CaffeGraphBuilder::finish() {
  for (const auto& [name, id] : order_)
    if (!read_.count(id) && !is_input(id)) graph_.outputs.push_back(id);
  if (graph_.inputs.empty()) return invalid_argument(file_ + ": the network declares no input");
  if (graph_.outputs.empty()) return invalid_argument(file_ + ": the network computes nothing");
  RETURN_IF_ERROR(graph_.sort_topologically());
  if (Status s = ir::infer_shapes(graph_); !s.is_ok()) return Status(s.code(), file_ + ": " + s.message());
  return std::move(graph_);
}

bool CaffeGraphBuilder::is_input(ir::ValueId id) const {
  for (auto in : graph_.inputs)
    if (in == id) return true;
  return false;
}

Status CaffeGraphBuilder::add_input(const std::string& name, Shape dims) {
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

void CaffeGraphBuilder::define(const std::string& blob, ir::ValueId id) {
  blobs_[blob] = id;
  order_.emplace_back(blob, id);
}

Result<ir::ValueId> CaffeGraphBuilder::bottom(const LayerParameter& l, int i) const {
  if (i >= l.bottom_size()) return invalid_argument("needs input #" + std::to_string(i));
  auto it = blobs_.find(l.bottom(i));
  if (it == blobs_.end()) return invalid_argument("reads '" + l.bottom(i) + "', which no earlier layer writes");
  return it->second;
}

Result<std::vector<ir::ValueId>> CaffeGraphBuilder::bottoms(const LayerParameter& l, int min_count) {
  if (l.bottom_size() < min_count) return invalid_argument("needs at least " + std::to_string(min_count) + " inputs");
  std::vector<ir::ValueId> ids;
  for (int i = 0; i < l.bottom_size(); ++i) {
    ASSIGN_OR_RETURN(ir::ValueId id, bottom(l, i));
    read_.insert(id);
    ids.push_back(id);
  }
  return ids;
}

ir::ValueId CaffeGraphBuilder::add_op(const std::string& name, const std::string& out_name, ir::OpKind op,
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

Status CaffeGraphBuilder::emit(const LayerParameter& l, ir::OpKind op, std::vector<ir::ValueId> inputs,
                               ir::Attributes attrs) {
  if (l.top_size() != 1) return invalid_argument("must have exactly one output");
  define(l.top(0), add_op(l.name(), l.top(0), op, std::move(inputs), std::move(attrs)));
  return Status::ok();
}

ir::ValueId CaffeGraphBuilder::flattened(const LayerParameter& l, ir::ValueId x) {
  ir::Attributes a;
  a.set("axis", int64_t{1});
  return add_op(l.name() + "_flatten", (l.top_size() > 0 ? l.top(0) : l.name()) + "_flatten", ir::OpKind::kFlatten,
                {x}, std::move(a));
}

void CaffeGraphBuilder::reshape_constant(ir::ValueId id, const Shape& shape) {
  ir::Value& v = graph_.value(id);
  v.shape = shape;
  v.constant = std::move(*v.constant).reshaped(shape);  // moved: fc weights can be 100s of MB
}

Result<Tensor> CaffeGraphBuilder::take_weight(const LayerParameter& l, int index, const std::string& what) {
  auto it = weights_.find(l.name());
  if (it == weights_.end()) return invalid_argument("the weights file has no blobs for it");
  if (index >= it->second->blobs_size())
    return invalid_argument("the weights file has no " + what + " blob (#" + std::to_string(index) + ")");
  auto t = take_blob(*it->second->mutable_blobs(index));
  if (!t.is_ok()) return Status(t.status().code(), what + ": " + t.status().message());
  return t;
}

Result<ir::ValueId> CaffeGraphBuilder::weight(const LayerParameter& l, int index, const std::string& what) {
  ASSIGN_OR_RETURN(Tensor t, take_weight(l, index, what));
  return graph_.add_constant(graph_.unique_value_name(l.name() + "_" + what), std::move(t));
}

Result<ir::ValueId> CaffeGraphBuilder::bias(const LayerParameter& l, int64_t count) {
  ASSIGN_OR_RETURN(ir::ValueId b, weight(l, 1, "bias"));
  if (graph_.value(b).constant->size() != count) return invalid_argument("the bias does not have num_output values");
  reshape_constant(b, {count});
  return b;
}

Result<std::vector<float>> CaffeGraphBuilder::blob_values(const LayerParameter& l, int index, const std::string& what) {
  ASSIGN_OR_RETURN(Tensor t, take_weight(l, index, what));
  const auto values = t.floats();
  return std::vector<float>(values.begin(), values.end());
}

ir::ValueId CaffeGraphBuilder::constant(const std::string& name, Shape shape, std::vector<float> values) {
  return graph_.add_constant(graph_.unique_value_name(name), Tensor::from_floats(shape, values));
}

Status CaffeGraphBuilder::per_channel_affine(const LayerParameter& l, ir::ValueId x, std::vector<float> scale,
                                             std::vector<float> shift, std::vector<float> mean,
                                             std::vector<float> var, float eps) {
  const auto c = static_cast<int64_t>(scale.size());
  std::vector<ir::ValueId> inputs{x};
  inputs.push_back(constant(l.name() + "_scale", {c}, std::move(scale)));
  inputs.push_back(constant(l.name() + "_shift", {c}, std::move(shift)));
  inputs.push_back(constant(l.name() + "_mean", {c}, std::move(mean)));
  inputs.push_back(constant(l.name() + "_var", {c}, std::move(var)));
  ir::Attributes a;
  a.set("epsilon", eps);
  return emit(l, ir::OpKind::kBatchNormalization, std::move(inputs), std::move(a));
}

}  // namespace inferd::caffe
