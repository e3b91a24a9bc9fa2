#include "server/instance_executor.h"

#include <array>
#include <chrono>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "core/log.h"
#include "server/device_image_decode.h"

namespace inferd {
namespace {

// Samples only: input(slot) is the context's host staging; execute() runs the batch. The
// base of the instances below (a model's instances decode images, on a device or on their
// own thread).
class ContextExecutor : public BatchExecutor {
 public:
  explicit ContextExecutor(std::unique_ptr<ExecutionContext> ctx)
      : ctx_(std::move(ctx)),
        in_size_(static_cast<size_t>(element_count(ctx_->input_shape(0, 1)))),
        out_size_(static_cast<size_t>(element_count(ctx_->output_shape(0, 1)))) {}

  size_t input_size() const override { return in_size_; }
  float* input(int slot) override { return ctx_->input_data(0) + static_cast<size_t>(slot) * in_size_; }
  Status execute(int batch) override { return ctx_->execute(batch); }
  std::span<const float> output(int slot) const override {
    return {ctx_->output_data(0) + static_cast<size_t>(slot) * out_size_, out_size_};
  }

 protected:
  std::unique_ptr<ExecutionContext> ctx_;
  const size_t in_size_, out_size_;
};

// Images decoded on the instance's own worker thread, straight into the context's input
// rows, then the batch: what the server does with a request that finds the model idle
// (Batcher::idle()), so that a lone request takes no hand-off to a decoder thread and its
// sample is not decoded into a buffer of its own and copied (ServedModel::classify_raw()).
class HostDecodingExecutor final : public ContextExecutor {
 public:
  HostDecodingExecutor(std::unique_ptr<ExecutionContext> ctx, const image::PreprocessConfig& cfg, int64_t max_pixels,
                       std::function<void(double)> on_decode)
      : ContextExecutor(std::move(ctx)), cfg_(cfg), max_pixels_(max_pixels), on_decode_(std::move(on_decode)) {}

  bool decodes_images() const override { return true; }
  bool decodes_on_device() const override { return false; }

  Result<std::vector<Status>> execute_with_images(int batch, std::span<const EncodedSample> encoded) override {
    stage_count_ = 0;
    if (encoded.empty()) return ContextExecutor::execute_with_images(batch, encoded);
    const auto start = std::chrono::steady_clock::now();
    std::vector<Status> statuses;
    statuses.reserve(encoded.size());
    for (const EncodedSample& e : encoded) {
      const auto decode_start = std::chrono::steady_clock::now();
      Status s = image::decode_and_preprocess({reinterpret_cast<const uint8_t*>(e.bytes.data()), e.bytes.size()}, cfg_,
                                              max_pixels_, input(e.slot));
      if (on_decode_) on_decode_(std::chrono::duration<double>(std::chrono::steady_clock::now() - decode_start).count());
      // Every decode failure is the client's image (bad bytes, too many pixels), as on the
      // decoder pool: a 400 for that request alone.
      statuses.push_back(s.is_ok() ? s : invalid_argument(s.message()));
    }
    const auto decoded = std::chrono::steady_clock::now();
    RETURN_IF_ERROR(execute(batch));
    stages_[0] = {"host_decode", std::chrono::duration<double, std::milli>(decoded - start).count()};
    stages_[1] = {"compute", std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - decoded).count()};
    stage_count_ = stages_.size();
    return statuses;
  }

  std::span<const BatchStage> stages() const override { return {stages_.data(), stage_count_}; }

 private:
  const image::PreprocessConfig cfg_;
  const int64_t max_pixels_;
  const std::function<void(double)> on_decode_;
  std::array<BatchStage, 2> stages_{};
  size_t stage_count_ = 0;  // of stages_, valid for the last batch
};

// A per-image decode failure as the request's answer: the client's image (400) unless the
// device cannot decode it (kUnimplemented: the server decodes it on the CPU) or the device
// failed (kInternal), as the CPU path answers every decode failure with kInvalidArgument.
Status as_request_status(Status s) {
  if (s.is_ok() || s.code() == StatusCode::kUnimplemented || s.code() == StatusCode::kInternal) return s;
  return invalid_argument(s.message());
}

class ImageDecodingExecutor final : public ContextExecutor {
 public:
  ImageDecodingExecutor(std::unique_ptr<ExecutionContext> ctx, std::unique_ptr<BatchImageDecoder> decoder,
                        const image::PreprocessConfig& cfg, int64_t max_pixels)
      : ContextExecutor(std::move(ctx)), decoder_(std::move(decoder)), cfg_(cfg), max_pixels_(max_pixels) {
    const Engine& engine = ctx_->engine();
    const Shape shape = ctx_->input_shape(0, engine.max_batch());
    device_batch_ = TensorView(ctx_->device_input(0), shape, dense_strides(shape), engine.inputs().at(0).dtype,
                               engine.device().working_memory());
    row_bytes_ = in_size_ * element_size(engine.inputs().at(0).dtype);
  }

  bool decodes_images() const override { return true; }

  Result<std::vector<Status>> execute_with_images(int batch, std::span<const EncodedSample> encoded) override {
    stage_count_ = 0;
    if (encoded.empty()) return ContextExecutor::execute_with_images(batch, encoded);
    mark(0);
    RETURN_IF_ERROR(copy_sample_rows(batch, encoded));
    mark(1);
    images_.clear();
    rows_.clear();
    for (const EncodedSample& e : encoded) {
      images_.push_back(e.bytes);
      rows_.push_back(e.slot);
    }
    ASSIGN_OR_RETURN(std::vector<Status> statuses, decode_images_to_batch(*decoder_, images_, cfg_, max_pixels_,
                                                                          device_batch_, ctx_->stream(), rows_));
    for (Status& s : statuses) s = as_request_status(std::move(s));
    mark(2);
    // The input is in place (no copy); the output goes to the host staging output() reads.
    const IoBinding in{ctx_->device_input(0)}, out{ctx_->output_data(0)};
    RETURN_IF_ERROR(ctx_->enqueue(batch, {&in, 1}, {&out, 1}));
    mark(3);
    RETURN_IF_ERROR(ctx_->wait());
    read_stages();
    return statuses;
  }

  std::span<const BatchStage> stages() const override { return {stages_.data(), stage_count_}; }

 private:
  // Stage timing: markers 0..3 on the context's stream around the sample copies, the
  // decodes and the engine (the server's contexts do not profile, which would use the
  // same markers). Timing is diagnostics: a stream that refuses a marker stops it for this
  // instance with one warning, and the batch runs on.
  void mark(size_t index) {
    if (!timing_) return;
    if (Status s = ctx_->stream().record_marker(index); !s.is_ok()) stop_timing(s);
  }
  void read_stages() {
    static constexpr std::string_view kNames[] = {"h2d", "device_decode", "compute"};
    for (size_t i = 0; timing_ && i < stages_.size(); ++i) {
      Result<double> ms = ctx_->stream().elapsed_ms(i, i + 1);
      if (!ms.is_ok()) return stop_timing(ms.status());
      stages_[i] = {kNames[i], *ms};
    }
    stage_count_ = timing_ ? stages_.size() : 0;
  }
  void stop_timing(const Status& why) {
    log_warn("batch_stage_timing_off").kv("error", why.message());
    timing_ = false;
    stage_count_ = 0;
  }


  // The slots not in `encoded` (samples the host decoded, written through input()) go to
  // the device input, one copy per run of consecutive slots, ahead of the decodes on the
  // same stream.
  Status copy_sample_rows(int batch, std::span<const EncodedSample> encoded) {
    std::vector<bool> is_image(static_cast<size_t>(batch), false);
    for (const EncodedSample& e : encoded) is_image.at(static_cast<size_t>(e.slot)) = true;
    const Device& device = ctx_->engine().device();
    auto* device_input = static_cast<char*>(ctx_->device_input(0));
    const auto* host_input = reinterpret_cast<const char*>(ctx_->input_data(0));
    for (int first = 0; first < batch;) {
      if (is_image[static_cast<size_t>(first)]) {
        ++first;
        continue;
      }
      int end = first;
      while (end < batch && !is_image[static_cast<size_t>(end)]) ++end;
      const size_t offset = static_cast<size_t>(first) * row_bytes_;
      RETURN_IF_ERROR(device.copy(device_input + offset, host_input + offset,
                                  static_cast<size_t>(end - first) * row_bytes_, ctx_->stream()));
      first = end;
    }
    return Status::ok();
  }

  std::unique_ptr<BatchImageDecoder> decoder_;
  const image::PreprocessConfig cfg_;
  const int64_t max_pixels_;
  TensorView device_batch_;
  size_t row_bytes_ = 0;
  std::vector<std::string_view> images_;  // per call, kept so that the steady state allocates less
  std::vector<int> rows_;
  bool timing_ = true;
  std::array<BatchStage, 3> stages_{};
  size_t stage_count_ = 0;  // of stages_, valid for the last batch
};

}  // namespace

std::unique_ptr<BatchExecutor> host_decoding_executor(std::unique_ptr<ExecutionContext> ctx,
                                                     const image::PreprocessConfig& cfg, int64_t max_pixels,
                                                     std::function<void(double seconds)> on_decode) {
  return std::make_unique<HostDecodingExecutor>(std::move(ctx), cfg, max_pixels, std::move(on_decode));
}

Status check_device_decoding(const Engine& engine, const image::PreprocessConfig& cfg) {
  RETURN_IF_ERROR(sample_transform(cfg).status());
  const Shape shape = engine.inputs().empty() ? Shape{} : engine.inputs()[0].shape;
  if (engine.inputs().size() != 1 || shape.size() != 4 || shape[1] != 3 || shape[2] != cfg.height ||
      shape[3] != cfg.width)
    return invalid_argument("images are decoded on the device only into one [N,3," + std::to_string(cfg.height) + "," +
                            std::to_string(cfg.width) + "] input; this model's input is " + to_string(shape));
  return Status::ok();
}

Result<std::unique_ptr<BatchExecutor>> image_decoding_executor(std::unique_ptr<ExecutionContext> ctx,
                                                               std::unique_ptr<BatchImageDecoder> decoder,
                                                               const image::PreprocessConfig& cfg, int64_t max_pixels) {
  if (!ctx || !decoder) return invalid_argument("an image-decoding instance needs a context and a decoder");
  RETURN_IF_ERROR(check_device_decoding(ctx->engine(), cfg));
  return std::unique_ptr<BatchExecutor>(
      std::make_unique<ImageDecodingExecutor>(std::move(ctx), std::move(decoder), cfg, max_pixels));
}

}  // namespace inferd
