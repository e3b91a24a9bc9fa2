// Data propagation for shape tensors: computes the few int64 values a Reshape target
// is made of when they come from Shape -> Gather/Squeeze/Unsqueeze/Concat chains
// (the pattern exporters emit for `x.view(x.size(0), -1)`), as ONNX shape inference's
// data propagation does. The constant-folding pass later replaces such chains.
#include <algorithm>

#include "ir/shape_rules.h"

namespace inferd::ir::shape_rules {
namespace {

constexpr size_t kMaxValues = 64;  // shape tensors are short; anything longer is not one
constexpr int kMaxDepth = 32;

std::optional<IntValues> evaluate(const Graph& g, ValueId id, int depth);

std::optional<IntValues> from_constant(const Value& v) {
  if (v.dtype != DataType::kInt64 || v.shape.size() > 1) return std::nullopt;
  const auto data = v.constant->int64s();
  if (data.size() > kMaxValues) return std::nullopt;
  IntValues r;
  r.scalar = v.shape.empty();
  r.values.assign(data.begin(), data.end());
  return r;
}

std::optional<IntValues> gather(const Graph& g, const Node& n, int depth) {
  if (n.attrs.get_int("axis", 0) != 0) return std::nullopt;
  auto data = evaluate(g, n.inputs[0], depth + 1);
  auto indices = evaluate(g, n.inputs[1], depth + 1);
  if (!data || !indices || data->scalar) return std::nullopt;
  const auto size = static_cast<int64_t>(data->values.size());
  IntValues r;
  r.scalar = indices->scalar;
  for (const auto& index : indices->values) {
    if (!index || *index < -size || *index >= size) return std::nullopt;
    r.values.push_back(data->values[static_cast<size_t>(*index < 0 ? *index + size : *index)]);
  }
  return r;
}

std::optional<IntValues> concat(const Graph& g, const Node& n, int depth) {
  IntValues r;
  for (ValueId in : n.inputs) {
    if (in == kNoValue) return std::nullopt;
    auto part = evaluate(g, in, depth + 1);
    if (!part || part->scalar) return std::nullopt;
    r.values.insert(r.values.end(), part->values.begin(), part->values.end());
    if (r.values.size() > kMaxValues) return std::nullopt;
  }
  return r;
}

std::optional<IntValues> from_node(const Graph& g, const Node& n, int depth) {
  if (n.inputs.empty() || n.inputs[0] == kNoValue) return std::nullopt;
  switch (n.op) {
    case OpKind::kShape: {
      IntValues r;
      for (int64_t d : g.value(n.inputs[0]).shape)
        r.values.push_back(d == kDynamicDim ? std::nullopt : std::optional<int64_t>(d));
      return r;
    }
    case OpKind::kIdentity:
    case OpKind::kReorder:
      return evaluate(g, n.inputs[0], depth + 1);
    case OpKind::kGather:
      return n.inputs.size() == 2 ? gather(g, n, depth) : std::nullopt;
    case OpKind::kConcat:
      return n.attrs.get_int("axis", 0) == 0 ? concat(g, n, depth) : std::nullopt;
    case OpKind::kUnsqueeze: {  // scalar -> [1]
      auto x = evaluate(g, n.inputs[0], depth + 1);
      if (!x || !x->scalar || n.attrs.get_ints("axes") != std::vector<int64_t>{0}) return std::nullopt;
      x->scalar = false;
      return x;
    }
    case OpKind::kSqueeze: {  // [1] -> scalar
      auto x = evaluate(g, n.inputs[0], depth + 1);
      const auto axes = n.attrs.get_ints("axes");
      if (!x || x->scalar || x->values.size() != 1 || !(axes.empty() || axes == std::vector<int64_t>{0}))
        return std::nullopt;
      x->scalar = true;
      return x;
    }
    default:
      return std::nullopt;
  }
}

std::optional<IntValues> evaluate(const Graph& g, ValueId id, int depth) {
  if (depth > kMaxDepth || id < 0 || static_cast<size_t>(id) >= g.value_count()) return std::nullopt;
  const Value& v = g.value(id);
  if (v.is_constant()) return from_constant(v);
  const auto producer = g.producer(id);
  if (!producer) return std::nullopt;
  return from_node(g, g.nodes()[*producer], depth);
}

}  // namespace

std::optional<IntValues> evaluate_int_values(const Graph& g, ValueId id) { return evaluate(g, id, 0); }

}  // namespace inferd::ir::shape_rules
