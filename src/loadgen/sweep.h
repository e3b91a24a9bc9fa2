// A concurrency sweep: the same load at 1, 2, 4, ... connections, to find the most
// throughput a server gives within a latency limit ("maximize throughput under a
// latency limit"). A level is within the budget when its p99 is at most the budget and
// every request got a 2xx; with a budget, the sweep stops at the first level that is not.
// Without one it runs every level, and the best is the fastest level without failures.
#pragma once

#include <functional>
#include <vector>

#include "loadgen/load_run.h"
#include "loadgen/report.h"

namespace inferd::loadgen {

bool within_budget(const RunStats& stats, double p99_budget_ms);  // budget 0: no latency limit

// Runs `base` at each level of `concurrency` (closed loop); `label` gives the fields of
// every report but the concurrency and stats. `on_level` sees each level when it ends.
Result<SweepOutcome> run_sweep(const LoadSpec& base, const RunReport& label, const std::vector<int>& concurrency,
                               double p99_budget_ms, const std::function<void(const RunReport&)>& on_level,
                               LiveCounters* live = nullptr);

}  // namespace inferd::loadgen
