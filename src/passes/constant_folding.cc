#include "passes/constant_folding.h"

#include <algorithm>

#include "passes/fold_builtin.h"
#include "passes/graph_edit.h"

namespace inferd::passes {
namespace {

using Tensors = std::vector<Tensor>;

bool all_static(const Shape& s) {
  return std::none_of(s.begin(), s.end(), [](int64_t d) { return d == kDynamicDim || d < 0; });
}

// Shape(x) where x is an activation whose shape is fully known at build time.
std::optional<Tensors> fold_static_shape(const ir::Graph& g, const ir::Node& n) {
  if (n.op != ir::OpKind::kShape || n.inputs.size() != 1 || n.inputs[0] == ir::kNoValue) return std::nullopt;
  const ir::Value& x = g.value(n.inputs[0]);
  if (x.is_constant() || x.shape.empty() || !all_static(x.shape)) return std::nullopt;
  const auto rank = static_cast<int64_t>(x.shape.size());
  return Tensors{shape_tensor(x.shape, n.attrs.get_int("start", 0), n.attrs.get_int("end", rank))};
}

// Computes float op `n` through the backend; nullopt when it cannot (no callback, a
// non-float tensor, unknown output shapes, or an op the evaluator does not implement:
// then the node simply stays and runs at inference).
Result<std::optional<Tensors>> fold_with_backend(const ir::Graph& g, const ir::Node& n,
                                                 const std::vector<const Tensor*>& in, const PassContext& ctx) {
  if (!ctx.evaluate) return std::optional<Tensors>();
  for (const Tensor* t : in)
    if (t && t->dtype() != DataType::kFloat32) return std::optional<Tensors>();
  Tensors out;
  for (ir::ValueId id : n.outputs) {
    const ir::Value& v = g.value(id);
    if (v.dtype != DataType::kFloat32 || v.shape.empty() || !all_static(v.shape)) return std::optional<Tensors>();
    out.emplace_back(v.dtype, v.shape);
  }
  Status s = ctx.evaluate(n, in, out);
  if (s.code() == StatusCode::kUnimplemented) return std::optional<Tensors>();
  if (!s.is_ok()) return s.with_context("constant folding " + ir::describe(g, n));
  return std::optional<Tensors>(std::move(out));
}

// The folded outputs of node `n`, or nullopt when it is not foldable.
Result<std::optional<Tensors>> try_fold(const ir::Graph& g, const ir::Node& n, const PassContext& ctx) {
  if (n.inputs.empty() || n.outputs.empty()) return std::optional<Tensors>();
  for (ir::ValueId id : n.outputs)
    if (g.is_graph_output(id)) return std::optional<Tensors>();
  if (auto shape = fold_static_shape(g, n)) return shape;
  std::vector<const Tensor*> in;
  for (ir::ValueId id : n.inputs) {
    if (id != ir::kNoValue && !constant_of(g, id)) return std::optional<Tensors>();
    in.push_back(constant_of(g, id));
  }
  ASSIGN_OR_RETURN(auto folded, fold_builtin(g, n, in));
  if (folded) return folded;
  return fold_with_backend(g, n, in, ctx);
}

}  // namespace

Result<PassResult> ConstantFolding::run(ir::Graph& g, const PassContext& ctx) const {
  PassResult result;
  std::vector<bool> erase(g.nodes().size(), false);
  // Topological order: a value folded here is already constant for its readers below.
  for (size_t i = 0; i < g.nodes().size(); ++i) {
    const ir::Node& n = g.nodes()[i];
    ASSIGN_OR_RETURN(auto folded, try_fold(g, n, ctx));
    if (!folded) continue;
    if (folded->size() != n.outputs.size())
      return internal_error("constant folding " + ir::describe(g, n) + ": produced " +
                            std::to_string(folded->size()) + " outputs, expected " +
                            std::to_string(n.outputs.size()));
    // Built with appends: GCC 12 warns falsely (-Wrestrict) on a chain of operator+ here.
    std::string line = "folded ";
    line.append(n.name).append(" (").append(ir::to_string(n.op)).append(") ->");
    for (size_t k = 0; k < n.outputs.size(); ++k) {
      ir::Value& v = g.value(n.outputs[k]);
      v.dtype = (*folded)[k].dtype();
      v.shape = (*folded)[k].shape();
      v.constant = std::move((*folded)[k]);
      line.append(" ").append(value_label(g, n.outputs[k]));
    }
    erase[i] = true;
    result.changes.push_back(std::move(line));
  }
  erase_nodes(g, erase);
  RETURN_IF_ERROR(restore_invariants(g, name()));
  return result;
}

}  // namespace inferd::passes
