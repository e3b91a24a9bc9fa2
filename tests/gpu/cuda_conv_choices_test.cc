// The Conv tuning blob a plan stores per node (cuda_conv.h): every entry kind round-trips,
// and malformed blobs are refused with a message, never misread. Host code only: runs
// without a GPU, but lives with the CUDA backend's tests because only they link it.
#include <gtest/gtest.h>

#include "backends/cuda/cuda_conv.h"

namespace inferd::cuda {
namespace {

std::vector<ConvChoice> one_of_each() {
  ConvChoice legacy;
  legacy.batch = 1;
  legacy.kind = ConvChoiceKind::kLegacy;
  legacy.algo = CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_PRECOMP_GEMM;
  legacy.math = CUDNN_TENSOR_OP_MATH;
  legacy.workspace = 4096;
  ConvChoice graph;
  graph.batch = 8;
  graph.kind = ConvChoiceKind::kGraph;
  graph.engine.engine = 41;
  graph.engine.knobs = {{3, 2}, {5, -1}};
  ConvChoice depthwise;
  depthwise.batch = 256;
  depthwise.kind = ConvChoiceKind::kDepthwise;
  depthwise.variant = 2;
  return {legacy, graph, depthwise};
}

TEST(ConvChoices, EveryKindRoundTrips) {
  const std::vector<ConvChoice> choices = one_of_each();
  Result<std::vector<ConvChoice>> back = decode_conv_choices(encode_conv_choices(choices));
  ASSERT_TRUE(back.is_ok()) << back.status().message();
  ASSERT_EQ(back->size(), 3u);
  EXPECT_EQ((*back)[0].algo, CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_PRECOMP_GEMM);
  EXPECT_EQ((*back)[0].math, CUDNN_TENSOR_OP_MATH);
  EXPECT_EQ((*back)[0].workspace, 4096u);
  EXPECT_EQ((*back)[1].kind, ConvChoiceKind::kGraph);
  EXPECT_EQ((*back)[1].engine, choices[1].engine);
  EXPECT_EQ((*back)[2].kind, ConvChoiceKind::kDepthwise);
  EXPECT_EQ((*back)[2].batch, 256);
  EXPECT_EQ((*back)[2].variant, 2);
  EXPECT_EQ(choice_for_batch(*back, 100)->kind, ConvChoiceKind::kDepthwise);
  EXPECT_EQ(choice_for_batch(*back, 2)->kind, ConvChoiceKind::kGraph);
}

TEST(ConvChoices, MalformedBlobsAreRefused) {
  const std::vector<uint8_t> good = encode_conv_choices(one_of_each());
  const size_t depthwise_header = good.size() - 16;  // the last entry: a header alone
  std::vector<uint8_t> bad = good;
  bad[depthwise_header + 5] = 3;  // a depthwise variant that does not exist
  EXPECT_NE(decode_conv_choices(bad).status().message().find("unknown variant 3"), std::string::npos);
  bad = good;
  bad[depthwise_header + 6] = 1;  // a depthwise entry with a second parameter
  EXPECT_NE(decode_conv_choices(bad).status().message().find("second parameter"), std::string::npos);
  bad = good;
  bad[depthwise_header + 4] = 7;  // no such kind
  EXPECT_NE(decode_conv_choices(bad).status().message().find("kind 7 is unknown"), std::string::npos);
  bad = good;
  bad.pop_back();
  EXPECT_FALSE(decode_conv_choices(bad).is_ok());
  bad = good;
  bad[0] = 9;
  EXPECT_NE(decode_conv_choices(bad).status().message().find("rebuild the plan"), std::string::npos);
}

}  // namespace
}  // namespace inferd::cuda
