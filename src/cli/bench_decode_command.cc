// `inferd bench --decode DIR`: the decode ceiling. Every JPEG under DIR is decoded and
// preprocessed (ImageNet geometry: resize 256, crop 224, fp32) again and again for a few
// seconds, by the CPU path (image::decode_and_preprocess, one image per thread on every
// core) and by the GPU decoder (nvJPEG in batches straight into a device batch tensor),
// and images/s is printed for each; a part that cannot run (no GPU, no libnvjpeg) says why
// and the other is still measured.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include "backends/api/registry.h"
#include "cli/args.h"
#include "cli/commands.h"
#include "core/file.h"
#include "core/json.h"
#include "image/preprocess.h"
#include "server/classifier.h"
#include "server/device_image_decode.h"

namespace inferd::cli {
namespace {

using Clock = std::chrono::steady_clock;

struct Corpus {
  std::vector<std::string> bytes;
  std::vector<std::string_view> views;
  size_t total_bytes = 0;
};

Result<Corpus> read_jpegs(const std::string& dir) {
  std::error_code ec;
  std::vector<std::string> paths;
  for (auto it = std::filesystem::recursive_directory_iterator(dir, ec);
       !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
    std::string ext = it->path().extension().string();
    std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
    if (it->is_regular_file() && (ext == ".jpg" || ext == ".jpeg")) paths.push_back(it->path().string());
  }
  if (ec) return not_found(dir + ": " + ec.message());
  if (paths.empty()) return not_found(dir + ": no .jpg or .jpeg files");
  std::sort(paths.begin(), paths.end());
  Corpus corpus;
  for (const std::string& path : paths) {
    ASSIGN_OR_RETURN(std::vector<uint8_t> data, read_file(path));
    corpus.total_bytes += data.size();
    corpus.bytes.emplace_back(data.begin(), data.end());
  }
  for (const std::string& b : corpus.bytes) corpus.views.push_back(b);
  return corpus;
}

struct Measurement {
  int64_t images = 0, failed = 0, left_to_cpu = 0;
  double seconds = 0;
  double per_second() const { return seconds > 0 ? static_cast<double>(images) / seconds : 0; }
};

// image::decode_and_preprocess on `threads` threads, each taking the next image, for `seconds`.
Measurement measure_cpu(const Corpus& corpus, const image::PreprocessConfig& cfg, int threads, double seconds) {
  std::atomic<int64_t> next{0}, done{0}, failed{0};
  const auto start = Clock::now();
  const auto until = start + std::chrono::duration<double>(seconds);
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&] {
      std::vector<float> sample(3 * size_t(cfg.width) * size_t(cfg.height));
      while (Clock::now() < until) {
        const std::string& b = corpus.bytes[static_cast<size_t>(next++) % corpus.bytes.size()];
        const Status s = image::decode_and_preprocess({reinterpret_cast<const uint8_t*>(b.data()), b.size()}, cfg,
                                                      kMaxImagePixels, sample.data());
        (s.is_ok() ? done : failed)++;
      }
    });
  }
  for (std::thread& w : workers) w.join();
  Measurement m;
  m.images = done;
  m.failed = failed;
  m.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  return m;
}

// One batch through the GPU decoder, synchronized; adds its outcome to `m`.
Status gpu_batch(BatchImageDecoder& decoder, std::span<const std::string_view> images,
                 const image::PreprocessConfig& cfg, const TensorView& batch, Stream& stream, Measurement& m) {
  ASSIGN_OR_RETURN(std::vector<Status> statuses,
                   decode_images_to_batch(decoder, images, cfg, kMaxImagePixels, batch, stream));
  RETURN_IF_ERROR(stream.synchronize());
  for (const Status& s : statuses) {
    if (s.is_ok())
      ++m.images;
    else if (s.code() == StatusCode::kUnimplemented)
      ++m.left_to_cpu;
    else
      ++m.failed;
  }
  return Status::ok();
}

// Batches of `batch_size` images (the corpus repeated) for `seconds`, after one untimed
// warm-up batch (nvJPEG's first batched call sets up its buffers).
Result<Measurement> measure_gpu(BatchImageDecoder& decoder, const Corpus& corpus, const image::PreprocessConfig& cfg,
                                int gpu, int batch_size, double seconds) {
  ASSIGN_OR_RETURN(std::shared_ptr<const Backend> backend, create_backend("cuda", {0, gpu}));
  const Device& device = backend->device();
  const Shape shape{batch_size, 3, cfg.height, cfg.width};
  ASSIGN_OR_RETURN(Buffer memory, device.allocate(size_t(element_count(shape)) * sizeof(float), MemoryKind::kDevice));
  ASSIGN_OR_RETURN(std::unique_ptr<Stream> stream, device.create_stream());
  const TensorView batch(memory.data(), shape, dense_strides(shape), DataType::kFloat32, MemoryKind::kDevice);
  std::vector<std::string_view> images(static_cast<size_t>(batch_size));
  size_t next = 0;
  auto fill = [&] {
    for (auto& view : images) view = corpus.views[next++ % corpus.views.size()];
  };
  Measurement warmup, m;
  fill();
  RETURN_IF_ERROR(gpu_batch(decoder, images, cfg, batch, *stream, warmup));
  const auto start = Clock::now();
  const auto until = start + std::chrono::duration<double>(seconds);
  do {
    fill();
    RETURN_IF_ERROR(gpu_batch(decoder, images, cfg, batch, *stream, m));
  } while (Clock::now() < until);
  m.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  return m;
}

void print_cpu(const Measurement& m, int threads, bool json) {
  if (json) {
    std::printf(
        "{\"decoder\":\"cpu\",\"threads\":%d,\"images\":%lld,\"failed\":%lld,\"seconds\":%.3f,"
        "\"images_per_s\":%.1f}\n",
        threads, static_cast<long long>(m.images), static_cast<long long>(m.failed), m.seconds, m.per_second());
  } else {
    std::printf("cpu (libjpeg-turbo, %d threads): %10.1f images/s  (%lld decoded, %lld failed, %.1f s)\n", threads,
                m.per_second(), static_cast<long long>(m.images), static_cast<long long>(m.failed), m.seconds);
  }
}

void print_gpu(const Result<Measurement>& m, int gpu, std::string_view backend, int batch, int threads, bool json) {
  if (!m.is_ok()) {
    if (json)
      std::printf("{\"decoder\":\"gpu\",\"gpu\":%d,\"error\":%s}\n", gpu, json_quote(m.status().message()).c_str());
    else
      std::printf("gpu %d: not measured: %s\n", gpu, m.status().message().c_str());
    return;
  }
  if (json) {
    std::printf(
        "{\"decoder\":\"gpu\",\"gpu\":%d,\"backend\":%s,\"batch\":%d,\"threads\":%d,\"images\":%lld,"
        "\"failed\":%lld,\"left_to_cpu\":%lld,\"seconds\":%.3f,\"images_per_s\":%.1f}\n",
        gpu, json_quote(backend).c_str(), batch, threads, static_cast<long long>(m->images), static_cast<long long>(m->failed),
        static_cast<long long>(m->left_to_cpu), m->seconds, m->per_second());
  } else {
    std::printf(
        "gpu %d (%.*s, batch %d, %d threads): %10.1f images/s  (%lld decoded, %lld failed, %lld left to the CPU, "
        "%.1f s)\n",
        gpu, static_cast<int>(backend.size()), backend.data(), batch, threads, m->per_second(),
        static_cast<long long>(m->images), static_cast<long long>(m->failed), static_cast<long long>(m->left_to_cpu),
        m->seconds);
  }
}

// The GPU part: `threads` threads, each with its own decoder, stream and batch (as the
// server's instances each have theirs), measured together; or why it cannot run here.
Result<Measurement> run_gpu(const Corpus& corpus, const image::PreprocessConfig& cfg, int gpu, int batch, int threads,
                            double seconds, std::string& backend) {
  const auto names = registered_backends();
  if (std::find(names.begin(), names.end(), "cuda") == names.end())
    return not_found("this inferd was built without the CUDA backend");
  if (backend_devices("cuda").empty()) return not_found("no CUDA GPU on this machine");
  std::vector<std::unique_ptr<BatchImageDecoder>> decoders;
  for (int t = 0; t < threads; ++t) {
    ASSIGN_OR_RETURN(std::unique_ptr<BatchImageDecoder> decoder, open_image_decoder("cuda", gpu));
    decoders.push_back(std::move(decoder));
  }
  backend = decoders[0]->backend_name();
  std::vector<Result<Measurement>> parts(static_cast<size_t>(threads), Measurement{});
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t)
    workers.emplace_back([&, t] { parts[size_t(t)] = measure_gpu(*decoders[size_t(t)], corpus, cfg, gpu, batch, seconds); });
  for (std::thread& w : workers) w.join();
  Measurement total;
  for (const Result<Measurement>& part : parts) {
    RETURN_IF_ERROR(part.status());
    total.images += part->images;
    total.failed += part->failed;
    total.left_to_cpu += part->left_to_cpu;
    total.seconds = std::max(total.seconds, part->seconds);
  }
  return total;
}

}  // namespace

int decode_bench_command(const Argv& argv) {
  Args args;
  args.flag("decode", "folder of JPEGs (searched recursively)", "");
  args.flag("gpu", "the GPU whose decoder is measured", "0");
  args.flag("batch", "images per GPU batch", "128");
  args.flag("gpu-threads", "GPU decoders, each on its own thread and stream", "1");
  args.flag("threads", "CPU decode threads (0 = all cores)", "0");
  args.flag("seconds", "timed seconds per decoder", "3");
  args.toggle("json", "one JSON object per decoder per line");
  args.toggle("help", "show this help");
  const char* usage = "inferd bench --decode DIR [--gpu N] [--batch 128] [--gpu-threads 1] [--threads 0] [--seconds 3] [--json]";
  if (Status s = args.parse(argv); !s.is_ok()) return fail(s.message() + "\n" + args.help(usage), 2);
  if (args.on("help")) return std::cout << args.help(usage), 0;
  if (args.get("decode").empty() || !args.positional().empty()) return fail(args.help(usage), 2);
  auto gpu = args.get_int("gpu", 0, 1024);
  auto batch = args.get_int("batch", 1, 4096);
  auto threads = args.get_int("threads", 0, 1024);
  auto gpu_threads = args.get_int("gpu-threads", 1, 64);
  const double seconds = std::atof(args.get("seconds").c_str());
  for (const Status& s : {gpu.status(), batch.status(), threads.status(), gpu_threads.status()})
    if (!s.is_ok()) return fail(s.message(), 2);
  if (!(seconds > 0)) return fail("--seconds must be a number > 0", 2);
  auto corpus = read_jpegs(args.get("decode"));
  if (!corpus.is_ok()) return fail(corpus.status().message());
  const image::PreprocessConfig cfg;  // ImageNet: resize 256, crop 224
  const bool json = args.on("json");
  if (!json)
    std::printf("%s: %zu JPEGs, %.1f MiB; each to a 3x%dx%d fp32 sample (resize %d)\n", args.get("decode").c_str(),
                corpus->bytes.size(), static_cast<double>(corpus->total_bytes) / 1048576.0, cfg.height, cfg.width,
                cfg.resize);
  const int cpu_threads = *threads > 0 ? *threads : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  print_cpu(measure_cpu(*corpus, cfg, cpu_threads, seconds), cpu_threads, json);
  std::string backend;
  const auto measured = run_gpu(*corpus, cfg, *gpu, *batch, *gpu_threads, seconds, backend);
  print_gpu(measured, *gpu, backend, *batch, *gpu_threads, json);
  std::fflush(stdout);
  return 0;
}

}  // namespace inferd::cli
