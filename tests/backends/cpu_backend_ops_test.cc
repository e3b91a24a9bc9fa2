// Every op but Conv/Gemm on the CPU backend vs the reference kernels, through the
// op-test harness: pools, LRN, softmax, activations, Add, Reorder, Concat on
// oneDNN, and the ops that only the reference adapter runs.
#include <gtest/gtest.h>

#include "support/op_cases.h"

namespace inferd::test {
namespace {

std::string name_of(const ::testing::TestParamInfo<OpCase>& info) {
  return info.param.name;
}

class CpuBackendPool : public ::testing::TestWithParam<OpCase> {};
TEST_P(CpuBackendPool, MatchesReference) {
  run_case(GetParam(), cpu_backend_under_test());
}
INSTANTIATE_TEST_SUITE_P(Cases, CpuBackendPool, ::testing::ValuesIn(pool_cases()), name_of);

class CpuBackendNormalization : public ::testing::TestWithParam<OpCase> {};
TEST_P(CpuBackendNormalization, MatchesReference) {
  run_case(GetParam(), cpu_backend_under_test());
}
INSTANTIATE_TEST_SUITE_P(Cases, CpuBackendNormalization, ::testing::ValuesIn(normalization_cases()), name_of);

class CpuBackendElementwise : public ::testing::TestWithParam<OpCase> {};
TEST_P(CpuBackendElementwise, MatchesReference) {
  run_case(GetParam(), cpu_backend_under_test());
}
INSTANTIATE_TEST_SUITE_P(Cases, CpuBackendElementwise, ::testing::ValuesIn(elementwise_cases()), name_of);

class CpuBackendReferenceOnly : public ::testing::TestWithParam<OpCase> {};
TEST_P(CpuBackendReferenceOnly, MatchesReference) {
  run_case(GetParam(), cpu_backend_under_test());
}
INSTANTIATE_TEST_SUITE_P(Cases, CpuBackendReferenceOnly, ::testing::ValuesIn(reference_only_cases()), name_of);

}  // namespace
}  // namespace inferd::test
