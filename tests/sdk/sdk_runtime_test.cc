// The public API's Engine, ExecutionContext, Runtime, parsers and image helpers: plans
// round-trip, bindings are checked, lifetimes hold, and a real model classifies a photo.
#include <gtest/gtest.h>

#include <cstdio>
#include <algorithm>
#include <fstream>
#include <thread>

#include "core/version.h"
#include "inferd/inferd.h"
#include "support/test_util.h"

namespace ifd = inferd::v1;

namespace inferd::test {
namespace {

// conv 3x3 + ReLU -> global average -> fully connected 5 -> softmax, batch up to 4.
ifd::Engine small_engine() {
  static const std::vector<float> conv = [] {
    Tensor t = random_tensor({8 * 3 * 9}, 11);
    return std::vector<float>(t.floats().begin(), t.floats().end());
  }();
  static const std::vector<float> fc = [] {
    Tensor t = random_tensor({5 * 8}, 12);
    return std::vector<float>(t.floats().begin(), t.floats().end());
  }();
  ifd::NetworkDefinition net("small");
  ifd::Tensor x = net.addInput("image", {-1, 3, 12, 12});
  ifd::Tensor c = net.addActivation(net.addConvolution(x, {8, {3, 3}}, {conv.data(), 216}),
                                    ifd::ActivationType::kRelu);
  ifd::PoolingDesc g;
  g.type = ifd::PoolingType::kAverage;
  g.global = true;
  net.markOutput(net.addSoftMax(net.addFullyConnected(net.addPooling(c, g), 5, {fc.data(), 40})), "prob");
  ifd::BuilderConfig config;
  config.maxBatch = 4;
  auto engine = ifd::Builder::buildEngine(net, config);
  EXPECT_TRUE(engine.isOk()) << engine.status().toString();
  return engine.isOk() ? engine.value() : ifd::Engine();
}

std::vector<float> run(const ifd::Engine& engine, const std::vector<float>& input, int batch) {
  auto context = engine.createExecutionContext();
  EXPECT_TRUE(context.isOk()) << context.status().toString();
  std::vector<float> out(static_cast<size_t>(engine.outputVolume(0, batch)));
  ifd::Status s = context->execute(batch, {input.data()}, {out.data()});
  EXPECT_TRUE(s.isOk()) << s.toString();
  return out;
}

std::vector<float> random_input(const ifd::Engine& engine, int batch, uint32_t seed) {
  Tensor t = random_tensor({engine.inputVolume(0, batch)}, seed);
  return {t.floats().begin(), t.floats().end()};
}

TEST(SdkRuntime, APlanSerializedAndLoadedBackAnswersTheSame) {
  ifd::Engine engine = small_engine();
  ASSERT_TRUE(engine.isValid());
  EXPECT_EQ(engine.input(0).name, "image");
  EXPECT_EQ(engine.input(0).dims, (std::vector<int64_t>{-1, 3, 12, 12}));
  EXPECT_EQ(engine.output(0).name, "prob");
  EXPECT_EQ(engine.outputVolume(0, 3), 15);
  EXPECT_EQ(engine.backend(), "cpu");
  const auto input = random_input(engine, 3, 5);
  const auto expected = run(engine, input, 3);

  auto bytes = engine.serialize();
  ASSERT_TRUE(bytes.isOk());
  auto from_memory = ifd::Runtime::deserialize(bytes->data(), bytes->size());
  ASSERT_TRUE(from_memory.isOk()) << from_memory.status().toString();
  EXPECT_EQ(run(from_memory.value(), input, 3), expected);

  const std::string path = ::testing::TempDir() + "/sdk_small.plan";
  ASSERT_TRUE(engine.save(path).isOk());
  auto from_file = ifd::Runtime::load(path);
  ASSERT_TRUE(from_file.isOk()) << from_file.status().toString();
  EXPECT_EQ(run(from_file.value(), input, 3), expected);
  std::remove(path.c_str());
}

TEST(SdkRuntime, BadPlansAreRefusedWithTheirReason) {
  ifd::Engine engine = small_engine();
  auto bytes = engine.serialize();
  ASSERT_TRUE(bytes.isOk());
  auto truncated = ifd::Runtime::deserialize(bytes->data(), bytes->size() / 2);
  ASSERT_FALSE(truncated.isOk());
  EXPECT_EQ(truncated.status().code(), ifd::StatusCode::kDataLoss) << truncated.status().toString();
  const char junk[] = "not a plan at all";
  EXPECT_FALSE(ifd::Runtime::deserialize(junk, sizeof junk).isOk());
  EXPECT_FALSE(ifd::Runtime::deserialize(nullptr, 10).isOk());
  auto missing = ifd::Runtime::load("/nonexistent/model.plan");
  ASSERT_FALSE(missing.isOk());
  EXPECT_NE(missing.status().message().find("/nonexistent/model.plan"), std::string::npos);
  ifd::RuntimeOptions gpu;
  gpu.backend = "no-such-backend";
  EXPECT_FALSE(ifd::Runtime::deserialize(bytes->data(), bytes->size(), gpu).isOk());
}

TEST(SdkRuntime, BindingsAndBatchesAreChecked) {
  ifd::Engine engine = small_engine();
  auto context = engine.createExecutionContext();
  ASSERT_TRUE(context.isOk());
  const auto input = random_input(engine, 4, 1);
  std::vector<float> out(20);
  const auto message = [&](int batch, std::vector<const float*> in, std::vector<float*> o) {
    return context->execute(batch, in, o).message();
  };
  EXPECT_NE(message(5, {input.data()}, {out.data()}).find("batch 5 is outside 1..4"), std::string::npos);
  EXPECT_NE(message(0, {input.data()}, {out.data()}).find("batch 0"), std::string::npos);
  EXPECT_NE(message(1, {}, {out.data()}).find("0 bindings for an engine with 1"), std::string::npos);
  EXPECT_NE(message(1, {nullptr}, {out.data()}).find("input 0 is a null pointer"), std::string::npos);
  EXPECT_NE(message(1, {input.data()}, {nullptr}).find("output 0 is a null pointer"), std::string::npos);
  // The CPU has no native streams: a non-null one is refused before anything runs.
  int not_a_stream = 0;
  ifd::Status s = context->enqueue(1, {input.data()}, {out.data()}, &not_a_stream);
  EXPECT_EQ(s.code(), ifd::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("no native streams"), std::string::npos);
  // And the context still works afterwards.
  EXPECT_TRUE(context->enqueue(4, {input.data()}, {out.data()}).isOk());
  EXPECT_TRUE(context->wait().isOk());
}

TEST(SdkRuntime, AContextKeepsItsEngineAliveAndContextsRunInParallel) {
  std::vector<float> input, expected;
  std::vector<ifd::ExecutionContext> contexts;
  {
    ifd::Engine engine = small_engine();
    input = random_input(engine, 2, 9);
    expected = run(engine, input, 2);
    for (int i = 0; i < 2; ++i) {
      auto c = engine.createExecutionContext();
      ASSERT_TRUE(c.isOk());
      contexts.push_back(std::move(c).value());
    }
  }  // the last Engine handle is gone; the contexts hold the engine
  std::vector<std::vector<float>> got(2, std::vector<float>(expected.size()));
  std::vector<std::thread> threads;
  for (int i = 0; i < 2; ++i)
    threads.emplace_back([&, i] {
      for (int r = 0; r < 20; ++r)
        ASSERT_TRUE(contexts[static_cast<size_t>(i)].execute(2, {input.data()}, {got[static_cast<size_t>(i)].data()}).isOk());
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(got[0], expected);
  EXPECT_EQ(got[1], expected);
  EXPECT_EQ(contexts[0].engine().maxBatch(), 4);
}

TEST(SdkRuntime, TheBundledSqueezeNetClassifiesTheRabbitThroughTheApi) {
  ifd::NetworkDefinition net;
  ASSERT_TRUE(ifd::parseOnnx(source_dir() + "/models/squeezenet/1/model.onnx", net).isOk()) << net.status().toString();
  EXPECT_GT(net.numLayers(), 50);
  EXPECT_EQ(net.numInputs(), 1);
  ifd::BuilderConfig config;
  auto engine = ifd::Builder::buildEngine(net, config);
  ASSERT_TRUE(engine.isOk()) << engine.status().toString();
  ifd::ImagePreprocessing caffe{224, 224, 256, true, 1.0f, {104, 117, 123}, {1, 1, 1}};
  auto image = ifd::loadImage(source_dir() + "/images/1.jpg", caffe);
  ASSERT_TRUE(image.isOk()) << image.status().toString();
  auto labels = ifd::loadLabels(source_dir() + "/models/squeezenet/labels.txt");
  ASSERT_TRUE(labels.isOk());
  ASSERT_EQ(labels->size(), 1000u);
  std::vector<float> scores(1000);
  auto context = engine->createExecutionContext();
  ASSERT_TRUE(context.isOk());
  ASSERT_TRUE(context->execute(1, {image->data()}, {scores.data()}).isOk());
  const auto top = ifd::topK(scores.data(), 1000, 5, labels.value());
  ASSERT_EQ(top.size(), 5u);
  EXPECT_EQ(top[0].label, "n02328150 Angora, Angora rabbit");
  EXPECT_NEAR(top[0].probability, 0.92f, 0.01f);
  EXPECT_GE(top[0].probability, top[1].probability);
}

TEST(SdkRuntime, TheCaffeSqueezeNetClassifiesTheRabbitToo) {
  const std::string prototxt = "models/caffe_prototxt/squeezenet_v1.1_deploy.prototxt",
                    caffemodel = "models/squeezenet1.1.caffemodel";
  if (auto missing = missing_assets({prototxt, caffemodel}); !missing.empty()) GTEST_SKIP() << missing;
  ifd::NetworkDefinition net;
  ASSERT_TRUE(ifd::parseCaffe(asset_path(prototxt), asset_path(caffemodel), net).isOk()) << net.status().toString();
  auto engine = ifd::Builder::buildEngine(net, {});
  ASSERT_TRUE(engine.isOk()) << engine.status().toString();
  // The importer makes the prototxt's batch of 10 the run-time batch.
  EXPECT_EQ(engine->input(0).dims, (std::vector<int64_t>{-1, 3, 227, 227}));
  ifd::ImagePreprocessing caffe{227, 227, 256, true, 1.0f, {104, 117, 123}, {1, 1, 1}};
  auto image = ifd::loadImage(source_dir() + "/images/1.jpg", caffe);
  ASSERT_TRUE(image.isOk());
  std::vector<float> scores(static_cast<size_t>(engine->outputVolume(0, 1)));
  auto context = engine->createExecutionContext();
  ASSERT_TRUE(context.isOk());
  ASSERT_TRUE(context->execute(1, {image->data()}, {scores.data()}).isOk());
  auto labels = ifd::loadLabels(source_dir() + "/models/squeezenet/labels.txt");
  ASSERT_TRUE(labels.isOk());
  EXPECT_EQ(ifd::topK(scores.data(), 1000, 1, labels.value())[0].label, "n02328150 Angora, Angora rabbit");
}

TEST(SdkParsers, ErrorsNameTheFileAndAFilledNetworkIsNotReused) {
  ifd::NetworkDefinition net;
  ifd::Status missing = ifd::parseOnnx("/nonexistent/model.onnx", net);
  EXPECT_EQ(missing.code(), ifd::StatusCode::kNotFound) << missing.toString();
  EXPECT_NE(missing.message().find("/nonexistent/model.onnx"), std::string::npos);
  EXPECT_EQ(net.status().message(), missing.message());  // the network carries it too

  ifd::NetworkDefinition filled;
  filled.addInput("x", {1, 3, 4, 4});
  ifd::Status twice = ifd::parseOnnx(source_dir() + "/models/squeezenet/1/model.onnx", filled);
  EXPECT_EQ(twice.code(), ifd::StatusCode::kFailedPrecondition);
  EXPECT_NE(twice.message().find("parse into a new one"), std::string::npos);

  ifd::NetworkDefinition caffe;
  ifd::Status no_weights = ifd::parseCaffe(source_dir() + "/README.md", "/nonexistent.caffemodel", caffe);
  EXPECT_FALSE(no_weights.isOk());
}

TEST(SdkImage, UndecodableImagesAreErrorsNamingTheFile) {
  const std::string path = ::testing::TempDir() + "/sdk_truncated.jpg";
  {
    std::ifstream in(source_dir() + "/images/1.jpg", std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), {});
    std::ofstream(path, std::ios::binary) << bytes.substr(0, bytes.size() / 3);
  }
  auto truncated = ifd::loadImage(path);
  ASSERT_FALSE(truncated.isOk());
  EXPECT_NE(truncated.status().message().find(path), std::string::npos) << truncated.status().toString();
  std::remove(path.c_str());
  EXPECT_FALSE(ifd::decodeImage(nullptr, 0).isOk());
  ifd::ImagePreprocessing zero;
  zero.width = 0;
  const char byte = 1;
  EXPECT_NE(ifd::decodeImage(&byte, 1, zero).status().message().find("outside 1..16384"), std::string::npos);
}

TEST(SdkImage, TopKOrdersAndLabelsClasses) {
  const float logits[] = {1.0f, 3.0f, 2.0f};
  const auto top = ifd::topK(logits, 3, 5, {"a", "b"}, /*applySoftmax=*/true);
  ASSERT_EQ(top.size(), 3u);
  EXPECT_EQ(top[0].index, 1);
  EXPECT_EQ(top[0].label, "b");
  EXPECT_EQ(top[1].label, "class 2");
  EXPECT_NEAR(top[0].probability + top[1].probability + top[2].probability, 1.0f, 1e-6f);
  EXPECT_TRUE(ifd::topK(logits, 3, 0).empty());
  EXPECT_EQ(ifd::version(), kEngineVersion);
  const auto backends = ifd::Runtime::backends();
  EXPECT_NE(std::find(backends.begin(), backends.end(), "cpu"), backends.end());
}

}  // namespace
}  // namespace inferd::test
