#include "import/onnx/onnx_node.h"

#include <algorithm>

namespace inferd::onnx_import {
namespace {

using onnx::AttributeProto;

// Old exporters leave `type` unset; then the field that holds a value tells.
AttributeProto::AttributeType effective_type(const AttributeProto& a) {
  if (a.type() != AttributeProto::UNDEFINED) return a.type();
  if (a.has_i()) return AttributeProto::INT;
  if (a.has_f()) return AttributeProto::FLOAT;
  if (a.has_s()) return AttributeProto::STRING;
  if (a.has_t()) return AttributeProto::TENSOR;
  if (a.ints_size() > 0) return AttributeProto::INTS;
  if (a.floats_size() > 0) return AttributeProto::FLOATS;
  return AttributeProto::UNDEFINED;
}

}  // namespace

NodeContext::NodeContext(const onnx::NodeProto& proto, std::string name, int64_t opset, ir::Graph& graph,
                         ir::Node& node, const std::unordered_set<std::string>& used_names)
    : proto_(proto), name_(std::move(name)), opset_(opset), graph_(graph), node_(node), used_names_(used_names) {}

std::string NodeContext::describe() const { return "node '" + name_ + "' (" + proto_.op_type() + ")"; }

Status NodeContext::fail(const std::string& what) const { return invalid_argument(describe() + ": " + what); }

Status NodeContext::unsupported(const std::string& what) const { return unimplemented(describe() + ": " + what); }

const Tensor* NodeContext::constant_input(size_t i) const {
  if (!has_input(i)) return nullptr;
  const ir::Value& v = graph_.value(node_.inputs[i]);
  return v.is_constant() ? &*v.constant : nullptr;
}

bool NodeContext::output_used(size_t i) const {
  if (i >= static_cast<size_t>(proto_.output_size())) return false;
  const std::string& name = proto_.output(static_cast<int>(i));
  return !name.empty() && used_names_.count(name) != 0;
}

const AttributeProto* NodeContext::find(const std::string& name) const {
  for (const auto& a : proto_.attribute())
    if (a.name() == name) return &a;
  return nullptr;
}

Status NodeContext::wrong_type(const AttributeProto& a, const char* expected) const {
  return fail("attribute '" + a.name() + "' must be " + expected);
}

Result<int64_t> NodeContext::attr_int(const std::string& name, int64_t fallback) const {
  const AttributeProto* a = find(name);
  if (a == nullptr) return fallback;
  if (effective_type(*a) != AttributeProto::INT) return wrong_type(*a, "an int");
  return a->i();
}

Result<float> NodeContext::attr_float(const std::string& name, float fallback) const {
  const AttributeProto* a = find(name);
  if (a == nullptr) return fallback;
  if (effective_type(*a) != AttributeProto::FLOAT) return wrong_type(*a, "a float");
  return a->f();
}

Result<std::string> NodeContext::attr_string(const std::string& name, const std::string& fallback) const {
  const AttributeProto* a = find(name);
  if (a == nullptr) return fallback;
  if (effective_type(*a) != AttributeProto::STRING) return wrong_type(*a, "a string");
  return a->s();
}

Result<std::vector<int64_t>> NodeContext::attr_ints(const std::string& name, std::vector<int64_t> fallback) const {
  const AttributeProto* a = find(name);
  if (a == nullptr) return fallback;
  // An empty list has no value to tell its type by, so UNDEFINED is accepted as [].
  const auto type = effective_type(*a);
  if (type != AttributeProto::INTS && type != AttributeProto::UNDEFINED) return wrong_type(*a, "a list of ints");
  return std::vector<int64_t>(a->ints().begin(), a->ints().end());
}

Result<std::vector<float>> NodeContext::attr_floats(const std::string& name) const {
  const AttributeProto* a = find(name);
  if (a == nullptr) return std::vector<float>{};
  const auto type = effective_type(*a);
  if (type != AttributeProto::FLOATS && type != AttributeProto::UNDEFINED) return wrong_type(*a, "a list of floats");
  return std::vector<float>(a->floats().begin(), a->floats().end());
}

Result<const onnx::TensorProto*> NodeContext::attr_tensor(const std::string& name) const {
  const AttributeProto* a = find(name);
  if (a == nullptr) return static_cast<const onnx::TensorProto*>(nullptr);
  if (effective_type(*a) != AttributeProto::TENSOR) return wrong_type(*a, "a tensor");
  return &a->t();
}

Status NodeContext::check_attribute_names(std::string_view known) const {
  std::unordered_set<std::string> seen;
  for (const auto& a : proto_.attribute()) {
    if (a.name().empty()) return fail("has an attribute without a name");
    if (!seen.insert(a.name()).second) return fail("attribute '" + a.name() + "' is given twice");
    bool found = false;
    for (size_t start = 0; start <= known.size() && !found;) {
      const size_t comma = std::min(known.find(',', start), known.size());
      found = known.substr(start, comma - start) == a.name();
      start = comma + 1;
    }
    if (!found) return unsupported("attribute '" + a.name() + "' is not supported");
  }
  return Status::ok();
}

}  // namespace inferd::onnx_import
