// Conv, ConvTranspose and Gemm on the CPU backend vs the reference kernels, through the op-test
// harness (every layout, batch 1 -> 3 -> 1 on one kernel).
#include <gtest/gtest.h>

#include "support/op_cases.h"

namespace inferd::test {
namespace {

class CpuBackendConv : public ::testing::TestWithParam<OpCase> {};
TEST_P(CpuBackendConv, MatchesReference) {
  run_case(GetParam(), cpu_backend_under_test());
}
INSTANTIATE_TEST_SUITE_P(Cases, CpuBackendConv, ::testing::ValuesIn(conv_cases()),
                         [](const auto& info) { return info.param.name; });

class CpuBackendInt8Conv : public ::testing::TestWithParam<OpCase> {};
TEST_P(CpuBackendInt8Conv, MatchesReference) {
  run_case(GetParam(), cpu_backend_under_test());
}
INSTANTIATE_TEST_SUITE_P(Cases, CpuBackendInt8Conv, ::testing::ValuesIn(int8_conv_cases()),
                         [](const auto& info) { return info.param.name; });

class CpuBackendRoundedConv : public ::testing::TestWithParam<OpCase> {};
TEST_P(CpuBackendRoundedConv, MatchesReference) {
  run_case(GetParam(), cpu_backend_under_test());
}
INSTANTIATE_TEST_SUITE_P(Cases, CpuBackendRoundedConv, ::testing::ValuesIn(rounded_conv_cases()),
                         [](const auto& info) { return info.param.name; });

class CpuBackendConvTranspose : public ::testing::TestWithParam<OpCase> {};
TEST_P(CpuBackendConvTranspose, MatchesReference) {
  run_case(GetParam(), cpu_backend_under_test());
}
INSTANTIATE_TEST_SUITE_P(Cases, CpuBackendConvTranspose, ::testing::ValuesIn(deconv_cases()),
                         [](const auto& info) { return info.param.name; });

class CpuBackendGemm : public ::testing::TestWithParam<OpCase> {};
TEST_P(CpuBackendGemm, MatchesReference) {
  run_case(GetParam(), cpu_backend_under_test());
}
INSTANTIATE_TEST_SUITE_P(Cases, CpuBackendGemm, ::testing::ValuesIn(gemm_cases()),
                         [](const auto& info) { return info.param.name; });

class CpuBackendInt8Gemm : public ::testing::TestWithParam<OpCase> {};
TEST_P(CpuBackendInt8Gemm, MatchesReference) {
  run_case(GetParam(), cpu_backend_under_test());
}
INSTANTIATE_TEST_SUITE_P(Cases, CpuBackendInt8Gemm, ::testing::ValuesIn(int8_gemm_cases()),
                         [](const auto& info) { return info.param.name; });

}  // namespace
}  // namespace inferd::test
