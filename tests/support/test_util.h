// Small helpers shared by tests: seeded random tensors (never zeros), asset paths,
// and comparisons with a tolerance.
#pragma once

#include <cstdint>
#include <string>

#include "core/tensor.h"

namespace inferd::test {

// Uniform in [lo, hi) from a fixed seed; the same seed gives the same tensor.
Tensor random_tensor(const Shape& shape, uint32_t seed, float lo = -1.0f, float hi = 1.0f);

// $INFERD_ASSETS, else the build-time default (../shared/assets).
std::string assets_dir();
std::string source_dir();  // the repository root

struct Diff {
  float max_abs = 0;  // max |a - b|
  float max_rel = 0;  // max |a - b| / max(|b|, 1e-3)
};
Diff compare(const Tensor& actual, const Tensor& expected);

}  // namespace inferd::test
