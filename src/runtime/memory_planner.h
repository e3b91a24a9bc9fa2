// Liveness-based activation memory planning: every activation gets an offset in
// one arena; values whose lifetimes do not overlap share bytes. Greedy by size
// (largest first, lowest fitting offset), as in TFLite's arena planner and
// "Efficient Memory Management for Deep Neural Net Inference" (Pisarchyk & Lee, 2020).
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "ir/graph.h"

namespace inferd {

struct MemoryPlan {
  static constexpr int64_t kNoBuffer = -1;
  // Per value id: byte offset in the arena of the buffer the value lives in (for an
  // alias: its target's buffer), kNoBuffer for constants and unused values.
  std::vector<int64_t> offset;
  int64_t arena_bytes = 0;  // what the plan needs
  int64_t naive_bytes = 0;  // one buffer per activation, as a framework without planning
};

inline constexpr int64_t kArenaAlignment = 64;

// Whether a node may write its output 0 over input `input` when that input dies there
// (the backend's answer: Backend::may_overwrite_input).
using InPlacePredicate = std::function<bool(const ir::Graph&, const ir::Node&, size_t input)>;

// Sizes are taken at `max_batch` (dynamic dim 0), so any batch <= max_batch fits. Without
// a predicate no value shares another's buffer in place.
MemoryPlan plan_memory(const ir::Graph& graph, int64_t max_batch, const InPlacePredicate& may_overwrite = {});

// The value whose buffer `id` lives in (follows alias_of to the end).
ir::ValueId buffer_root(const ir::Graph& graph, ir::ValueId id);

}  // namespace inferd
