#include "passes/layout_assignment.h"

#include <algorithm>
#include <array>

#include "passes/graph_edit.h"

namespace inferd::passes {
namespace {

using ir::Layout;

const char* suffix(Layout l) { return l == Layout::kNHWC ? "_nhwc" : "_nchw"; }

bool is_activation_4d(const ir::Value& v) { return !v.is_constant() && v.shape.size() == 4; }
bool layout_free(const ir::Value& v) { return v.shape[2] * v.shape[3] == 1; }

// The layout `n` wants for activation `id` (which it reads or writes). A Reorder is
// pinned to what its values already say.
Layout wanted(const ir::Graph& g, const ir::Node& n, ir::ValueId id, const PassContext& ctx) {
  if (n.op == ir::OpKind::kReorder) return g.value(id).layout;
  return ctx.layout_for(g, n);
}

// Pending edits; the node list is only rebuilt at the end so indices stay valid.
struct Edits {
  std::vector<std::vector<ir::Node>> after;  // after[p + 1]: Reorders to place after node p
  std::vector<std::string> changes;
};

// A new value: `v` under another name, in layout `l`.
ir::ValueId new_version(ir::Graph& g, ir::ValueId v, Layout l) {
  ir::Value copy = g.value(v);
  copy.name = unique_value_name(g, g.value(v).name + suffix(l));
  copy.layout = l;
  return g.add_value(std::move(copy));
}

// Queues a Reorder from -> to (to's layout says which), placed right after `producer`.
void add_reorder(ir::Graph& g, Edits& e, std::optional<size_t> producer, ir::ValueId from, ir::ValueId to) {
  ir::Node r;
  r.op = ir::OpKind::kReorder;
  r.name = unique_node_name(g, "reorder_" + g.value(to).name);
  r.inputs = {from};
  r.outputs = {to};
  e.changes.push_back("inserted " + r.name + " (" + g.value(from).name + " -> " + g.value(to).name + ", " +
                      (g.value(to).layout == Layout::kNHWC ? "NHWC" : "NCHW") + ")");
  e.after[producer ? *producer + 1 : 0].push_back(std::move(r));
}

// Assigns the layout of activation `v` and reroutes readers that want the other one.
void assign(ir::Graph& g, const UseIndex& uses, ir::ValueId v, const PassContext& ctx, Edits& e) {
  if (layout_free(g.value(v))) {
    g.value(v).layout = Layout::kNCHW;
    return;
  }
  const auto producer = uses.producer(v);
  const auto& readers = uses.consumers(v);
  const Layout produced = producer ? wanted(g, g.nodes()[*producer], v, ctx) : Layout::kNCHW;
  std::array<ir::ValueId, 2> version{ir::kNoValue, ir::kNoValue};  // indexed by Layout
  version[static_cast<size_t>(produced)] = v;
  g.value(v).layout = produced;
  if (g.is_graph_output(v) && produced != Layout::kNCHW) {
    // The output keeps its name and kNCHW; the producer writes a renamed copy.
    const ir::ValueId inner = new_version(g, v, produced);
    for (auto& id : g.nodes()[*producer].outputs)
      if (id == v) id = inner;
    g.value(v).layout = Layout::kNCHW;
    add_reorder(g, e, producer, inner, v);
    version[static_cast<size_t>(produced)] = inner;
    version[static_cast<size_t>(Layout::kNCHW)] = v;
  }
  for (size_t c : readers) {
    if (g.nodes()[c].op == ir::OpKind::kShape) continue;  // reads the shape, never the bytes
    const Layout want = wanted(g, g.nodes()[c], v, ctx);
    auto& target = version[static_cast<size_t>(want)];
    if (target == ir::kNoValue) {
      target = new_version(g, v, want);
      add_reorder(g, e, producer, version[static_cast<size_t>(produced)], target);
    }
    for (auto& id : g.nodes()[c].inputs)
      if (id == v) id = target;
  }
}

}  // namespace

Result<PassResult> LayoutAssignment::run(ir::Graph& g, const PassContext& ctx) const {
  Edits e;
  e.after.resize(g.nodes().size() + 1);
  const auto original_values = static_cast<ir::ValueId>(g.value_count());
  // Built once: each value is assigned once, and the edits below only rename the outputs
  // and inputs of values already assigned, so the index stays right for those to come.
  const UseIndex uses(g);
  for (ir::ValueId v = 0; v < original_values; ++v) {
    ir::Value& value = g.value(v);
    if (!is_activation_4d(value)) {
      value.layout = Layout::kNCHW;
      continue;
    }
    assign(g, uses, v, ctx, e);
  }
  std::vector<ir::Node> nodes;
  for (auto& r : e.after[0]) nodes.push_back(std::move(r));
  for (size_t i = 0; i < g.nodes().size(); ++i) {
    nodes.push_back(std::move(g.nodes()[i]));
    for (auto& r : e.after[i + 1]) nodes.push_back(std::move(r));
  }
  g.nodes() = std::move(nodes);
  RETURN_IF_ERROR(restore_invariants(g, name()));
  return PassResult{std::move(e.changes)};
}

}  // namespace inferd::passes
