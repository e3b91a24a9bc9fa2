// Defines a small network in code with inferd's C++ API, builds it, runs a batch, and
// checks that the engine saved as a plan and loaded back gives the same answers.
//   define_network [cpu|cuda|auto]
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "inferd/inferd.h"

namespace ifd = inferd::v1;

namespace {

// Reproducible weights in [-0.5, 0.5): the program prints the same numbers every run.
std::vector<float> random_values(size_t count, unsigned seed) {
  std::vector<float> v(count);
  for (float& x : v) {
    seed = seed * 1664525u + 1013904223u;
    x = static_cast<float>(seed >> 8) / 16777216.0f - 0.5f;
  }
  return v;
}

ifd::Weights weights(const std::vector<float>& v) { return {v.data(), static_cast<int64_t>(v.size())}; }

int fail(const ifd::Status& s) {
  std::fprintf(stderr, "define_network: %s\n", s.toString().c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  // A 16x16 RGB image -> conv 3x3 + ReLU -> max pool -> two 1x1 branches, concatenated
  // -> LRN -> global average -> 10 classes -> softmax.
  ifd::NetworkDefinition net("tiny");
  const auto conv1_w = random_values(8 * 3 * 3 * 3, 1), conv1_b = random_values(8, 2);
  const auto left_w = random_values(4 * 8, 3), right_w = random_values(4 * 8, 4), fc_w = random_values(10 * 8, 5);
  ifd::Tensor x = net.addInput("image", {-1, 3, 16, 16});
  ifd::Tensor c = net.addConvolution(x, {8, {3, 3}, {1, 1}, {1, 1}}, weights(conv1_w), weights(conv1_b), "conv1");
  c = net.addActivation(c, ifd::ActivationType::kRelu);
  ifd::PoolingDesc pool;
  pool.window = {2, 2};
  pool.stride = {2, 2};
  c = net.addPooling(c, pool);
  ifd::Tensor left = net.addConvolution(c, {4, {1, 1}}, weights(left_w), {}, "left");
  ifd::Tensor right = net.addActivation(net.addConvolution(c, {4, {1, 1}}, weights(right_w), {}, "right"),
                                        ifd::ActivationType::kTanh);
  ifd::Tensor both = net.addLRN(net.addConcatenation({left, right}), 3, 1e-4f, 0.75f, 1.0f);
  ifd::PoolingDesc global;
  global.type = ifd::PoolingType::kAverage;
  global.global = true;
  ifd::Tensor scores = net.addFullyConnected(net.addPooling(both, global), 10, weights(fc_w));
  net.markOutput(net.addSoftMax(scores), "prob");
  if (!net.status().isOk()) return fail(net.status());

  ifd::BuilderConfig config;
  config.maxBatch = 4;
  config.backend = argc > 1 ? argv[1] : "cpu";
  auto engine = ifd::Builder::buildEngine(net, config);
  if (!engine.isOk()) return fail(engine.status());
  std::printf("built '%s' for %s (%s): %d layers, output %s\n", net.name().c_str(), engine->backend().c_str(),
              engine->device().c_str(), net.numLayers(), engine->output(0).name.c_str());

  const int batch = 2;
  const auto images = random_values(static_cast<size_t>(engine->inputVolume(0, batch)), 6);
  std::vector<float> prob(static_cast<size_t>(engine->outputVolume(0, batch)));
  auto context = engine->createExecutionContext();
  if (!context.isOk()) return fail(context.status());
  if (ifd::Status s = context->execute(batch, {images.data()}, {prob.data()}); !s.isOk()) return fail(s);

  // The same engine through a plan: serialized, deserialized, run again.
  auto plan = engine->serialize();
  if (!plan.isOk()) return fail(plan.status());
  auto loaded = ifd::Runtime::deserialize(plan->data(), plan->size());
  if (!loaded.isOk()) return fail(loaded.status());
  auto context2 = loaded->createExecutionContext();
  if (!context2.isOk()) return fail(context2.status());
  std::vector<float> prob2(prob.size());
  if (ifd::Status s = context2->execute(batch, {images.data()}, {prob2.data()}); !s.isOk()) return fail(s);

  for (int n = 0; n < batch; ++n) {
    const auto row = ifd::topK(&prob[static_cast<size_t>(n) * 10], 10, 3);
    double sum = 0;
    for (int k = 0; k < 10; ++k) sum += prob[static_cast<size_t>(n) * 10 + k];
    std::printf("image %d: class %d (%.4f), class %d (%.4f), class %d (%.4f); sum %.6f\n", n, row[0].index,
                row[0].probability, row[1].index, row[1].probability, row[2].index, row[2].probability, sum);
    if (std::fabs(sum - 1.0) > 1e-4) return fail({ifd::StatusCode::kInternal, "probabilities do not sum to 1"});
  }
  if (prob != prob2) return fail({ifd::StatusCode::kInternal, "the deserialized plan answered differently"});
  std::printf("plan of %zu bytes: same answers after deserialize\n", plan->size());
  return 0;
}
