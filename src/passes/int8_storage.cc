#include "passes/int8_storage.h"

#include <algorithm>
#include <optional>

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
  const Grid g{n.attrs.get_float("input_scale", 0.0f), n.attrs.get_int("input_qmin", -128),
               n.attrs.get_int("input_qmax", 127)};
  const bool int8 = g.qmin == -128 && g.qmax == 127, uint8 = g.qmin == 0 && g.qmax == 255;
  if (!(g.scale > 0) || !(int8 || uint8)) return std::nullopt;
  return g;
}

// The grid every reader of `v` quantizes it onto, when all readers are INT8 Convs reading
// it as input 0 only and agree on one.
std::optional<Grid> readers_grid(const ir::Graph& g, const UseIndex& uses, ir::ValueId v) {
  const std::vector<size_t>& readers = uses.consumers(v);
  if (readers.empty()) return std::nullopt;
  std::optional<Grid> grid;
  for (size_t r : readers) {
    const ir::Node& n = g.nodes()[r];
    if (!int8_conv(n) || n.inputs[0] != v) return std::nullopt;
    if (std::count(n.inputs.begin(), n.inputs.end(), v) != 1) return std::nullopt;
    const std::optional<Grid> mine = input_grid(n);
    if (!mine || (grid && !(*grid == *mine))) return std::nullopt;
    grid = mine;
  }
  return grid;
}

// Whether `p` (the producer) may write its output rounded onto `grid` as levels.
bool producer_fits(const ir::Node& p, const Grid& grid) {
  if (!int8_conv(p) || p.outputs.size() != 1 || input_or_none(p, 3) != ir::kNoValue) return false;
  if (!p.attrs.has("output_scale")) return true;
  return p.attrs.get_float("output_scale", 0.0f) == grid.scale && p.attrs.get_int("output_zero_point", 0) == 0 &&
         p.attrs.get_int("output_qmin", -128) == grid.qmin && p.attrs.get_int("output_qmax", 127) == grid.qmax;
}

}  // namespace

Result<PassResult> Int8Storage::run(ir::Graph& g, const PassContext& ctx) const {
  PassResult result;
  const UseIndex uses(g);  // no edge changes: only attributes and value dtypes
  for (size_t i = 0; i < g.nodes().size(); ++i) {
    const ir::ValueId v = g.nodes()[i].outputs.empty() ? ir::kNoValue : g.nodes()[i].outputs[0];
    if (v == ir::kNoValue || g.is_graph_output(v)) continue;
    const ir::Value& value = g.value(v);
    if (value.dtype != DataType::kFloat32 || value.shape.size() != 4 || value.alias_of != ir::kNoValue) continue;
    const std::optional<Grid> grid = readers_grid(g, uses, v);
    if (!grid || !producer_fits(g.nodes()[i], *grid)) continue;

    const ir::Node before = g.nodes()[i];
    ir::Node& producer = g.nodes()[i];
    producer.attrs.set("output_scale", grid->scale);
    producer.attrs.set("output_zero_point", int64_t{0});
    producer.attrs.set("output_qmin", grid->qmin);
    producer.attrs.set("output_qmax", grid->qmax);
    producer.attrs.set("output_levels", int64_t{1});
    g.value(v).dtype = grid->dtype();
    const std::vector<size_t>& readers = uses.consumers(v);
    const bool supported = ctx.node_supported(g, producer) &&
                           std::all_of(readers.begin(), readers.end(),
                                       [&](size_t r) { return ctx.node_supported(g, g.nodes()[r]); });
    if (!supported) {  // as it was
      g.nodes()[i] = before;  // the producer's attributes, output_levels included
      g.value(v).dtype = DataType::kFloat32;
      continue;
    }
    result.changes.push_back(g.value(v).name + " stored as " + to_string(grid->dtype()) + " levels: " +
                             producer.name + " writes them, " + std::to_string(readers.size()) +
                             " INT8 reader(s) read them as they are");
  }
  return result;
}

}  // namespace inferd::passes
