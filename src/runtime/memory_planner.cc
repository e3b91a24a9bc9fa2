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

int64_t aligned(int64_t n) { return (n + kArenaAlignment - 1) / kArenaAlignment * kArenaAlignment; }

}  // namespace

ir::ValueId buffer_root(const ir::Graph& graph, ir::ValueId id) {
  while (graph.value(id).alias_of != ir::kNoValue) id = graph.value(id).alias_of;
  return id;
}

MemoryPlan plan_memory(const ir::Graph& graph, int64_t max_batch) {
  const size_t n = graph.value_count();
  const int64_t end = static_cast<int64_t>(graph.nodes().size());
  std::vector<Interval> life(n);
  std::vector<bool> used(n, false);
  auto touch = [&](ir::ValueId id, int64_t at) {
    if (id == ir::kNoValue || graph.value(id).is_constant()) return;
    const auto root = buffer_root(graph, id);
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
    if (used[i] || v.alias_of != ir::kNoValue) plan.naive_bytes += bytes;
    if (!used[i]) continue;
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
    const auto root = static_cast<size_t>(buffer_root(graph, static_cast<ir::ValueId>(i)));
    if (root != i && !graph.value(static_cast<ir::ValueId>(i)).is_constant()) plan.offset[i] = plan.offset[root];
  }
  return plan;
}

}  // namespace inferd
