// The server's image decoding on an instance, without a GPU: the batcher's image requests
// (a bad image fails alone in its batch; refusals) with a fake instance; the image-decoding
// instance (server/instance_executor.h) over a CPU execution context of the real
// SqueezeNet, whose "device" decoder is the host's decoder writing into the context's input
// the way nvJPEG writes into a GPU's; and the host-decoding instance that takes a request
// finding the server idle (ServedModel::classify_raw()). The GPU itself:
// tests/gpu/gpu_serving_test.cc.
#include "server/instance_executor.h"

#include <gtest/gtest.h>

#include <cmath>
#include <future>
#include <string>
#include <vector>

#include "core/file.h"
#include "image/decode.h"
#include "server/batcher.h"
#include "server/classifier.h"
#include "server/served_model.h"
#include "server/worker_pool.h"
#include "support/test_util.h"

namespace inferd {
namespace {

using namespace std::chrono_literals;
constexpr size_t kSampleSize = 4;

// Samples: output = input * 2. Images: the "decoded" sample is the image's first byte in
// every element; an image "bad" fails alone; `fail_all` fails the whole call.
class FakeImageExecutor final : public BatchExecutor {
 public:
  explicit FakeImageExecutor(bool decodes, Status fail_all = Status::ok())
      : decodes_(decodes), fail_all_(std::move(fail_all)), inputs_(kSampleSize * 8), outputs_(kSampleSize * 8) {}
  size_t input_size() const override { return kSampleSize; }
  float* input(int slot) override { return inputs_.data() + kSampleSize * size_t(slot); }
  Status execute(int batch) override {
    for (size_t i = 0; i < kSampleSize * size_t(batch); ++i) outputs_[i] = inputs_[i] * 2.0f;
    return Status::ok();
  }
  std::span<const float> output(int slot) const override {
    return {outputs_.data() + kSampleSize * size_t(slot), kSampleSize};
  }
  bool decodes_images() const override { return decodes_; }
  Result<std::vector<Status>> execute_with_images(int batch, std::span<const EncodedSample> encoded) override {
    if (!fail_all_.is_ok()) return fail_all_;
    std::vector<Status> statuses;
    for (const EncodedSample& e : encoded) {
      statuses.push_back(e.bytes == "bad" ? invalid_argument("bad image") : Status::ok());
      std::fill_n(input(e.slot), kSampleSize, static_cast<float>(e.bytes[0]));
    }
    RETURN_IF_ERROR(execute(batch));
    return statuses;
  }

 private:
  bool decodes_;
  Status fail_all_;
  std::vector<float> inputs_, outputs_;
};

std::unique_ptr<Batcher> batcher_of(std::unique_ptr<BatchExecutor> instance, int max_batch = 4) {
  BatcherOptions options;
  options.policy.max_batch = max_batch;
  options.policy.max_queue_delay_us = 10'000'000;  // a batch runs when full
  std::vector<std::unique_ptr<BatchExecutor>> instances;
  instances.push_back(std::move(instance));
  auto batcher = Batcher::create(std::move(options), std::move(instances));
  EXPECT_TRUE(batcher.is_ok()) << batcher.status().message();
  return batcher.is_ok() ? std::move(batcher).value() : nullptr;
}

struct Answer {
  std::promise<Result<std::vector<float>>> promise;
  Result<std::vector<float>> get() {
    auto f = promise.get_future();
    if (f.wait_for(5s) != std::future_status::ready) return deadline_exceeded("no answer in 5 s");
    return f.get();
  }
};

BatchRequest image_request(const std::string& bytes, Answer& answer) {
  BatchRequest r;
  r.image = std::make_shared<const std::string>(bytes);
  r.done = [&answer](Result<std::vector<float>> row) { answer.promise.set_value(std::move(row)); };
  return r;
}

BatchRequest sample_request(float value, Answer& answer) {
  BatchRequest r;
  r.input.assign(kSampleSize, value);
  r.done = [&answer](Result<std::vector<float>> row) { answer.promise.set_value(std::move(row)); };
  return r;
}

TEST(DeviceDecodingBatcher, ABadImageFailsAloneAndTheBatchIsAnswered) {
  auto batcher = batcher_of(std::make_unique<FakeImageExecutor>(true));
  ASSERT_NE(batcher, nullptr);
  EXPECT_TRUE(batcher->decodes_images());
  Answer sample, a, bad, b;
  ASSERT_TRUE(batcher->submit(sample_request(3.0f, sample)).is_ok());
  ASSERT_TRUE(batcher->submit(image_request("A", a)).is_ok());
  ASSERT_TRUE(batcher->submit(image_request("bad", bad)).is_ok());
  ASSERT_TRUE(batcher->submit(image_request("B", b)).is_ok());
  auto s = sample.get(), ra = a.get(), rbad = bad.get(), rb = b.get();
  ASSERT_TRUE(s.is_ok()) << s.status().message();
  EXPECT_EQ(*s, std::vector<float>(kSampleSize, 6.0f));
  ASSERT_TRUE(ra.is_ok()) << ra.status().message();
  EXPECT_EQ(*ra, std::vector<float>(kSampleSize, 2.0f * 'A'));
  ASSERT_TRUE(rb.is_ok()) << rb.status().message();
  EXPECT_EQ(*rb, std::vector<float>(kSampleSize, 2.0f * 'B'));
  EXPECT_EQ(rbad.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(rbad.status().message(), "bad image");
  const Batcher::Stats stats = batcher->stats();
  EXPECT_EQ(stats.batches, 1u);
  EXPECT_EQ(stats.executed, 4u);
  EXPECT_EQ(stats.device_images, 3u);
  EXPECT_EQ(stats.failed, 1u);
}

TEST(DeviceDecodingBatcher, AFailedBatchAnswersEveryRequestWithItsError) {
  auto batcher = batcher_of(std::make_unique<FakeImageExecutor>(true, internal_error("the GPU fell off the bus")), 2);
  ASSERT_NE(batcher, nullptr);
  Answer sample, image;
  ASSERT_TRUE(batcher->submit(sample_request(1.0f, sample)).is_ok());
  ASSERT_TRUE(batcher->submit(image_request("A", image)).is_ok());
  for (Answer* answer : {&sample, &image}) {
    auto r = answer->get();
    EXPECT_EQ(r.status().code(), StatusCode::kInternal);
    EXPECT_EQ(r.status().message(), "the GPU fell off the bus");
  }
  EXPECT_EQ(batcher->stats().failed, 2u);
}

TEST(DeviceDecodingBatcher, ImageRequestsAreRefusedWhereTheyCannotRun) {
  auto plain = batcher_of(std::make_unique<FakeImageExecutor>(false));
  ASSERT_NE(plain, nullptr);
  EXPECT_FALSE(plain->decodes_images());
  Answer unused;
  Status s = plain->submit(image_request("A", unused));
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("do not decode images"), std::string::npos) << s.message();

  auto decoding = batcher_of(std::make_unique<FakeImageExecutor>(true));
  ASSERT_NE(decoding, nullptr);
  s = decoding->submit(image_request("", unused));
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(), "empty image");
  BatchRequest both = image_request("A", unused);
  both.input.assign(kSampleSize, 1.0f);
  s = decoding->submit(std::move(both));
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("not both"), std::string::npos) << s.message();
}

TEST(DeviceDecodingBatcher, InstancesMustAgreeOnDecodingImages) {
  BatcherOptions options;
  options.policy.max_batch = 4;
  std::vector<std::unique_ptr<BatchExecutor>> instances;
  instances.push_back(std::make_unique<FakeImageExecutor>(true));
  instances.push_back(std::make_unique<FakeImageExecutor>(false));
  auto batcher = Batcher::create(std::move(options), std::move(instances));
  ASSERT_FALSE(batcher.is_ok());
  EXPECT_NE(batcher.status().message().find("decodes images on its device and instance 0 does not"),
            std::string::npos)
      << batcher.status().message();
}

// The host's decoder behind the device decoder's interface: each job's image decoded and
// preprocessed with the model's config into its row of the batch (host memory on the CPU).
class HostDecoder final : public BatchImageDecoder {
 public:
  explicit HostDecoder(image::PreprocessConfig cfg) : cfg_(std::move(cfg)) {}
  Result<std::vector<Status>> decode(std::span<const ImageDecodeJob> jobs, const SampleTransform&,
                                     const TensorView& batch, Stream&) override {
    const size_t row_floats = 3 * size_t(cfg_.height) * size_t(cfg_.width);
    std::vector<Status> statuses;
    for (const ImageDecodeJob& job : jobs) {
      rows.push_back(job.row);
      float* row = static_cast<float*>(batch.data) + size_t(job.row) * row_floats;
      statuses.push_back(image::decode_and_preprocess(
          {reinterpret_cast<const uint8_t*>(job.bytes.data()), job.bytes.size()}, cfg_, kMaxImagePixels, row));
    }
    return statuses;
  }
  std::string_view backend_name() const override { return "host"; }
  std::vector<int> rows;  // the rows decoded into, in job order

 private:
  image::PreprocessConfig cfg_;
};

const LoadedModel& squeezenet() {
  static const LoadedModel model = [] {
    LoadOptions options;
    options.max_batch = 8;
    auto m = load_classifier(test::source_dir() + "/models/squeezenet", "", options);
    EXPECT_TRUE(m.is_ok()) << m.status().message();
    return std::move(m).value();
  }();
  return model;
}

std::string photo(int n) {
  auto bytes = read_file(test::source_dir() + "/images/" + std::to_string(n) + ".jpg");
  EXPECT_TRUE(bytes.is_ok()) << bytes.status().message();
  return bytes.is_ok() ? std::string(bytes->begin(), bytes->end()) : std::string();
}

// Output row of one photo decoded on the host and run alone.
std::vector<float> alone(int n) {
  auto ctx = squeezenet().engine->create_context();
  EXPECT_TRUE(ctx.is_ok());
  if (!ctx.is_ok()) return {};
  const std::string bytes = photo(n);
  EXPECT_TRUE(image_to_tensor(squeezenet(), {reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()},
                              (*ctx)->input_data(0))
                  .is_ok());
  EXPECT_TRUE((*ctx)->execute(1).is_ok());
  const auto n_out = size_t(element_count((*ctx)->output_shape(0, 1)));
  return std::vector<float>((*ctx)->output_data(0), (*ctx)->output_data(0) + n_out);
}

void expect_near_rows(std::span<const float> actual, const std::vector<float>& expected, const std::string& what) {
  ASSERT_EQ(actual.size(), expected.size()) << what;
  double worst = 0;
  for (size_t i = 0; i < expected.size(); ++i) worst = std::max(worst, double(std::fabs(actual[i] - expected[i])));
  EXPECT_LT(worst, 1e-3) << what;
}

TEST(DeviceDecodingInstance, SamplesAndImagesShareABatchAndABadImageFailsAlone) {
  const LoadedModel& m = squeezenet();
  ASSERT_NE(m.engine, nullptr);
  ASSERT_TRUE(check_device_decoding(*m.engine, m.preprocess).is_ok());
  auto ctx = m.engine->create_context();
  ASSERT_TRUE(ctx.is_ok()) << ctx.status().message();
  auto decoder = std::make_unique<HostDecoder>(m.preprocess);
  HostDecoder* host = decoder.get();
  auto instance = image_decoding_executor(std::move(ctx).value(), std::move(decoder), m.preprocess, kMaxImagePixels);
  ASSERT_TRUE(instance.is_ok()) << instance.status().message();
  BatchExecutor& exec = **instance;
  EXPECT_TRUE(exec.decodes_images());

  // Slots 0 and 3 are samples the host decoded, 1, 2, 4 and 5 compressed images: 2 is a
  // truncated JPEG, 5 a PNG the "device" does not take.
  const std::string p2 = photo(2), p3 = photo(3), p4 = photo(4), truncated = photo(5).substr(0, 3000);
  auto png_bytes = read_file(test::source_dir() + "/tests/fuzz/corpus/image_preprocess/rgb.png");
  ASSERT_TRUE(png_bytes.is_ok()) << png_bytes.status().message();
  const std::string png(png_bytes->begin(), png_bytes->end());
  for (auto [slot, n] : {std::pair{0, 1}, std::pair{3, 2}}) {
    const std::string bytes = photo(n);
    ASSERT_TRUE(image_to_tensor(m, {reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()}, exec.input(slot))
                    .is_ok());
  }
  const std::vector<EncodedSample> encoded = {{1, p3}, {2, truncated}, {4, p4}, {5, png}};
  auto statuses = exec.execute_with_images(6, encoded);
  ASSERT_TRUE(statuses.is_ok()) << statuses.status().message();
  ASSERT_EQ(statuses->size(), 4u);
  EXPECT_TRUE((*statuses)[0].is_ok()) << (*statuses)[0].message();
  EXPECT_EQ((*statuses)[1].code(), StatusCode::kInvalidArgument) << (*statuses)[1].message();
  EXPECT_TRUE((*statuses)[2].is_ok()) << (*statuses)[2].message();
  EXPECT_EQ((*statuses)[3].code(), StatusCode::kUnimplemented) << (*statuses)[3].message();
  EXPECT_EQ(host->rows, (std::vector<int>{1, 2, 4})) << "the PNG never reaches the decoder";
  expect_near_rows(exec.output(0), alone(1), "slot 0 (host sample of 1.jpg)");
  expect_near_rows(exec.output(1), alone(3), "slot 1 (image 3.jpg)");
  expect_near_rows(exec.output(3), alone(2), "slot 3 (host sample of 2.jpg)");
  expect_near_rows(exec.output(4), alone(4), "slot 4 (image 4.jpg)");
  // The batch's parts, timed on the stream's markers (here the CPU's clock).
  const std::span<const BatchStage> stages = exec.stages();
  ASSERT_EQ(stages.size(), 3u);
  EXPECT_EQ(stages[0].name, "h2d");
  EXPECT_EQ(stages[1].name, "device_decode");
  EXPECT_EQ(stages[2].name, "compute");
  for (const BatchStage& stage : stages) EXPECT_GE(stage.ms, 0.0) << stage.name;
  EXPECT_GT(stages[1].ms, 0.0) << "three JPEGs decoded in no time";
  EXPECT_GT(stages[2].ms, 0.0) << "SqueezeNet ran in no time";
}

TEST(DeviceDecodingInstance, AMeanImageOrAnotherInputShapeIsRefused) {
  const LoadedModel& m = squeezenet();
  ASSERT_NE(m.engine, nullptr);
  image::PreprocessConfig with_mean = m.preprocess;
  with_mean.mean_image = std::make_shared<const std::vector<float>>(3 * 224 * 224, 100.0f);
  EXPECT_EQ(check_device_decoding(*m.engine, with_mean).code(), StatusCode::kUnimplemented);
  image::PreprocessConfig other_size = m.preprocess;
  other_size.width = other_size.height = 112;
  other_size.resize = 128;
  const Status s = check_device_decoding(*m.engine, other_size);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("into one [N,3,112,112] input"), std::string::npos) << s.message();
}

TEST(HostDecodingInstance, DecodesIntoItsRowsOnItsThreadAndABadImageFailsAlone) {
  const LoadedModel& m = squeezenet();
  ASSERT_NE(m.engine, nullptr);
  auto ctx = m.engine->create_context();
  ASSERT_TRUE(ctx.is_ok()) << ctx.status().message();
  int decodes = 0;
  auto instance = host_decoding_executor(std::move(ctx).value(), m.preprocess, kMaxImagePixels,
                                         [&decodes](double seconds) { decodes += seconds > 0 ? 1 : 100; });
  EXPECT_TRUE(instance->decodes_images());
  EXPECT_FALSE(instance->decodes_on_device());
  // Slot 1 is a sample the pool decoded; 0, 2 and 3 are images: 2 truncated, 3 a PNG
  // (the host decodes every format it knows).
  const std::string p1 = photo(1), truncated = photo(5).substr(0, 3000);
  auto png_bytes = read_file(test::source_dir() + "/tests/fuzz/corpus/image_preprocess/rgb.png");
  ASSERT_TRUE(png_bytes.is_ok()) << png_bytes.status().message();
  const std::string png(png_bytes->begin(), png_bytes->end());
  const std::string p2 = photo(2);
  ASSERT_TRUE(
      image_to_tensor(m, {reinterpret_cast<const uint8_t*>(p2.data()), p2.size()}, instance->input(1)).is_ok());
  const std::vector<EncodedSample> encoded = {{0, p1}, {2, truncated}, {3, png}};
  auto statuses = instance->execute_with_images(4, encoded);
  ASSERT_TRUE(statuses.is_ok()) << statuses.status().message();
  ASSERT_EQ(statuses->size(), 3u);
  EXPECT_TRUE((*statuses)[0].is_ok()) << (*statuses)[0].message();
  EXPECT_EQ((*statuses)[1].code(), StatusCode::kInvalidArgument) << (*statuses)[1].message();
  EXPECT_TRUE((*statuses)[2].is_ok()) << (*statuses)[2].message();
  EXPECT_EQ(decodes, 3) << "one decode time per image, each above zero";
  expect_near_rows(instance->output(0), alone(1), "slot 0 (image 1.jpg)");
  expect_near_rows(instance->output(1), alone(2), "slot 1 (the pool's sample of 2.jpg)");
  const std::span<const BatchStage> stages = instance->stages();
  ASSERT_EQ(stages.size(), 2u);
  EXPECT_EQ(stages[0].name, "host_decode");
  EXPECT_EQ(stages[1].name, "compute");
  EXPECT_GT(stages[0].ms, 0.0);
  EXPECT_GT(stages[1].ms, 0.0);
  // A batch of samples only times nothing of its own.
  ASSERT_TRUE(instance->execute_with_images(2, {}).is_ok());
  EXPECT_TRUE(instance->stages().empty());
}

// The served model's routing: a request that finds the server idle is decoded by the
// instance (no decoder thread); one that finds the decoder pool busy goes through it.
TEST(HostDecodingInstance, AnIdleServerDecodesOnTheInstanceAndABusyOneOnThePool) {
  auto model = ServedModel::load(test::source_dir() + "/models/squeezenet", {});
  ASSERT_TRUE(model.is_ok()) << model.status().message();
  WorkerPool decoders(2, "test-decode");
  auto classify = [&](const std::string& bytes) {
    auto answer = std::make_shared<std::promise<Result<std::vector<Prediction>>>>();
    (*model)->classify(decoders, bytes, 1, ServedModel::Clock::time_point::max(),
                       [answer](Result<std::vector<Prediction>> r) { answer->set_value(std::move(r)); });
    return answer->get_future();
  };
  auto first = classify(photo(1)).get();
  ASSERT_TRUE(first.is_ok()) << first.status().message();
  Batcher::Stats stats = (*model)->stats();
  EXPECT_EQ(stats.host_images, 1u);
  EXPECT_EQ(stats.device_images, 0u);

  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  decoders.submit([released] { released.wait(); });  // one decoder thread busy
  for (int i = 0; i < 1000 && decoders.idle_and_admits(0); ++i) std::this_thread::sleep_for(1ms);
  auto second = classify(photo(1));
  auto bad = classify("not an image");
  release.set_value();
  auto r2 = second.get(), rbad = bad.get();
  ASSERT_TRUE(r2.is_ok()) << r2.status().message();
  EXPECT_EQ(r2->front().label, first->front().label);
  EXPECT_NEAR(r2->front().confidence, first->front().confidence, 1e-4);
  EXPECT_EQ(rbad.status().code(), StatusCode::kInvalidArgument) << rbad.status().message();
  stats = (*model)->stats();
  EXPECT_EQ(stats.host_images, 1u) << "the busy pool's requests were decoded on the instance";
  EXPECT_EQ(stats.executed, 2u);
  // The answers' callbacks hold the model until they are destroyed on the worker threads; the
  // last reference must go here, not there (a worker cannot join itself), as the model
  // repository's reaper ensures in the server.
  for (int i = 0; i < 5000 && model->use_count() > 1; ++i) std::this_thread::sleep_for(1ms);
  EXPECT_EQ(model->use_count(), 1);
}

TEST(HostDecodingInstance, ThePoolIsIdleOnlyWithNothingQueuedOrRunningAndWithinItsLimits) {
  WorkerPool pool(1, "test-idle", {0, 1000});
  EXPECT_TRUE(pool.idle_and_admits(1000));
  EXPECT_FALSE(pool.idle_and_admits(1001)) << "try_submit would refuse it";
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  pool.submit([released] { released.wait(); });
  for (int i = 0; i < 1000 && pool.queued() > 0; ++i) std::this_thread::sleep_for(1ms);
  EXPECT_FALSE(pool.idle_and_admits(1)) << "a task is running";
  release.set_value();
  for (int i = 0; i < 1000 && !pool.idle_and_admits(1); ++i) std::this_thread::sleep_for(1ms);
  EXPECT_TRUE(pool.idle_and_admits(1));
}

}  // namespace
}  // namespace inferd
