#include "support/test_util.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <random>

namespace inferd::test {

Tensor random_tensor(const Shape& shape, uint32_t seed, float lo, float hi) {
  Tensor t(DataType::kFloat32, shape);
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(lo, hi);
  for (float& v : t.floats()) v = dist(rng);
  return t;
}

std::string assets_dir() {
  if (const char* env = std::getenv("INFERD_ASSETS"); env && *env) return env;
  return INFERD_ASSETS_DEFAULT;
}

// $INFERD_SOURCE_DIR lets a test binary run from another checkout (the GPU machine).
std::string source_dir() {
  if (const char* env = std::getenv("INFERD_SOURCE_DIR"); env && *env) return env;
  return INFERD_SOURCE_DIR;
}

Diff compare(const Tensor& actual, const Tensor& expected) {
  Diff d;
  if (actual.size() != expected.size()) {
    d.max_abs = d.max_rel = INFINITY;
    return d;
  }
  auto a = actual.floats();
  auto b = expected.floats();
  for (size_t i = 0; i < a.size(); ++i) {
    const float err = std::fabs(a[i] - b[i]);
    if (std::isnan(a[i]) != std::isnan(b[i])) return {INFINITY, INFINITY};
    d.max_abs = std::max(d.max_abs, err);
    d.max_rel = std::max(d.max_rel, err / std::max(std::fabs(b[i]), 1e-3f));
  }
  return d;
}

}  // namespace inferd::test
