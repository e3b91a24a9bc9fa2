// The op-test case lists: one list per op family, run against the reference kernels on
// every backend through the op-test harness (op_test_harness.h): the CPU backend in
// tests/backends (label ops), the CUDA backend in tests/gpu (label gpu) in fp32 and fp16.
// `implementation` names the CPU backend's choice; other backends do not check it.
#pragma once

#include <vector>

#include "support/op_test_harness.h"

namespace inferd::test {

std::vector<OpCase> pool_cases();
std::vector<OpCase> normalization_cases();  // LRN, Softmax, BatchNormalization
std::vector<OpCase> elementwise_cases();
std::vector<OpCase> reference_only_cases();  // ops the CPU backend runs on the reference adapter
std::vector<OpCase> conv_cases();
// Conv with an INT8 input (quantized_layer_folding's attributes) and int8-grid weights: the
// backends with INT8 convolutions (the CPU's oneDNN u8/s8 x s8; CUDA's cuDNN s8 engines,
// which skip the cases it does not take: fewer than 8 channels, groups).
std::vector<OpCase> int8_conv_cases();
// Conv with its output rounded onto an INT8 grid (output_quantization_fusion's attributes),
// on the float and the INT8 path: the CPU backend.
std::vector<OpCase> rounded_conv_cases();
std::vector<OpCase> deconv_cases();  // ConvTranspose
std::vector<OpCase> gemm_cases();
// Gemm with an INT8 input and int8-grid weights (one scale per output): the CPU's oneDNN
// u8/s8 x s8 inner product.
std::vector<OpCase> int8_gemm_cases();

}  // namespace inferd::test
