// Model reading: ModelProto checks, values (initializers, Constant nodes, graph inputs,
// node outputs), node conversion through the op table, then sort, attribute
// resolution and shape inference.
#include "import/onnx/onnx_importer.h"

#include <climits>
#include <filesystem>
#include <unordered_map>
#include <unordered_set>

#include "core/file.h"
#include "core/log.h"
#include "import/onnx/onnx_node.h"
#include "import/onnx/onnx_ops.h"
#include "import/onnx/onnx_tensor.h"
#include "ir/shape_inference.h"
#include "onnx.pb.h"

namespace inferd {
namespace onnx_import {
namespace {

constexpr int64_t kMinIrVersion = 3, kMaxIrVersion = 10;
constexpr int64_t kMinOpset = 7, kMaxOpset = 21;
constexpr uint64_t kMaxModelBytes = INT_MAX;  // protobuf cannot parse more in one message

bool is_default_domain(const std::string& domain) { return domain.empty() || domain == "ai.onnx"; }

Result<int64_t> default_opset(const onnx::ModelProto& m) {
  std::optional<int64_t> version;
  for (const auto& op : m.opset_import())
    if (is_default_domain(op.domain())) version = op.version();
  if (!version) return invalid_argument("the model imports no opset of the default ONNX domain");
  if (*version < kMinOpset || *version > kMaxOpset)
    return unimplemented("opset " + std::to_string(*version) + " is not supported (" + std::to_string(kMinOpset) +
                         ".." + std::to_string(kMaxOpset) + ")");
  return *version;
}

std::string node_name(const onnx::NodeProto& p, int index) {
  if (!p.name().empty()) return p.name();
  if (p.output_size() > 0 && !p.output(0).empty()) return p.output(0);
  return "#" + std::to_string(index);
}

// A graph input: float32 (float16 is imported as float32); dim 0 may be symbolic.
Result<ir::Value> input_value(const onnx::ValueInfoProto& vi, bool& converted_fp16) {
  const std::string what = "input '" + vi.name() + "'";
  if (!vi.type().has_tensor_type()) return unimplemented(what + " is not a tensor");
  const auto& tensor = vi.type().tensor_type();
  if (tensor.elem_type() == onnx::TensorProto::FLOAT16) converted_fp16 = true;
  else if (tensor.elem_type() != onnx::TensorProto::FLOAT)
    return unimplemented(what + " has element type " + onnx_type_name(tensor.elem_type()) +
                         "; inferd takes FLOAT (or FLOAT16) inputs");
  if (!tensor.has_shape()) return unimplemented(what + " has no shape; inferd needs static shapes (dim 0 may be dynamic)");
  ir::Value v;
  v.name = vi.name();
  for (int d = 0; d < tensor.shape().dim_size(); ++d) {
    const auto& dim = tensor.shape().dim(d);
    const bool known = dim.has_dim_value() && dim.dim_value() > 0;
    if (d == 0 && !known) {
      v.shape.push_back(kDynamicDim);
    } else if (dim.has_dim_value() && dim.dim_value() <= 0) {
      return invalid_argument(what + " has dim " + std::to_string(d) + " = " + std::to_string(dim.dim_value()));
    } else if (!known) {
      const std::string symbol = dim.has_dim_param() ? " ('" + dim.dim_param() + "')" : "";
      return unimplemented(what + " has a symbolic dim " + std::to_string(d) + symbol +
                           ": only dim 0 (the batch) may be dynamic");
    } else {
      v.shape.push_back(dim.dim_value());
    }
  }
  Shape counted = v.shape;
  if (!counted.empty() && counted[0] == kDynamicDim) counted[0] = 1;
  RETURN_IF_ERROR(checked_element_count(counted, what).status());
  return v;
}

class GraphBuilder {
 public:
  GraphBuilder(const onnx::GraphProto& proto, int64_t opset, std::string base_dir)
      : proto_(proto), opset_(opset), base_dir_(std::move(base_dir)) {}

  Result<ir::Graph> build() {
    graph_.name = proto_.name().empty() ? "model" : proto_.name();
    if (proto_.sparse_initializer_size() > 0) return unimplemented("sparse initializers are not supported");
    collect_used_names();
    RETURN_IF_ERROR(add_initializers());
    RETURN_IF_ERROR(add_constant_nodes());
    RETURN_IF_ERROR(add_inputs());
    RETURN_IF_ERROR(declare_node_outputs());
    for (int i = 0; i < proto_.node_size(); ++i) RETURN_IF_ERROR(convert_node(i));
    RETURN_IF_ERROR(bind_outputs());
    RETURN_IF_ERROR(graph_.sort_topologically());
    for (ir::Node& n : graph_.nodes()) {
      RETURN_IF_ERROR(resolve_shape_dependent_attributes(graph_, n));
      RETURN_IF_ERROR(ir::infer_node_shapes(graph_, n));
    }
    check_declared_outputs();
    graph_.compact();  // drops unused constants (turned into attributes) and dropped outputs
    return std::move(graph_);
  }

  bool converted_fp16() const { return converted_fp16_; }

 private:
  bool is_constant_node(const onnx::NodeProto& p) const {
    return p.op_type() == "Constant" && is_default_domain(p.domain());
  }

  void collect_used_names() {
    for (const auto& n : proto_.node())
      for (const auto& in : n.input()) used_names_.insert(in);
    for (const auto& out : proto_.output()) used_names_.insert(out.name());
  }

  Status define(const std::string& name, ir::ValueId id) {
    if (name.empty()) return invalid_argument("a value has an empty name");
    if (!values_.emplace(name, id).second) return invalid_argument("value '" + name + "' is defined more than once");
    return Status::ok();
  }

  Status add_initializers() {
    for (const auto& init : proto_.initializer()) {
      ASSIGN_OR_RETURN(Tensor t, read_tensor(init, "initializer '" + init.name() + "'", base_dir_));
      if (init.data_type() == onnx::TensorProto::FLOAT16) converted_fp16_ = true;
      RETURN_IF_ERROR(define(init.name(), graph_.add_constant(init.name(), std::move(t))));
      initializer_names_.insert(init.name());
    }
    return Status::ok();
  }

  Result<Tensor> constant_value(NodeContext& c) {
    RETURN_IF_ERROR(c.check_attribute_names(
        "sparse_value,value,value_float,value_floats,value_int,value_ints,value_string,value_strings"));
    if (c.proto().attribute_size() != 1) return c.fail("needs exactly one value attribute");
    const std::string& kind = c.proto().attribute(0).name();
    if (kind == "value") {
      ASSIGN_OR_RETURN(const onnx::TensorProto* t, c.attr_tensor("value"));
      return read_tensor(*t, c.describe() + " value", base_dir_);
    }
    if (kind == "value_float") {
      ASSIGN_OR_RETURN(float f, c.attr_float(kind, 0.0f));
      return Tensor::from_floats({}, std::span<const float>(&f, 1));
    }
    if (kind == "value_floats") {
      ASSIGN_OR_RETURN(auto v, c.attr_floats(kind));
      return Tensor::from_floats({static_cast<int64_t>(v.size())}, v);
    }
    if (kind == "value_int") {
      ASSIGN_OR_RETURN(int64_t i, c.attr_int(kind, 0));
      return Tensor::from_int64s({}, std::span<const int64_t>(&i, 1));
    }
    if (kind == "value_ints") {
      ASSIGN_OR_RETURN(auto v, c.attr_ints(kind));
      return Tensor::from_int64s({static_cast<int64_t>(v.size())}, v);
    }
    return c.unsupported("attribute '" + kind + "' (string or sparse constants) is not supported");
  }

  Status add_constant_nodes() {
    for (int i = 0; i < proto_.node_size(); ++i) {
      const auto& p = proto_.node(i);
      if (!is_constant_node(p)) continue;
      ir::Node scratch;
      NodeContext c(p, node_name(p, i), opset_, graph_, scratch, used_names_);
      if (p.input_size() != 0 || p.output_size() != 1 || p.output(0).empty())
        return c.fail("must have no inputs and one output");
      ASSIGN_OR_RETURN(Tensor t, constant_value(c));
      RETURN_IF_ERROR(define(p.output(0), graph_.add_constant(p.output(0), std::move(t))));
    }
    return Status::ok();
  }

  Status add_inputs() {
    for (const auto& vi : proto_.input()) {
      if (initializer_names_.count(vi.name())) continue;  // IR < 4 lists weights as inputs
      ASSIGN_OR_RETURN(ir::Value v, input_value(vi, converted_fp16_));
      const ir::ValueId id = graph_.add_value(std::move(v));
      RETURN_IF_ERROR(define(vi.name(), id));
      graph_.inputs.push_back(id);
    }
    if (graph_.inputs.empty()) return invalid_argument("the graph has no inputs (besides initializers)");
    return Status::ok();
  }

  Status declare_node_outputs() {
    for (const auto& p : proto_.node()) {
      if (is_constant_node(p)) continue;
      for (const auto& out : p.output()) {
        if (out.empty()) continue;
        ir::Value v;
        v.name = out;
        RETURN_IF_ERROR(define(out, graph_.add_value(std::move(v))));
      }
    }
    return Status::ok();
  }

  Status check_counts(const NodeContext& c, const OpConverter& conv) const {
    const auto& p = c.proto();
    const auto inputs = static_cast<size_t>(p.input_size()), outputs = static_cast<size_t>(p.output_size());
    if (inputs < conv.min_inputs || inputs > conv.max_inputs)
      return c.fail("has " + std::to_string(inputs) + " inputs, expected " + std::to_string(conv.min_inputs) +
                    (conv.max_inputs == kAnyCount ? " or more" : " to " + std::to_string(conv.max_inputs)));
    for (size_t i = 0; i < conv.min_inputs; ++i)
      if (p.input(static_cast<int>(i)).empty()) return c.fail("required input #" + std::to_string(i) + " is empty");
    if (outputs < 1 || outputs > conv.max_outputs || p.output(0).empty())
      return c.fail("has " + std::to_string(outputs) + " outputs, expected 1 to " + std::to_string(conv.max_outputs));
    return Status::ok();
  }

  Status resolve_names(const NodeContext& c, ir::Node& n) const {
    for (const auto& name : c.proto().input()) {
      if (name.empty()) {
        n.inputs.push_back(ir::kNoValue);
        continue;
      }
      auto it = values_.find(name);
      if (it == values_.end())
        return c.fail("input '" + name + "' is not defined (no initializer, graph input or node output has that name)");
      n.inputs.push_back(it->second);
    }
    for (const auto& name : c.proto().output())
      n.outputs.push_back(name.empty() ? ir::kNoValue : values_.at(name));
    return Status::ok();
  }

  Status convert_node(int index) {
    const auto& p = proto_.node(index);
    if (is_constant_node(p)) return Status::ok();
    ir::Node n;
    n.name = node_name(p, index);
    NodeContext c(p, n.name, opset_, graph_, n, used_names_);
    if (!is_default_domain(p.domain()))
      return c.unsupported("operator domain '" + p.domain() + "' is not supported (only the default ONNX domain)");
    const OpConverter* conv = find_converter(p.op_type());
    if (conv == nullptr)
      return c.unsupported("unsupported operator " + p.op_type() + " (opset " + std::to_string(opset_) + ")");
    if (opset_ < conv->since_opset)
      return c.fail("operator " + p.op_type() + " needs opset " + std::to_string(conv->since_opset) +
                    "; the model imports opset " + std::to_string(opset_));
    n.op = conv->kind;
    RETURN_IF_ERROR(check_counts(c, *conv));
    RETURN_IF_ERROR(resolve_names(c, n));
    RETURN_IF_ERROR(c.check_attribute_names(conv->attributes));
    RETURN_IF_ERROR(conv->convert(c));
    while (!n.inputs.empty() && n.inputs.back() == ir::kNoValue) n.inputs.pop_back();  // trailing optionals
    graph_.add_node(std::move(n));
    return Status::ok();
  }

  Status bind_outputs() {
    for (const auto& out : proto_.output()) {
      auto it = values_.find(out.name());
      if (it == values_.end()) return invalid_argument("graph output '" + out.name() + "' is not produced by any node");
      if (graph_.value(it->second).is_constant())
        return unimplemented("graph output '" + out.name() + "' is a constant; outputs must be computed by nodes");
      if (out.type().tensor_type().elem_type() == onnx::TensorProto::FLOAT16) converted_fp16_ = true;
      graph_.outputs.push_back(it->second);
    }
    if (graph_.outputs.empty()) return invalid_argument("the graph has no outputs");
    return Status::ok();
  }

  // A declared output shape that differs from the inferred one is worth a warning only:
  // exporters often leave stale shapes behind.
  void check_declared_outputs() const {
    for (int i = 0; i < proto_.output_size(); ++i) {
      const auto& type = proto_.output(i).type().tensor_type();
      if (!type.has_shape()) continue;
      const Shape& inferred = graph_.value(graph_.outputs[static_cast<size_t>(i)]).shape;
      bool same = type.shape().dim_size() == static_cast<int>(inferred.size());
      for (int d = 0; same && d < type.shape().dim_size(); ++d) {
        const auto& dim = type.shape().dim(d);
        same = !dim.has_dim_value() || dim.dim_value() <= 0 || inferred[static_cast<size_t>(d)] == dim.dim_value();
      }
      if (!same)
        log_warn("onnx_output_shape_mismatch").kv("output", proto_.output(i).name()).kv("inferred", to_string(inferred));
    }
  }

  const onnx::GraphProto& proto_;
  int64_t opset_;
  std::string base_dir_;
  ir::Graph graph_;
  std::unordered_map<std::string, ir::ValueId> values_;
  std::unordered_set<std::string> used_names_;
  std::unordered_set<std::string> initializer_names_;
  bool converted_fp16_ = false;
};

Result<ir::Graph> import_model(std::span<const uint8_t> bytes, const std::string& name, const std::string& base_dir) {
  if (bytes.size() > kMaxModelBytes)
    return resource_exhausted("the model is larger than 2 GB, the limit of one protobuf message; store the weights as "
                              "external data");
  onnx::ModelProto model;
  if (!model.ParseFromArray(bytes.data(), static_cast<int>(bytes.size())))
    return data_loss("not a valid ONNX model (protobuf parse failed; truncated or not an .onnx file?)");
  if (!model.has_graph()) return data_loss("not a valid ONNX model (no graph)");
  if (model.ir_version() < kMinIrVersion || model.ir_version() > kMaxIrVersion)
    return unimplemented("IR version " + std::to_string(model.ir_version()) + " is not supported (" +
                         std::to_string(kMinIrVersion) + ".." + std::to_string(kMaxIrVersion) + ")");
  ASSIGN_OR_RETURN(int64_t opset, default_opset(model));
  GraphBuilder builder(model.graph(), opset, base_dir);
  ASSIGN_OR_RETURN(ir::Graph graph, builder.build());
  if (builder.converted_fp16())
    log_info("onnx_fp16_as_fp32").kv("model", name).kv("note", "float16 weights and inputs/outputs imported as float32");
  log_info("onnx_imported").kv("model", name).kv("ir_version", model.ir_version()).kv("opset", opset)
      .kv("nodes", graph.nodes().size());
  return graph;
}

}  // namespace
}  // namespace onnx_import

Result<ir::Graph> import_onnx_bytes(std::span<const uint8_t> bytes, const std::string& name_for_errors,
                                    const std::string& base_dir_for_external_data) {
  auto result = onnx_import::import_model(bytes, name_for_errors, base_dir_for_external_data);
  if (!result.is_ok()) return result.status().with_context(name_for_errors);
  return result;
}

Result<ir::Graph> import_onnx(const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) return not_found(path + ": no such model file");
  const uint64_t size = fs::file_size(path, ec);
  if (ec) return not_found(path + ": cannot read: " + ec.message());
  if (size > onnx_import::kMaxModelBytes)
    return resource_exhausted(path + ": " + std::to_string(size) +
                              " bytes is larger than 2 GB, the limit of one ONNX protobuf; store the weights as "
                              "external data");
  ASSIGN_OR_RETURN(auto bytes, read_file(path));
  std::string base_dir = fs::path(path).parent_path().string();
  if (base_dir.empty()) base_dir = ".";
  return import_onnx_bytes(bytes, path, base_dir);
}

}  // namespace inferd
