// The server's request path on the GPU (label gpu): SqueezeNet served with its JPEGs decoded
// on the GPU ([instances] decode = "gpu": nvJPEG straight into the batch's input) gives the
// host-decoding server's top-1 on every bundled photo (PNG and CMYK JPEGs go to the host's
// decoders) and >= 99 % of the ImageNet sample; a truncated JPEG among concurrent requests
// is answered alone with a client error while the rest of its batch is answered right;
// every batch reports its parts timed on the GPU.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <future>
#include <map>
#include <mutex>
#include <span>
#include <string>
#include <vector>

#include "backends/api/registry.h"
#include "core/file.h"
#include "server/served_model.h"
#include "support/model_env.h"
#include "support/test_util.h"

namespace inferd {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

// models/squeezenet copied with an [instances] table: 2 fp16 contexts on GPU 0.
std::string model_folder(const std::string& decode) {
  const fs::path dir = fs::temp_directory_path() / ("inferd-gpu-serving-" + decode);
  fs::remove_all(dir);
  fs::copy(test::source_dir() + "/models/squeezenet", dir, fs::copy_options::recursive);
  fs::remove_all(dir / ".inferd-cache");
  std::ofstream(dir / "config.toml", std::ios::app) << "\n[batching]\nmax_queue_delay_us = 5000\n\n[instances]\n"
                                                    << "count = 2\nbackend = \"cuda\"\nprecision = \"fp16\"\n"
                                                    << "decode = \"" << decode << "\"\n";
  return dir.string();
}

std::shared_ptr<ServedModel> served(const std::string& decode, const ServeModelOptions& options = {}) {
  auto m = ServedModel::load(model_folder(decode), options);
  EXPECT_TRUE(m.is_ok()) << m.status().message();
  return m.is_ok() ? std::move(m).value() : nullptr;
}

#define REQUIRE_GPU() \
  if (backend_devices("cuda").empty()) GTEST_SKIP() << "no CUDA GPU on this machine"

std::string read_bytes(const std::string& path) {
  auto bytes = read_file(path);
  EXPECT_TRUE(bytes.is_ok()) << path << ": " << bytes.status().message();
  return bytes.is_ok() ? std::string(bytes->begin(), bytes->end()) : std::string();
}

// Every image classified concurrently (so that they share batches): top-1 index per image
// (-1 where the answer was an error, which goes to `errors`).
std::vector<int> top1(ServedModel& model, WorkerPool& decoders, const std::vector<std::string>& images,
                      std::vector<Status>* errors = nullptr) {
  std::vector<std::promise<Result<std::vector<float>>>> answers(images.size());
  const auto deadline = ServedModel::Clock::now() + 60s;
  for (size_t i = 0; i < images.size(); ++i)
    model.classify_raw(decoders, images[i], deadline,
                       [&answers, i](Result<std::vector<float>> row) { answers[i].set_value(std::move(row)); });
  std::vector<int> out;
  for (size_t i = 0; i < images.size(); ++i) {
    auto f = answers[i].get_future();
    if (f.wait_for(60s) != std::future_status::ready) {
      ADD_FAILURE() << "image " << i << " was not answered in 60 s";
      out.push_back(-1);
      continue;
    }
    Result<std::vector<float>> row = f.get();
    if (errors) errors->push_back(row.status());
    out.push_back(row.is_ok() ? int(std::max_element(row->begin(), row->end()) - row->begin()) : -1);
  }
  return out;
}

TEST(GpuServing, DecodingOnTheGpuGivesTheHostDecodersTop1) {
  REQUIRE_GPU();
  auto gpu = served("gpu");
  auto cpu = served("cpu");
  ASSERT_TRUE(gpu && cpu);
  EXPECT_NE(gpu->decoder_name(), "cpu");
  EXPECT_EQ(cpu->decoder_name(), "cpu");
  WorkerPool decoders(8, "test-decode");

  std::vector<std::string> names, images;
  for (const std::string& path : bundled_photos()) names.push_back(path), images.push_back(read_bytes(path));
  const size_t bundled = images.size();
  for (const OrtPrediction& e : read_ort_predictions()) {
    names.push_back(test::assets_dir() + "/images/imagenet_sample/" + e.file);
    images.push_back(read_bytes(names.back()));
  }
  const std::vector<int> on_gpu = top1(*gpu, decoders, images);
  const std::vector<int> on_cpu = top1(*cpu, decoders, images);
  size_t agree = 0;
  for (size_t i = 0; i < images.size(); ++i) {
    EXPECT_NE(on_gpu[i], -1) << names[i];
    agree += on_gpu[i] == on_cpu[i];
    if (i < bundled) {
      EXPECT_EQ(on_gpu[i], on_cpu[i]) << names[i];
    }
  }
  std::cout << "GPU-decoding server (" << gpu->decoder_name() << ") vs host decoders, top-1: " << agree << "/"
            << images.size() << "; " << gpu->stats().device_images << " images decoded on the GPU\n";
  EXPECT_GE(double(agree), 0.99 * double(images.size()));
  EXPECT_GT(gpu->stats().device_images, bundled / 2);
  EXPECT_EQ(cpu->stats().device_images, 0u);
}

TEST(GpuServing, ATruncatedJpegFailsAloneInItsBatch) {
  REQUIRE_GPU();
  auto gpu = served("gpu");
  ASSERT_TRUE(gpu);
  WorkerPool decoders(4, "test-decode");
  const std::string photo = read_bytes(test::source_dir() + "/images/1.jpg");
  std::vector<std::string> images(16, photo);
  images[5] = photo.substr(0, photo.size() / 2);  // header intact, scan cut
  images[11] = photo.substr(0, 200);              // cut inside the header segments
  std::vector<Status> errors;
  const std::vector<int> top = top1(*gpu, decoders, images, &errors);
  for (size_t i = 0; i < images.size(); ++i) {
    if (i == 5 || i == 11) {
      EXPECT_EQ(errors[i].code(), StatusCode::kInvalidArgument) << i << ": " << errors[i].message();
      continue;
    }
    EXPECT_TRUE(errors[i].is_ok()) << i << ": " << errors[i].message();
    EXPECT_EQ(top[i], top[0]) << i;
  }
  EXPECT_EQ(gpu->stats().failed, 2u);
}

// inferd_batch_stage_duration_seconds: each batch of the GPU image path reports its three
// parts, timed with CUDA events on the instance's stream.
TEST(GpuServing, BatchesReportTheirStagesOnTheGpuClock) {
  REQUIRE_GPU();
  std::mutex mutex;
  std::map<std::string, std::vector<double>> stage_ms;
  std::vector<double> instance_ms;
  ServeModelOptions options;
  options.on_batch = [&](const std::string&, int, double, double compute_ms, std::span<const BatchStage> stages) {
    std::lock_guard lock(mutex);
    instance_ms.push_back(compute_ms);
    for (const BatchStage& s : stages) stage_ms[std::string(s.name)].push_back(s.ms);
  };
  auto gpu = served("gpu", options);
  ASSERT_TRUE(gpu);
  WorkerPool decoders(4, "test-decode");
  const std::vector<std::string> images(32, read_bytes(test::source_dir() + "/images/1.jpg"));
  for (int top : top1(*gpu, decoders, images)) EXPECT_NE(top, -1);
  gpu.reset();  // drained: every on_batch has run
  std::lock_guard lock(mutex);
  ASSERT_FALSE(instance_ms.empty());
  for (const char* name : {"h2d", "device_decode", "compute"}) {
    ASSERT_EQ(stage_ms[name].size(), instance_ms.size()) << name << ": one per batch";
    for (size_t b = 0; b < instance_ms.size(); ++b) {
      EXPECT_GE(stage_ms[name][b], 0.0) << name;
      EXPECT_LE(stage_ms[name][b], instance_ms[b] + 0.5) << name << ": a part longer than the instance's time";
    }
  }
  for (size_t b = 0; b < instance_ms.size(); ++b) {
    EXPECT_GT(stage_ms["device_decode"][b], 0.0);
    EXPECT_GT(stage_ms["compute"][b], 0.0);
  }
  std::cout << instance_ms.size() << " batches; first: h2d " << stage_ms["h2d"][0] << " ms, device_decode "
            << stage_ms["device_decode"][0] << " ms, compute " << stage_ms["compute"][0] << " ms of "
            << instance_ms[0] << " ms\n";
}

// What /metrics shows per GPU (inferd_gpu_*): memory from CUDA, utilization and power from NVML.
TEST(GpuServing, TelemetryReadsMemoryUtilizationAndPower) {
  REQUIRE_GPU();
  auto backend = create_backend("cuda", {0, 0});
  ASSERT_TRUE(backend.is_ok()) << backend.status().message();
  auto t = (*backend)->device().telemetry();
  ASSERT_TRUE(t.is_ok()) << t.status().message();
  std::cout << (*backend)->device().name() << ": utilization " << t->utilization << ", " << t->power_watts << " W, "
            << t->memory_used_bytes / 1048576 << " of " << t->memory_total_bytes / 1048576 << " MiB\n";
  EXPECT_GT(t->memory_total_bytes, 1e9);
  EXPECT_GT(t->memory_used_bytes, 0);
  EXPECT_LE(t->memory_used_bytes, t->memory_total_bytes);
  EXPECT_GE(t->utilization, 0.0);
  EXPECT_LE(t->utilization, 1.0);
  EXPECT_GT(t->power_watts, 1.0);
  auto cpu = create_backend("cpu", {1, 0});
  ASSERT_TRUE(cpu.is_ok());
  EXPECT_EQ((*cpu)->device().telemetry().status().code(), StatusCode::kUnimplemented);
}

}  // namespace
}  // namespace inferd
