#include "runtime/memory_planner.h"

#include <algorithm>
#include <numeric>

namespace inferd {
namespace {

struct Interval {
  int64_t first = INT64_MAX, last = -1;  // node indices
  void cover(int64_t i) {
    first = std::min(first, i);
    last = std::max(last, i);
  }
  bool overlaps(const Interval& o) const { return first <= o.last && o.first <= last; }
};

int64_t aligned(int64_t n) {
  return (n + kArenaAlignment - 1) / kArenaAlignment * kArenaAlignment;
}

bool aliased_into(const ir::Graph& g, ir::ValueId target) {
  for (size_t i = 0; i < g.value_count(); ++i)
    if (g.value(static_cast<ir::ValueId>(i)).alias_of == target) return true;
  return false;
}

// Records that output 0 of node `i` shares input `k`'s buffer when that is safe: `k` dies
// here, is read once by the node, is a plain activation (no alias, not bound by the user)
// and matches the output's shape, layout and dtype.
bool share_if_dies(const ir::Graph& g, const ir::Node& n, size_t i, size_t k, const std::vector<int64_t>& last_read,
                   std::vector<ir::ValueId>& share) {
  const auto r = n.inputs[k], y = n.outputs[0];
  const auto& rv = g.value(r);
  const auto& yv = g.value(y);
  const bool dies_here = last_read[static_cast<size_t>(r)] == static_cast<int64_t>(i) &&
                         std::count(n.inputs.begin(), n.inputs.end(), r) == 1;
  const bool plain = !rv.is_constant() && rv.alias_of == ir::kNoValue && yv.alias_of == ir::kNoValue &&
                     !g.is_graph_output(r) && std::find(g.inputs.begin(), g.inputs.end(), r) == g.inputs.end() &&
                     !aliased_into(g, r) && !aliased_into(g, y);
  if (dies_here && plain && rv.shape == yv.shape && rv.layout == yv.layout && rv.dtype == yv.dtype) {
    share[static_cast<size_t>(y)] = r;
    return true;
  }
  return false;
}

// In-place outputs: a node may write output 0 over an input that dies there when the
// backend says its kernel can (a Conv accumulating onto its residual R: the backend then
// skips copying R into the output; ResNet's 16 blocks). Returns, per value, the value
// whose buffer it shares (kNoValue: its own).
std::vector<ir::ValueId> in_place_outputs(const ir::Graph& g, const InPlacePredicate& may_overwrite) {
  std::vector<ir::ValueId> share(g.value_count(), ir::kNoValue);
  std::vector<int64_t> last_read(g.value_count(), -1);
  const auto& nodes = g.nodes();
  for (size_t i = 0; i < nodes.size(); ++i)
    for (auto id : nodes[i].inputs)
      if (id != ir::kNoValue) last_read[static_cast<size_t>(id)] = static_cast<int64_t>(i);
  for (size_t i = 0; i < nodes.size(); ++i) {
    const auto& n = nodes[i];
    if (!may_overwrite || n.outputs.empty()) continue;
    for (size_t k = 0; k < n.inputs.size(); ++k) {
      if (n.inputs[k] == ir::kNoValue || !may_overwrite(g, n, k)) continue;
      if (share_if_dies(g, n, i, k, last_read, share)) break;
    }
  }
  return share;
}

}  // namespace

ir::ValueId buffer_root(const ir::Graph& graph, ir::ValueId id) {
  while (graph.value(id).alias_of != ir::kNoValue) id = graph.value(id).alias_of;
  return id;
}

MemoryPlan plan_memory(const ir::Graph& graph, int64_t max_batch, const InPlacePredicate& may_overwrite) {
  const size_t n = graph.value_count();
  const int64_t end = static_cast<int64_t>(graph.nodes().size());
  std::vector<Interval> life(n);
  std::vector<bool> used(n, false);
  const auto share = in_place_outputs(graph, may_overwrite);
  auto root_of = [&](ir::ValueId id) {
    for (;;) {
      id = buffer_root(graph, id);
      if (share[static_cast<size_t>(id)] == ir::kNoValue) return id;
      id = share[static_cast<size_t>(id)];
    }
  };
  auto touch = [&](ir::ValueId id, int64_t at) {
    if (id == ir::kNoValue || graph.value(id).is_constant()) return;
    const auto root = root_of(id);
    life[static_cast<size_t>(root)].cover(at);
    used[static_cast<size_t>(root)] = true;
  };
  for (auto id : graph.inputs) touch(id, -1);
  for (int64_t i = 0; i < end; ++i) {
    const auto& node = graph.nodes()[static_cast<size_t>(i)];
    for (auto id : node.inputs) touch(id, i);
    for (auto id : node.outputs) touch(id, i);
  }
  for (auto id : graph.outputs) touch(id, end);

  MemoryPlan plan;
  plan.offset.assign(n, MemoryPlan::kNoBuffer);
  std::vector<int64_t> size(n, 0);
  std::vector<size_t> roots;
  for (size_t i = 0; i < n; ++i) {
    const auto& v = graph.value(static_cast<ir::ValueId>(i));
    if (v.is_constant()) continue;
    const int64_t bytes = aligned(element_count(v.shape, max_batch) * static_cast<int64_t>(element_size(v.dtype)));
    const bool shares = share[i] != ir::kNoValue || v.alias_of != ir::kNoValue;
    if (used[i] || shares) plan.naive_bytes += bytes;
    if (!used[i] || shares) continue;
    size[i] = bytes;
    roots.push_back(i);
  }
  std::stable_sort(roots.begin(), roots.end(), [&](size_t a, size_t b) { return size[a] > size[b]; });

  std::vector<size_t> placed;
  for (size_t r : roots) {
    // Blocks already placed whose lifetime overlaps, by offset: take the first gap.
    std::vector<std::pair<int64_t, int64_t>> busy;
    for (size_t p : placed)
      if (life[p].overlaps(life[r])) busy.emplace_back(plan.offset[p], plan.offset[p] + size[p]);
    std::sort(busy.begin(), busy.end());
    int64_t offset = 0;
    for (const auto& [lo, hi] : busy) {
      if (offset + size[r] <= lo) break;
      offset = std::max(offset, hi);
    }
    plan.offset[r] = offset;
    plan.arena_bytes = std::max(plan.arena_bytes, offset + size[r]);
    placed.push_back(r);
  }
  for (size_t i = 0; i < n; ++i) {
    const auto root = static_cast<size_t>(root_of(static_cast<ir::ValueId>(i)));
    if (root != i && !graph.value(static_cast<ir::ValueId>(i)).is_constant()) plan.offset[i] = plan.offset[root];
  }
  return plan;
}

}  // namespace inferd
