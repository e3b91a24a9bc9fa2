// Timing the engine alone, one batch size at a time (`inferd bench --engine`, bench/ scripts):
// random inputs (runtime/random_input.h), warm-up runs, then timed runs until both a
// minimum count and a minimum time are reached; per-run latencies give the percentiles.
#pragma once

#include <optional>

#include "backends/api/energy_meter.h"
#include "core/status.h"
#include "runtime/engine.h"

namespace inferd {

struct BatchTimingOptions {
  int warmup_runs = 3;  // first executions build primitives and warm caches: not timed
  int min_runs = 10;
  double min_seconds = 1.0;  // timed runs continue until both minimums are met
};

struct BatchTiming {
  int batch = 0;
  int runs = 0;
  double median_ms = 0, p90_ms = 0, p99_ms = 0, min_ms = 0;
  double images_per_s = 0;  // batches enqueued back to back for min_seconds
  // With an energy meter: mean power over the timed runs and the energy per image.
  std::optional<double> watts, joules_per_image;
};

// `batch` must be 1..ctx's engine max_batch. `meter` may be null.
Result<BatchTiming> time_batch(ExecutionContext& ctx, int batch, const BatchTimingOptions& options, EnergyMeter* meter);

}  // namespace inferd
