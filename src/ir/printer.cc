#include "ir/printer.h"

#include <charconv>
#include <variant>

namespace inferd::ir {
namespace {

std::string format_float(float f) {
  char buf[32];
  const auto result = std::to_chars(buf, buf + sizeof(buf), f);  // shortest round-trip form
  return std::string(buf, result.ptr);
}

template <typename T, typename Format>
std::string format_list(const std::vector<T>& values, Format format) {
  std::string out = "[";
  for (size_t i = 0; i < values.size(); ++i) {
    if (i) out += ',';
    out += format(values[i]);
  }
  return out + "]";
}

std::string format_attribute(const Attribute& a) {
  struct Visitor {
    std::string operator()(int64_t v) const { return std::to_string(v); }
    std::string operator()(float v) const { return format_float(v); }
    std::string operator()(const std::string& v) const { return v; }
    std::string operator()(const std::vector<int64_t>& v) const {
      return format_list(v, [](int64_t x) { return std::to_string(x); });
    }
    std::string operator()(const std::vector<float>& v) const { return format_list(v, format_float); }
  };
  return std::visit(Visitor{}, a);
}

std::string constant_shape(const Shape& s) {
  if (s.empty()) return "[]";
  std::string out = "[";
  for (size_t i = 0; i < s.size(); ++i) {
    if (i) out += 'x';
    out += std::to_string(s[i]);
  }
  return out + "]";
}

std::string value_list(const Graph& g, const std::vector<ValueId>& ids) {
  std::string out;
  for (size_t i = 0; i < ids.size(); ++i) {
    if (i) out += ", ";
    out += print_value(g, ids[i]);
  }
  return out;
}

}  // namespace

std::string print_value(const Graph& g, ValueId id) {
  if (id == kNoValue) return "-";
  if (id < 0 || static_cast<size_t>(id) >= g.value_count()) return "%<invalid " + std::to_string(id) + ">";
  const Value& v = g.value(id);
  std::string out = "%" + v.name + (v.is_constant() ? constant_shape(v.shape) : inferd::to_string(v.shape));
  if (v.dtype != DataType::kFloat32) out += std::string(":") + inferd::to_string(v.dtype);
  if (v.layout == Layout::kNHWC) out += ":nhwc";
  if (v.alias_of != kNoValue && static_cast<size_t>(v.alias_of) < g.value_count())
    out += "@%" + g.value(v.alias_of).name + "+" + std::to_string(v.alias_channel_offset);
  return out;
}

std::string print_graph(const Graph& g) {
  std::string out = "graph " + g.name + "\n";
  out += "inputs: " + value_list(g, g.inputs) + "\n";
  out += "outputs: " + value_list(g, g.outputs) + "\n";
  for (const Node& n : g.nodes()) {
    out += value_list(g, n.outputs) + " = " + std::string(to_string(n.op)) + "(" + value_list(g, n.inputs) + ")";
    if (!n.attrs.all().empty()) {
      out += " {";
      bool first = true;
      for (const auto& [name, value] : n.attrs.all()) {
        if (!first) out += ", ";
        out += name + "=" + format_attribute(value);
        first = false;
      }
      out += "}";
    }
    // The node's own name only when it says more than its output's name does.
    if (!n.name.empty() && (n.outputs.empty() || n.outputs[0] == kNoValue || n.outputs[0] < 0 ||
                            static_cast<size_t>(n.outputs[0]) >= g.value_count() ||
                            g.value(n.outputs[0]).name != n.name))
      out += "  # " + n.name;
    out += "\n";
  }
  return out;
}

}  // namespace inferd::ir
