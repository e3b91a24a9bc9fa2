// Bisects the nvJPEG hardware decoder's hang (docs/gpu.md, "Known issues"): on an H100 the
// decoder's first nvjpegDecodeBatched spun forever in cuMemFree in a test process that had
// built and run plans before (GpuFp8, GpuInt8 fp32_timed), and never in one that had not.
// Each run of this program is one variant, in a process of its own (run it under `timeout`):
//   nvjpeg_hang_probe MODEL IMAGES_DIR --before none|fp16|fp32 [--runs N] [--decoder-first]
// --before: build MODEL for the CUDA backend at that precision (max batch 8) and run it N
// times (default 20) at batch 8 before decoding; --decoder-first: open the decoder before
// the plan. Then every JPEG of IMAGES_DIR is decoded on the GPU in batches of 8 (224x224
// samples), with INFERD_NVJPEG_BACKEND as it is set. Prints each step's time, and "decoded"
// at the end; a hang shows as the last step printed.
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "backends/api/registry.h"
#include "builder/builder.h"
#include "core/file.h"
#include "image/preprocess.h"
#include "runtime/engine.h"
#include "server/device_image_decode.h"

namespace inferd {
namespace {

constexpr int kBatch = 8;

struct Args {
  std::string model, images, before = "none";
  int runs = 20;
  bool decoder_first = false;
};

double ms_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t).count();
}

void step(const char* what, std::chrono::steady_clock::time_point t) {
  std::printf("%-40s %9.1f ms\n", what, ms_since(t));
  std::fflush(stdout);
}

Status run_plan(const Args& a, const std::shared_ptr<const Backend>& backend) {
  auto t = std::chrono::steady_clock::now();
  ASSIGN_OR_RETURN(BuildResult built, build_plan(a.model, *backend, BuildOptions(kBatch, a.before)));
  step("plan built", t);
  ASSIGN_OR_RETURN(auto engine, Engine::create(std::move(built.plan), backend));
  ASSIGN_OR_RETURN(auto ctx, engine->create_context());
  const auto sample = static_cast<size_t>(element_count(ctx->input_shape(0, 1)));
  const std::vector<float> input(sample * kBatch, 0.25f);
  t = std::chrono::steady_clock::now();
  for (int i = 0; i < a.runs; ++i) RETURN_IF_ERROR(ctx->run(input, kBatch).status());
  step("plan run", t);
  return Status::ok();
}

Status decode_all(BatchImageDecoder& decoder, const Backend& backend, const std::string& dir) {
  std::vector<std::string> bytes;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    const std::string ext = e.path().extension().string();
    if (ext != ".jpg" && ext != ".JPEG" && ext != ".jpeg") continue;
    ASSIGN_OR_RETURN(auto b, read_file(e.path().string()));
    bytes.emplace_back(b.begin(), b.end());
  }
  image::PreprocessConfig cfg;  // 224x224
  ASSIGN_OR_RETURN(auto stream, backend.device().create_stream());
  const Shape shape{kBatch, 3, cfg.height, cfg.width};
  ASSIGN_OR_RETURN(Buffer memory, backend.device().allocate(element_count(shape) * sizeof(float), MemoryKind::kDevice));
  const TensorView batch(memory.data(), shape, dense_strides(shape), DataType::kFloat32, MemoryKind::kDevice);
  const auto t = std::chrono::steady_clock::now();
  size_t failed = 0;
  for (size_t first = 0; first < bytes.size(); first += kBatch) {
    std::vector<std::string_view> views;
    for (size_t i = first; i < std::min(bytes.size(), first + kBatch); ++i) views.emplace_back(bytes[i]);
    ASSIGN_OR_RETURN(auto statuses, decode_images_to_batch(decoder, views, cfg, int64_t{1} << 26, batch, *stream));
    for (const Status& s : statuses) failed += !s.is_ok();
    RETURN_IF_ERROR(stream->synchronize());
    if (first == 0) step("first batch decoded", t);
  }
  std::printf("decoded %zu images (%zu not on the GPU) in %.1f ms with %s\n", bytes.size(), failed, ms_since(t),
              std::string(decoder.backend_name()).c_str());
  return Status::ok();
}

Status probe(const Args& a) {
  ASSIGN_OR_RETURN(std::shared_ptr<const Backend> backend, create_backend("cuda", BackendOptions{0, 0}));
  std::unique_ptr<BatchImageDecoder> decoder;
  auto open = [&]() -> Status {
    const auto t = std::chrono::steady_clock::now();
    ASSIGN_OR_RETURN(decoder, open_image_decoder("cuda", 0));
    step("decoder opened", t);
    return Status::ok();
  };
  if (a.decoder_first) RETURN_IF_ERROR(open());
  if (a.before != "none") RETURN_IF_ERROR(run_plan(a, backend));
  if (!decoder) RETURN_IF_ERROR(open());
  return decode_all(*decoder, *backend, a.images);
}

}  // namespace
}  // namespace inferd

int main(int argc, char** argv) {
  inferd::Args a;
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s MODEL IMAGES_DIR [--before none|fp16|fp32] [--runs N] [--decoder-first]\n",
                 argv[0]);
    return 2;
  }
  a.model = argv[1];
  a.images = argv[2];
  for (int i = 3; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--before" && i + 1 < argc) {
      a.before = argv[++i];
    } else if (arg == "--runs" && i + 1 < argc) {
      a.runs = std::atoi(argv[++i]);
    } else if (arg == "--decoder-first") {
      a.decoder_first = true;
    } else {
      std::fprintf(stderr, "unknown argument %s\n", arg.c_str());
      return 2;
    }
  }
  const inferd::Status s = inferd::probe(a);
  if (!s.is_ok()) std::fprintf(stderr, "nvjpeg_hang_probe: %s\n", s.message().c_str());
  return s.is_ok() ? 0 : 1;
}
