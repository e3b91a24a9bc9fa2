#include "runtime/engine_benchmark.h"

#include <algorithm>
#include <chrono>
#include <string>
#include <vector>

#include "runtime/random_input.h"

namespace inferd {
namespace {

using Clock = std::chrono::steady_clock;

double ms_between(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}

// The value below which `fraction` of the sorted `values` lie (nearest rank).
double percentile(const std::vector<double>& sorted, double fraction) {
  const size_t rank = static_cast<size_t>(fraction * static_cast<double>(sorted.size()) + 0.5);
  return sorted[std::min(sorted.size() - 1, rank == 0 ? 0 : rank - 1)];
}

}  // namespace

Result<BatchTiming> time_batch(ExecutionContext& ctx, int batch, const BatchTimingOptions& options,
                               EnergyMeter* meter) {
  if (options.min_runs < 1 || options.warmup_runs < 0 || options.min_seconds < 0) {
    return invalid_argument("benchmark: min_runs must be >= 1, warmup_runs and min_seconds >= 0");
  }
  if (batch < 1 || batch > ctx.engine().max_batch()) {
    return invalid_argument("benchmark: batch " + std::to_string(batch) + " is outside 1.." +
                            std::to_string(ctx.engine().max_batch()) + " (the plan's max_batch)");
  }
  fill_random_input(ctx, batch);
  // Warm-up through the host staging, which also leaves the input in the device's arena;
  // the timed runs then bind the arena itself (no copies), as a GPU peer times a model
  // whose input already lives on the GPU. On the CPU both are the same thing.
  for (int i = 0; i < std::max(1, options.warmup_runs); ++i) RETURN_IF_ERROR(ctx.execute(batch));
  std::vector<IoBinding> in, out;
  for (size_t i = 0; i < ctx.engine().inputs().size(); ++i) in.push_back({ctx.device_input(i)});
  for (size_t i = 0; i < ctx.engine().outputs().size(); ++i) out.push_back({ctx.device_output(i)});

  // Latency: one batch at a time, each waited for.
  std::vector<double> ms;
  const auto start = Clock::now();
  auto end = start;
  while (static_cast<int>(ms.size()) < options.min_runs || ms_between(start, end) < options.min_seconds * 1000) {
    const auto t = Clock::now();
    RETURN_IF_ERROR(ctx.enqueue(batch, in, out));
    RETURN_IF_ERROR(ctx.wait());
    end = Clock::now();
    ms.push_back(ms_between(t, end));
  }
  // Throughput and energy: batches back to back, waited for at the end (a GPU overlaps the
  // launch of one with the execution of the previous).
  std::optional<double> joules_before;
  if (meter != nullptr) {
    ASSIGN_OR_RETURN(double j, meter->joules());
    joules_before = j;
  }
  int loop_runs = 0;
  const auto loop_start = Clock::now();
  auto loop_end = loop_start;
  while (loop_runs < options.min_runs || ms_between(loop_start, loop_end) < options.min_seconds * 1000) {
    RETURN_IF_ERROR(ctx.enqueue(batch, in, out));
    if (++loop_runs % 8 == 0) {
      RETURN_IF_ERROR(ctx.wait());
      loop_end = Clock::now();
    }
  }
  RETURN_IF_ERROR(ctx.wait());
  loop_end = Clock::now();
  const double loop_s = ms_between(loop_start, loop_end) / 1000.0;
  BatchTiming timing;
  timing.batch = batch;
  timing.runs = static_cast<int>(ms.size());
  std::sort(ms.begin(), ms.end());
  timing.min_ms = ms.front();
  timing.median_ms = percentile(ms, 0.5);
  timing.p90_ms = percentile(ms, 0.9);
  timing.p99_ms = percentile(ms, 0.99);
  timing.images_per_s = static_cast<double>(batch) * loop_runs / loop_s;
  if (joules_before) {
    ASSIGN_OR_RETURN(double joules_after, meter->joules());
    const double joules = joules_after - *joules_before;
    timing.watts = joules / loop_s;
    timing.joules_per_image = joules / (static_cast<double>(batch) * loop_runs);
  }
  return timing;
}

}  // namespace inferd
