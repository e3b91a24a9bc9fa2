#include "passes/int8_storage.h"

#include <algorithm>
#include <optional>
#include <set>
#include <vector>

#include "passes/graph_edit.h"

namespace inferd::passes {
namespace {

// The symmetric grid an INT8 Conv quantizes its input onto.
struct Grid {
  float scale = 0;
  int64_t qmin = 0, qmax = 0;
  bool operator==(const Grid&) const = default;
  DataType dtype() const { return qmin == 0 ? DataType::kUint8 : DataType::kInt8; }
};

bool int8_conv(const ir::Node& n) {
  return n.op == ir::OpKind::kConv && n.attrs.has("input_scale");
}

std::optional<Grid> input_grid(const ir::Node& n) {
  if (n.attrs.get_int("input_zero_point", 0) != 0) return std::nullopt;  // levels are stored symmetric
  const Grid g{n.attrs.get_float("input_scale", 0.0f), n.attrs.get_int("input_qmin", -128),
               n.attrs.get_int("input_qmax", 127)};
  const bool int8 = g.qmin == -128 && g.qmax == 127, uint8 = g.qmin == 0 && g.qmax == 255;
  if (!(g.scale > 0) || !(int8 || uint8)) return std::nullopt;
  return g;
}

// Ops that pass levels through unchanged, so that their inputs and outputs share one grid:
// a max pool (the max of levels is the level of the max: rounding is monotonic) and a
// channel Concat (it copies them, or moves nothing where concat elimination placed its
// inputs in its output already).
bool passes_levels(const ir::Graph& g, const ir::Node& n) {
  if (n.outputs.size() != 1 || g.value(n.outputs[0]).shape.size() != 4) return false;
  if (n.op == ir::OpKind::kMaxPool) return n.inputs.size() == 1;
  return n.op == ir::OpKind::kConcat && (n.attrs.get_int("axis", 1) == 1 || n.attrs.get_int("axis", 1) == -3);
}

// Values that must be stored alike: connected through level-passing ops. Built from one
// value by following such ops both ways.
struct Group {
  std::vector<ir::ValueId> values;
  std::set<size_t> passing;   // the level-passing ops inside
  std::set<size_t> writers;   // the other producers of its values
  std::set<size_t> readers;   // the other consumers of its values
};

Group group_of(const ir::Graph& g, const UseIndex& uses, ir::ValueId start) {
  Group group;
  std::vector<ir::ValueId> todo{start};
  std::set<ir::ValueId> seen{start};
  const auto visit = [&](ir::ValueId v) {
    if (v != ir::kNoValue && seen.insert(v).second) todo.push_back(v);
  };
  while (!todo.empty()) {
    const ir::ValueId v = todo.back();
    todo.pop_back();
    group.values.push_back(v);
    if (const std::optional<size_t> p = uses.producer(v)) {
      if (passes_levels(g, g.nodes()[*p])) {
        group.passing.insert(*p);
        for (ir::ValueId in : g.nodes()[*p].inputs) visit(in);
      } else {
        group.writers.insert(*p);
      }
    }
    for (size_t r : uses.consumers(v)) {
      if (passes_levels(g, g.nodes()[r])) {
        group.passing.insert(r);
        visit(g.nodes()[r].outputs[0]);
        for (ir::ValueId in : g.nodes()[r].inputs) visit(in);
      } else {
        group.readers.insert(r);
      }
    }
  }
  return group;
}

// The grid every reader of the group quantizes onto, when all readers are INT8 Convs reading
// a member as input 0 only and agree on one.
std::optional<Grid> readers_grid(const ir::Graph& g, const Group& group) {
  if (group.readers.empty()) return std::nullopt;
  std::optional<Grid> grid;
  const std::set<ir::ValueId> members(group.values.begin(), group.values.end());
  for (size_t r : group.readers) {
    const ir::Node& n = g.nodes()[r];
    if (!int8_conv(n) || members.count(n.inputs[0]) == 0) return std::nullopt;
    for (size_t i = 1; i < n.inputs.size(); ++i)
      if (members.count(n.inputs[i])) return std::nullopt;
    const std::optional<Grid> mine = input_grid(n);
    if (!mine || (grid && !(*grid == *mine))) return std::nullopt;
    grid = mine;
  }
  return grid;
}

// Whether `p` (a producer) may write its output rounded onto `grid` as levels.
bool producer_fits(const ir::Node& p, const Grid& grid) {
  if (!int8_conv(p) || p.outputs.size() != 1 || input_or_none(p, 3) != ir::kNoValue) return false;
  if (!p.attrs.has("output_scale")) return true;
  return p.attrs.get_float("output_scale", 0.0f) == grid.scale && p.attrs.get_int("output_zero_point", 0) == 0 &&
         p.attrs.get_int("output_qmin", -128) == grid.qmin && p.attrs.get_int("output_qmax", 127) == grid.qmax;
}

// Every member a 4-D fp32 activation the user never sees, every writer an INT8 Conv that
// may round onto the grid.
bool group_fits(const ir::Graph& g, const Group& group, const Grid& grid) {
  for (ir::ValueId v : group.values) {
    const ir::Value& value = g.value(v);
    if (g.is_graph_output(v) || value.is_constant() || value.dtype != DataType::kFloat32 || value.shape.size() != 4)
      return false;
    if (std::find(g.inputs.begin(), g.inputs.end(), v) != g.inputs.end()) return false;
  }
  if (group.writers.empty()) return false;
  return std::all_of(group.writers.begin(), group.writers.end(),
                     [&](size_t w) { return producer_fits(g.nodes()[w], grid); });
}

void store_as_levels(ir::Graph& g, const Group& group, const Grid& grid) {
  for (size_t w : group.writers) {
    ir::Node& producer = g.nodes()[w];
    producer.attrs.set("output_scale", grid.scale);
    producer.attrs.set("output_zero_point", int64_t{0});
    producer.attrs.set("output_qmin", grid.qmin);
    producer.attrs.set("output_qmax", grid.qmax);
    producer.attrs.set("output_levels", int64_t{1});
  }
  for (ir::ValueId v : group.values) g.value(v).dtype = grid.dtype();
}

bool backend_runs(const ir::Graph& g, const Group& group, const PassContext& ctx) {
  for (const std::set<size_t>* nodes : {&group.writers, &group.readers, &group.passing})
    for (size_t n : *nodes)
      if (!ctx.node_supported(g, g.nodes()[n])) return false;
  return true;
}

std::string describe(const ir::Graph& g, const Group& group, const Grid& grid) {
  std::string text = g.value(group.values.front()).name;
  if (group.values.size() > 1) text += " and " + std::to_string(group.values.size() - 1) + " value(s) joined to it";
  text += " stored as " + std::string(to_string(grid.dtype())) + " levels: ";
  for (size_t w : group.writers) text += g.nodes()[w].name + (w == *group.writers.rbegin() ? "" : ", ");
  text += group.writers.size() == 1 ? " writes them, " : " write them, ";
  if (!group.passing.empty()) text += std::to_string(group.passing.size()) + " max pool/concat(s) pass them on, ";
  return text + std::to_string(group.readers.size()) + " INT8 reader(s) read them as they are";
}

}  // namespace

Result<PassResult> Int8Storage::run(ir::Graph& g, const PassContext& ctx) const {
  PassResult result;
  const UseIndex uses(g);  // no edge changes: only attributes and value dtypes
  std::set<ir::ValueId> decided;
  for (size_t i = 0; i < g.nodes().size(); ++i) {
    if (g.nodes()[i].outputs.empty() || !int8_conv(g.nodes()[i])) continue;
    const ir::ValueId v = g.nodes()[i].outputs[0];
    if (v == ir::kNoValue || decided.count(v)) continue;
    const Group group = group_of(g, uses, v);
    decided.insert(group.values.begin(), group.values.end());
    const std::optional<Grid> grid = readers_grid(g, group);
    if (!grid || !group_fits(g, group, *grid)) continue;

    std::vector<ir::Node> writers_before;  // what store_as_levels changes: writers, dtypes
    for (size_t w : group.writers) writers_before.push_back(g.nodes()[w]);
    store_as_levels(g, group, *grid);
    if (!backend_runs(g, group, ctx)) {  // as it was
      size_t k = 0;
      for (size_t w : group.writers) g.nodes()[w] = writers_before[k++];
      for (ir::ValueId member : group.values) g.value(member).dtype = DataType::kFloat32;
      continue;
    }
    result.changes.push_back(describe(g, group, *grid));
  }
  return result;
}

}  // namespace inferd::passes
