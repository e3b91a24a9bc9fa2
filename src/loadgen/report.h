// How `inferd bench URL` prints a run: a human summary, a sweep table, one JSON object
// per line (--json) and CSV (--csv). Field names are a contract (docs/bench.md).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "loadgen/run_stats.h"

namespace inferd::loadgen {

struct RunReport {
  std::string name;  // --name, or "c=N" for a sweep level
  std::string url, mode, method;
  int concurrency = 1;
  double rate = 0;  // offered requests/s; 0 = closed loop
  RunStats stats;
  std::optional<bool> within_budget;  // sweeps with a p99 budget
};

struct SweepOutcome {
  std::vector<RunReport> levels;
  double p99_budget_ms = 0;          // 0: none
  std::optional<size_t> best;        // the level with the most req/s within the budget
  std::optional<size_t> stopped_at;  // the level that broke the budget (the sweep's last)
};

std::string format_summary(const RunReport& report);  // several lines
std::string format_json(const RunReport& report);     // one line, no newline
std::string csv_header();
std::string format_csv(const RunReport& report);
std::string sweep_table_header();
std::string format_sweep_row(const RunReport& report);
std::string format_sweep_conclusion(const SweepOutcome& sweep);       // human, one line
std::string format_sweep_conclusion_json(const SweepOutcome& sweep);  // one line

}  // namespace inferd::loadgen
