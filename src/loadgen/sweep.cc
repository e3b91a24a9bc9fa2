#include "loadgen/sweep.h"

namespace inferd::loadgen {

bool within_budget(const RunStats& stats, double p99_budget_ms) {
  if (stats.requests == 0 || stats.failures() > 0) return false;
  return p99_budget_ms <= 0 || stats.latency.percentile_ns(99) <= p99_budget_ms * 1e6;
}

Result<SweepOutcome> run_sweep(const LoadSpec& base, const RunReport& label, const std::vector<int>& concurrency,
                               double p99_budget_ms, const std::function<void(const RunReport&)>& on_level,
                               LiveCounters* live) {
  if (base.rate > 0) return invalid_argument("a sweep varies connections in closed loop; it takes no --rate");
  if (concurrency.empty()) return invalid_argument("a sweep needs at least one concurrency level");
  SweepOutcome sweep;
  sweep.p99_budget_ms = p99_budget_ms;
  for (int level : concurrency) {
    LoadSpec spec = base;
    spec.connections = level;
    if (live) {
      live->done.store(0);
      live->errors.store(0);
    }
    ASSIGN_OR_RETURN(RunStats stats, run_load(spec, live));
    RunReport report = label;
    report.name = "c=" + std::to_string(level);
    report.concurrency = level;
    report.stats = std::move(stats);
    const bool ok = within_budget(report.stats, p99_budget_ms);
    if (p99_budget_ms > 0) report.within_budget = ok;
    sweep.levels.push_back(std::move(report));
    const size_t index = sweep.levels.size() - 1;
    if (on_level) on_level(sweep.levels.back());
    if (ok && (!sweep.best || sweep.levels[index].stats.rps() > sweep.levels[*sweep.best].stats.rps()))
      sweep.best = index;
    if (live && live->stop.load()) break;  // interrupted: report the levels so far
    if (!ok && p99_budget_ms > 0) {
      sweep.stopped_at = index;
      break;
    }
  }
  return sweep;
}

}  // namespace inferd::loadgen
