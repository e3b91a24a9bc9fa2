// An INT8 convolution reading and writing u8/s8 levels (int8_storage) on a backend, against
// the reference kernel on the same views: every combination of a levels or fp32 input with a
// levels or fp32 output, unsigned and signed grids, NHWC as the planner lays them out, batch
// 1, 3 and 1 again on one kernel. The CPU and CUDA backends' tests run it.
#pragma once

#include "backends/api/backend.h"

namespace inferd::test {

// Runs every combination on `backend` (its device's working memory), with gtest assertions.
void check_levels_convolutions(const Backend& backend);

}  // namespace inferd::test
