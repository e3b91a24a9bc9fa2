// The CUDA backend's INT8 convolution (the own implicit GEMM) reading and writing u8/s8
// levels (int8_storage) against the reference kernel: the check the CPU backend passes
// (support/int8_levels_conv.h), in device memory.
#include <gtest/gtest.h>

#include "backends/api/registry.h"
#include "support/int8_levels_conv.h"

namespace inferd::test {
namespace {

TEST(CudaInt8Levels, ConvolutionsReadAndWriteLevelsAsTheReferenceDoes) {
  if (backend_devices("cuda").empty()) GTEST_SKIP() << "no CUDA GPU on this machine";
  check_levels_convolutions(*create_backend("cuda", {}).value());
}

}  // namespace
}  // namespace inferd::test
