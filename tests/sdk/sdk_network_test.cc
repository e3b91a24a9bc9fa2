// The public API's NetworkDefinition and Builder: every layer of a network defined in
// code runs on the CPU backend as the reference kernels compute it, and every mistake is
// an error naming its layer.
#include <gtest/gtest.h>

#include "inferd/inferd.h"
#include "sdk/sdk_internal.h"
#include "support/reference_run.h"
#include "support/test_util.h"

namespace ifd = inferd::v1;

namespace inferd::test {
namespace {

// Random weights that stay alive for the test (the network copies them anyway).
struct WeightStore {
  std::vector<std::vector<float>> arrays;
  ifd::Weights make(int64_t count, uint32_t seed, float scale = 0.5f) {
    Tensor t = random_tensor({count}, seed, -scale, scale);
    arrays.emplace_back(t.floats().begin(), t.floats().end());
    return {arrays.back().data(), count};
  }
};

// Runs `net` built for the CPU and the reference interpreter on the same random input;
// every output must agree.
void expect_matches_reference(const ifd::NetworkDefinition& net, int batch, float tolerance) {
  ASSERT_TRUE(net.status().isOk()) << net.status().toString();
  ifd::BuilderConfig config;
  config.maxBatch = 4;
  auto engine = ifd::Builder::buildEngine(net, config);
  ASSERT_TRUE(engine.isOk()) << engine.status().toString();
  Shape in_shape = engine->input(0).dims;
  in_shape[0] = batch;
  const Tensor input = random_tensor(in_shape, 7);
  std::vector<std::vector<float>> outputs;
  std::vector<float*> out_ptrs;
  for (int i = 0; i < engine->numOutputs(); ++i)
    outputs.emplace_back(static_cast<size_t>(engine->outputVolume(i, batch)), -99.0f);
  for (auto& o : outputs) out_ptrs.push_back(o.data());
  auto context = engine->createExecutionContext();
  ASSERT_TRUE(context.isOk()) << context.status().toString();
  ifd::Status ran = context->execute(batch, {input.data<float>()}, out_ptrs);
  ASSERT_TRUE(ran.isOk()) << ran.toString();

  auto expected = reference_run(net.impl().graph, {input});
  ASSERT_TRUE(expected.is_ok()) << expected.status().message();
  ASSERT_EQ(expected.value().size(), outputs.size());
  for (size_t i = 0; i < outputs.size(); ++i) {
    Shape out_shape = engine->output(static_cast<int>(i)).dims;
    out_shape[0] = batch;
    const Diff d = compare(Tensor::from_floats(out_shape, outputs[i]), expected.value()[i]);
    EXPECT_LE(d.max_abs, tolerance) << "output " << engine->output(static_cast<int>(i)).name;
  }
}

TEST(SdkNetwork, EveryLayerKindMatchesTheReferenceKernels) {
  WeightStore w;
  ifd::NetworkDefinition net("every_layer");
  ifd::Tensor x = net.addInput("data", {-1, 4, 13, 11});
  // Grouped, dilated, strided convolution with bias, then each activation.
  ifd::Tensor c = net.addConvolution(x, {8, {3, 3}, {2, 1}, {2, 1}, {2, 1}, 2}, w.make(8 * 2 * 9, 1), w.make(8, 2), "conv");
  ifd::Tensor a = net.addActivation(c, ifd::ActivationType::kLeakyRelu, 0.1f);
  ifd::Tensor t = net.addActivation(a, ifd::ActivationType::kTanh);
  ifd::Tensor s = net.addActivation(t, ifd::ActivationType::kSigmoid);
  ifd::Tensor k = net.addActivation(c, ifd::ActivationType::kClip, -0.2f, 0.3f);
  ifd::Tensor r = net.addActivation(c, ifd::ActivationType::kRelu);
  // Element-wise, with a broadcast [1, 8, 1, 1] operand from a constant-free path.
  ifd::Tensor sum = net.addElementWise(s, k, ifd::ElementWiseOperation::kSum);
  ifd::Tensor prod = net.addElementWise(sum, r, ifd::ElementWiseOperation::kProd);
  ifd::Tensor mx = net.addElementWise(prod, t, ifd::ElementWiseOperation::kMax);
  ifd::PoolingDesc gmax;
  gmax.global = true;
  ifd::Tensor bcast = net.addElementWise(mx, net.addPooling(t, gmax), ifd::ElementWiseOperation::kSum);
  ifd::Tensor lrn = net.addLRN(bcast, 5, 2e-3f, 0.75f, 1.5f);
  // Pooling, Caffe-style (round up, padding counted) and ONNX-style.
  ifd::PoolingDesc caffe_avg{ifd::PoolingType::kAverage, {3, 3}, {2, 2}, {1, 1}, false, true, true};
  ifd::PoolingDesc onnx_max{ifd::PoolingType::kMax, {2, 2}, {2, 2}, {0, 0}, false, false, false};
  ifd::Tensor p1 = net.addPooling(lrn, caffe_avg);
  ifd::Tensor p2 = net.addPooling(lrn, onnx_max);
  const auto d1 = net.dimensions(p1), d2 = net.dimensions(p2);
  ASSERT_EQ(d1.size(), 4u);
  ifd::Tensor cat = net.addConcatenation({p1, p1}, 1);
  ifd::PoolingDesc gavg;
  gavg.type = ifd::PoolingType::kAverage;
  gavg.global = true;
  ifd::Tensor fc = net.addFullyConnected(cat, 6, w.make(6 * 16 * d1[2] * d1[3], 3), w.make(6, 4));
  ifd::Tensor fc2 = net.addFullyConnected(net.addPooling(p2, gavg), 5, w.make(5 * 8, 5));  // no bias
  net.markOutput(net.addSoftMax(fc), "prob");
  net.markOutput(fc2);
  net.markOutput(p2, "pooled");
  EXPECT_EQ(net.numOutputs(), 3);
  EXPECT_EQ(net.dimensions(fc), (std::vector<int64_t>{-1, 6}));
  expect_matches_reference(net, 3, 1e-4f);
}

TEST(SdkNetwork, DeconvolutionMatchesTheReferenceKernel) {
  WeightStore w;
  ifd::NetworkDefinition net("deconv");
  ifd::Tensor x = net.addInput("data", {2, 4, 5, 6});
  ifd::DeconvolutionDesc d{6, {3, 3}, {2, 2}, {1, 1}, {1, 0}, {1, 1}, 2};
  ifd::Tensor y = net.addDeconvolution(x, d, w.make(4 * 3 * 9, 8), w.make(6, 9), "up");
  EXPECT_EQ(net.dimensions(y), (std::vector<int64_t>{2, 6, 10, 11}));
  net.markOutput(y);
  expect_matches_reference(net, 2, 1e-4f);
}

TEST(SdkNetwork, AMistakeIsNamedAtItsLayerAndTheFirstOneIsKept) {
  WeightStore w;
  ifd::NetworkDefinition net("tiny");
  ifd::Tensor x = net.addInput("data", {-1, 3, 8, 8});
  ifd::Tensor bad = net.addConvolution(x, {4, {3, 3}}, w.make(10, 1), {}, "conv1");
  EXPECT_FALSE(bad.isValid());
  EXPECT_EQ(net.status().code(), ifd::StatusCode::kInvalidArgument);
  EXPECT_EQ(net.status().message(),
            "network 'tiny': layer 'conv1': kernel weights hold 10 values, the layer needs 108 ([4,3,3,3])");
  // Later layers that read the bad tensor add nothing and keep the first message.
  EXPECT_FALSE(net.addActivation(bad, ifd::ActivationType::kRelu).isValid());
  ifd::Tensor ok = net.addConvolution(x, {4, {3, 3}}, w.make(108, 2), w.make(5, 3), "conv2");
  EXPECT_FALSE(ok.isValid());  // bias of 5 for 4 outputs
  EXPECT_NE(net.status().message().find("conv1"), std::string::npos);
  auto engine = ifd::Builder::buildEngine(net, {});
  ASSERT_FALSE(engine.isOk());
  EXPECT_EQ(engine.status().message(), net.status().message());
}

TEST(SdkNetwork, EachKindOfMistakeHasItsOwnMessage) {
  WeightStore w;
  const auto first_error = [](auto&& define) {
    ifd::NetworkDefinition net("n");
    define(net);
    return net.status().message();
  };
  EXPECT_NE(first_error([](auto& n) { n.addInput("x", {-1, 0, 4}); }).find("must be positive"), std::string::npos);
  EXPECT_NE(first_error([](auto& n) { n.addInput("x", {3}); }).find("need the batch"), std::string::npos);
  EXPECT_NE(first_error([](auto& n) {
              n.addInput("x", {1, 3});
              n.addInput("x", {1, 3});
            }).find("the name is taken"),
            std::string::npos);
  // Shape inference reports mismatched operands at the node.
  EXPECT_NE(first_error([](auto& n) {
              auto a = n.addInput("a", {1, 3, 4, 4});
              auto b = n.addInput("b", {1, 5, 4, 4});
              n.addElementWise(a, b, ifd::ElementWiseOperation::kSum, "sum");
            }).find("node 'sum' (Add)"),
            std::string::npos);
  EXPECT_NE(first_error([&](auto& n) {
              auto a = n.addInput("a", {1, 6, 4, 4});
              n.addConvolution(a, {4, {1, 1}, {1, 1}, {0, 0}, {1, 1}, 4}, w.make(6, 4), {}, "g");
            }).find("must both divide into groups 4"),
            std::string::npos);
  EXPECT_NE(first_error([](auto& n) {
              auto a = n.addInput("a", {1, 6, 4, 4});
              n.addLRN(a, 4, 1e-4f, 0.75f, 1.0f, "lrn");
            }).find("must be odd"),
            std::string::npos);
  EXPECT_NE(first_error([](auto& n) {
              auto a = n.addInput("a", {1, 6, 4, 4});
              n.markOutput(a);
              n.markOutput(a);
            }).find("marked as an output twice"),
            std::string::npos);
  // A tensor of another network.
  ifd::NetworkDefinition other("other");
  ifd::Tensor foreign = other.addInput("x", {1, 3, 4, 4});
  EXPECT_NE(first_error([&](auto& n) {
              n.addInput("x", {1, 3, 4, 4});
              n.addActivation(foreign, ifd::ActivationType::kRelu);
            }).find("a tensor of another network"),
            std::string::npos);
}

TEST(SdkBuilder, RefusesNetworksWithoutOutputsAndUnknownBackends) {
  ifd::NetworkDefinition net("n");
  ifd::Tensor x = net.addInput("x", {1, 3, 4, 4});
  auto no_outputs = ifd::Builder::buildEngine(net, {});
  ASSERT_FALSE(no_outputs.isOk());
  EXPECT_NE(no_outputs.status().message().find("at least one input and one marked output"), std::string::npos);
  net.markOutput(net.addActivation(x, ifd::ActivationType::kRelu), "y");
  ifd::BuilderConfig config;
  config.backend = "tpu";
  auto unknown = ifd::Builder::buildEngine(net, config);
  ASSERT_FALSE(unknown.isOk());
  EXPECT_NE(unknown.status().message().find("tpu"), std::string::npos) << unknown.status().toString();
  config.backend = "cpu";
  config.maxBatch = 0;
  auto zero = ifd::Builder::buildEngine(net, config);
  ASSERT_FALSE(zero.isOk());
  EXPECT_NE(zero.status().message().find("max batch 0"), std::string::npos) << zero.status().toString();
}

TEST(SdkBuilder, AWorkspaceBoundTooSmallIsRefusedNamingWhatTheEngineNeeds) {
  WeightStore w;
  ifd::NetworkDefinition net("n");
  ifd::Tensor x = net.addInput("x", {-1, 8, 32, 32});
  net.markOutput(net.addConvolution(x, {16, {3, 3}, {1, 1}, {1, 1}}, w.make(16 * 8 * 9, 1)), "y");
  ifd::BuilderConfig config;
  config.maxBatch = 8;
  config.maxWorkspaceBytes = 1024;
  auto small = ifd::Builder::buildEngine(net, config);
  ASSERT_FALSE(small.isOk());
  EXPECT_EQ(small.status().code(), ifd::StatusCode::kResourceExhausted);
  EXPECT_NE(small.status().message().find("maxWorkspaceBytes allows 1024"), std::string::npos);
  config.maxWorkspaceBytes = size_t{1} << 30;
  auto roomy = ifd::Builder::buildEngine(net, config);
  ASSERT_TRUE(roomy.isOk()) << roomy.status().toString();
  auto context = roomy->createExecutionContext();
  ASSERT_TRUE(context.isOk());
  ASSERT_TRUE(context->prepare().isOk());
  // Input and output of batch 8 at least: 8 * (8 + 16) * 32 * 32 floats.
  EXPECT_GE(context->deviceMemoryBytes(), size_t{8} * 24 * 32 * 32 * 4);
}

}  // namespace
}  // namespace inferd::test
