// The CPU backend: oneDNN 2.6 primitives for the ops that dominate image
// classifiers (convolution, inner product, pooling, LRN, softmax, eltwise, binary
// add, reorder, concat), a hand-vectorised GEMV for batch-1 Gemm, and the naive
// reference kernels (reference.h) for everything else.
//
// Threading: the Backend and its PackedOps are immutable and may be shared across
// threads; each Kernel belongs to one execution context (backends/api/backend.h).
#pragma once

#include <memory>

#include "backends/api/backend.h"

namespace inferd::cpu {

struct CpuBackendOptions {
  int threads = 0;  // OpenMP threads per running kernel; 0 = all cores
};

std::unique_ptr<Backend> make_cpu_backend(const CpuBackendOptions& opts = {});

}  // namespace inferd::cpu
