// The CUDA backend's INT8 convolution (the own implicit GEMM) reading and writing u8/s8
// levels (int8_storage) against the reference kernel: the check the CPU backend passes
// (support/int8_levels_conv.h), in device memory, with the levels path switched on
// (INFERD_CUDA_INT8_LEVELS=1; off by default, cuda_conv_int8.h says why). Without the switch
// the backend says no to such a convolution.
#include <gtest/gtest.h>

#include "backends/api/registry.h"
#include "support/int8_levels_cases.h"
#include "support/int8_levels_conv.h"
#include "support/scoped_env.h"

namespace inferd::test {
namespace {

TEST(CudaInt8Levels, ConvolutionsReadAndWriteLevelsAsTheReferenceDoes) {
  if (backend_devices("cuda").empty()) GTEST_SKIP() << "no CUDA GPU on this machine";
  const ScopedEnv levels("INFERD_CUDA_INT8_LEVELS", "1");
  check_levels_convolutions(*create_backend("cuda", {}).value());
}

TEST(CudaInt8Levels, AreRefusedUnlessSwitchedOn) {
  const ScopedEnv off("INFERD_CUDA_INT8_LEVELS", "0");
  LevelsConv conv(LevelsCase{DataType::kUint8, DataType::kFloat32, true}, kGeometries[0]);
  const auto backend = create_backend("cuda", {});
  if (!backend.is_ok()) GTEST_SKIP() << backend.status().message();
  EXPECT_FALSE(backend.value()->supports(conv.graph, conv.node));
  const ScopedEnv on("INFERD_CUDA_INT8_LEVELS", "1");
  EXPECT_TRUE(backend.value()->supports(conv.graph, conv.node));
}

}  // namespace
}  // namespace inferd::test
