// Seeded random inputs for benchmarks and profiling (never zeros: some kernels
// take shortcuts on zeros, and timings on them would flatter us).
#pragma once

#include <cstdint>

#include "runtime/engine.h"

namespace inferd {

// Fills every input of `ctx` for `batch` samples with uniform values in [-1, 1).
void fill_random_input(ExecutionContext& ctx, int batch, uint32_t seed = 1);

}  // namespace inferd
