#include "runtime/random_input.h"

#include <random>

namespace inferd {

void fill_random_input(ExecutionContext& ctx, int batch, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  for (size_t i = 0; i < ctx.engine().inputs().size(); ++i) {
    const auto n = element_count(ctx.input_shape(i, batch));
    float* data = ctx.input_data(i);
    for (int64_t j = 0; j < n; ++j) data[j] = dist(rng);
  }
}

}  // namespace inferd
