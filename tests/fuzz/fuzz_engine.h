// What the two harnesses that build engines (onnx_import, plan_load) share: the CPU
// backend and how far they take an engine that loads.
#pragma once

#include <cstdint>
#include <memory>

#include "backends/cpu/cpu_backend.h"
#include "core/tensor.h"
#include "runtime/engine.h"

namespace inferd::fuzz {

// The largest activation arena a harness allocates (create_context): Engine::create only
// refuses arenas larger than the machine's memory, far above libFuzzer's -rss_limit_mb.
inline constexpr int64_t kMaxArenaBytes = int64_t{256} << 20;
// The largest arena a harness also runs a batch through: a few ms under ASan.
inline constexpr int64_t kMaxRunArenaBytes = int64_t{4} << 20;

// One thread: runs stay deterministic and the fuzzer's timing is the harness's own.
inline std::shared_ptr<const Backend> cpu_backend() {
  static const std::shared_ptr<const Backend> backend = cpu::make_cpu_backend({.threads = 1});
  return backend;
}

// What the server does with an engine before and at its first request: create_context,
// then (small arenas only) one batch of 1 with non-zero inputs through every kernel.
inline void exercise(const Engine& engine) {
  if (engine.memory_plan().arena_bytes > kMaxArenaBytes) return;
  auto context = engine.create_context();
  if (!context.is_ok() || engine.memory_plan().arena_bytes > kMaxRunArenaBytes) return;
  ExecutionContext& ctx = **context;
  for (size_t i = 0; i < engine.inputs().size(); ++i) {
    const int64_t count = element_count(ctx.input_shape(i, 1));
    float* in = ctx.input_data(i);
    for (int64_t k = 0; k < count; ++k) in[k] = static_cast<float>(k % 7 - 3) * 0.37f;
  }
  (void)ctx.execute(1);  // errors are fine; crashes, UB and hangs are what is looked for
}

}  // namespace inferd::fuzz
