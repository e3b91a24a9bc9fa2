#include "backends/cuda/gpu_jpeg_decoder.h"

#include <cuda_runtime.h>

#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "backends/cuda/cuda_common.h"
#include "backends/cuda/cuda_kernels.h"
#include "backends/cuda/nvjpeg_api.h"
#include "backends/cuda/nvjpeg_batched_states.h"
#include "backends/cuda/nvjpeg_memory.h"

namespace inferd::cuda {
namespace {

constexpr size_t kScratchAlignment = 256;  // each image's pixels start on a 256-byte boundary

std::string size_string(int w, int h) {
  return std::to_string(w) + "x" + std::to_string(h);
}

// A failed nvJPEG call on one image, as that image's Status.
Status image_status(const char* what, NvjpegStatus status) {
  const std::string message = std::string("JPEG ") + what + ": " + nvjpeg_status_name(status);
  switch (status) {
    case nvjpeg::kJpegNotSupported:
    case nvjpeg::kImplementationNotSupported:
      return unimplemented(message + " (decode it on the CPU)");
    case nvjpeg::kAllocatorFailure:
      return resource_exhausted(message);
    case nvjpeg::kExecutionFailed:
    case nvjpeg::kArchMismatch:
    case nvjpeg::kInternalError:
      return internal_error(message);
    default:  // BAD_JPEG, INCOMPLETE_BITSTREAM, INVALID_PARAMETER (a length nvJPEG refuses), ...
      return invalid_argument(message);
  }
}

Status library_status(const char* call, NvjpegStatus status) {
  if (status == nvjpeg::kSuccess) return Status::ok();
  return failed_precondition(std::string(call) + " failed: " + nvjpeg_status_name(status));
}

Status check_batch(std::span<const ImageDecodeJob> jobs, const SampleTransform& transform, const TensorView& batch) {
  if (jobs.empty()) return invalid_argument("GPU JPEG decode: no images in the batch");
  if (batch.memory != MemoryKind::kDevice || batch.data == nullptr)
    return invalid_argument("GPU JPEG decode: the batch tensor must be in device memory");
  if (batch.shape.size() != 4 || batch.strides.size() != 4 || batch.shape[1] != 3 || batch.shape[2] < 1 ||
      batch.shape[3] < 1)
    return invalid_argument("GPU JPEG decode: the batch tensor must be [N,3,H,W], is " + to_string(batch.shape));
  if (!is_float_activation(batch.dtype))
    return invalid_argument("GPU JPEG decode: the batch tensor must be fp32, fp16 or bf16");
  for (int c : transform.source_channel)
    if (c < 0 || c > 2) return invalid_argument("GPU JPEG decode: source channels must be 0..2");
  for (const ImageDecodeJob& job : jobs) {
    if (job.row < 0 || job.row >= batch.shape[0])
      return invalid_argument("GPU JPEG decode: row " + std::to_string(job.row) + " is outside the batch of " +
                              std::to_string(batch.shape[0]));
  }
  return Status::ok();
}

class GpuJpegDecoder final : public BatchImageDecoder {
 public:
  GpuJpegDecoder(const NvjpegApi* api, int gpu) : api_(api), gpu_(gpu), memory_(gpu) {}
  GpuJpegDecoder(const GpuJpegDecoder&) = delete;
  GpuJpegDecoder& operator=(const GpuJpegDecoder&) = delete;

  ~GpuJpegDecoder() override {
    // Release paths: nothing to tell a caller, and each object is released independently.
    if (scratch_) (void)cudaFree(scratch_);  // stream-ordered memory, freed as any other here
    if (jpeg_stream_) (void)api_->stream_destroy(jpeg_stream_);
    hw_states_.reset();  // states before the handles that made them
    states_.reset();
    if (hw_handle_) (void)api_->destroy(hw_handle_);
    if (state_) (void)api_->state_destroy(state_);
    if (handle_) (void)api_->destroy(handle_);
  }

  Status init() {
    CUDA_RETURN_IF_ERROR(cudaSetDevice(gpu_));
    RETURN_IF_ERROR(memory_.keep_pool_memory());
    RETURN_IF_ERROR(library_status(api_->create_ex_v2 ? "nvjpegCreateExV2" : "nvjpegCreateSimple",
                                   create_handle(nvjpeg::kBackendDefault, &handle_)));
    RETURN_IF_ERROR(library_status("nvjpegJpegStateCreate", api_->state_create(handle_, &state_)));
    states_ = std::make_unique<BatchedStates>(api_, handle_);
    RETURN_IF_ERROR(library_status("nvjpegDecodeBatchedInitialize", states_->prepare(chunk_sizes())));
    // The JPEG engines: absent on most GPUs, where nvjpegCreateEx refuses the backend.
    // INFERD_NVJPEG_BACKEND=default leaves them unused (every image on the CUDA cores, for
    // measuring one against the other), =hardware requires them.
    const char* forced = std::getenv("INFERD_NVJPEG_BACKEND");
    const std::string wanted = forced ? forced : "";
    if (!wanted.empty() && wanted != "default" && wanted != "hardware")
      return invalid_argument("INFERD_NVJPEG_BACKEND must be default or hardware, not '" + wanted + "'");
    if (wanted == "default") return Status::ok();
    if (create_handle(nvjpeg::kBackendHardware, &hw_handle_) != nvjpeg::kSuccess) {
      hw_handle_ = nullptr;
      if (wanted == "hardware")
        return failed_precondition("INFERD_NVJPEG_BACKEND=hardware, but this GPU has no JPEG engines nvJPEG can use");
      return Status::ok();
    }
    hw_states_ = std::make_unique<BatchedStates>(api_, hw_handle_);
    RETURN_IF_ERROR(library_status("nvjpegDecodeBatchedInitialize", hw_states_->prepare(chunk_sizes())));
    return library_status("nvjpegJpegStreamCreate", api_->stream_create(hw_handle_, &jpeg_stream_));
  }

  // A handle whose buffers come from memory_ (nvjpeg_memory.h), or from nvJPEG's own
  // allocators where the library has no nvjpegCreateExV2.
  NvjpegStatus create_handle(int backend, NvjpegHandle* handle) {
    if (api_->create_ex_v2) return api_->create_ex_v2(backend, memory_.device(), memory_.pinned(), 0, handle);
    return backend == nvjpeg::kBackendDefault ? api_->create_simple(handle)
                                              : api_->create_ex(backend, nullptr, nullptr, 0, handle);
  }

  std::string_view backend_name() const override { return hw_handle_ ? "nvjpeg hardware" : "nvjpeg default"; }

  Result<std::vector<Status>> decode(std::span<const ImageDecodeJob> jobs, const SampleTransform& transform,
                                     const TensorView& batch, Stream& stream) override {
    RETURN_IF_ERROR(check_batch(jobs, transform, batch));
    auto* cuda = dynamic_cast<CudaStream*>(&stream);
    if (cuda == nullptr || cuda->device() != gpu_)
      return invalid_argument("GPU JPEG decode: the stream is not a stream of GPU " + std::to_string(gpu_));
    CUDA_RETURN_IF_ERROR(cudaSetDevice(gpu_));
    std::vector<Status> statuses(jobs.size());
    RETURN_IF_ERROR(plan(jobs, statuses, cuda->get()));
    decode_pending(statuses, cuda->get());
    RETURN_IF_ERROR(preprocess(jobs, transform, batch, statuses, cuda->get()));
    return statuses;
  }

 private:
  // One image that passed inspection: where its pixels go in the scratch.
  struct Pending {
    size_t job = 0;
    int width = 0, height = 0;
    size_t offset = 0, pitch = 0;
    NvjpegImage image{};
  };

  Status inspect(const ImageDecodeJob& job, int* width, int* height) const;
  Status plan(std::span<const ImageDecodeJob> jobs, std::vector<Status>& statuses, cudaStream_t stream);
  Status reserve(size_t bytes, cudaStream_t stream);
  bool hardware_supports(const ImageDecodeJob& job);
  void decode_pending(std::vector<Status>& statuses, cudaStream_t stream);
  void decode_group(NvjpegHandle handle, BatchedStates& states, const std::vector<size_t>& group,
                    std::vector<Status>& statuses, cudaStream_t stream);
  Status preprocess(std::span<const ImageDecodeJob> jobs, const SampleTransform& transform, const TensorView& batch,
                    const std::vector<Status>& statuses, cudaStream_t stream);

  const NvjpegApi* api_;
  int gpu_;
  NvjpegMemory memory_;  // outlives the handles below (they are destroyed in ~GpuJpegDecoder)
  NvjpegHandle handle_ = nullptr;        // default backend: headers, single decodes, what the engines refuse
  NvjpegState state_ = nullptr;          // single decodes
  std::unique_ptr<BatchedStates> states_;  // batched decodes on handle_, per batch size
  NvjpegHandle hw_handle_ = nullptr;       // the JPEG engines, when the GPU has them
  std::unique_ptr<BatchedStates> hw_states_;
  NvjpegJpegStream jpeg_stream_ = nullptr;  // header parses for the engines' support check
  void* scratch_ = nullptr;                 // decoded RGB of the batch's images, grow-only
  size_t scratch_bytes_ = 0;
  // Per call, kept so that the steady state allocates nothing.
  std::vector<Pending> pending_;
  std::vector<const ImageDecodeJob*> jobs_;
  std::vector<const unsigned char*> data_;
  std::vector<size_t> lengths_;
  std::vector<NvjpegImage> images_;
};

Status GpuJpegDecoder::inspect(const ImageDecodeJob& job, int* width, int* height) const {
  if (job.bytes.empty()) return invalid_argument("empty image");
  const auto* data = reinterpret_cast<const unsigned char*>(job.bytes.data());
  int components = 0, subsampling = 0, widths[nvjpeg::kMaxComponents] = {}, heights[nvjpeg::kMaxComponents] = {};
  const NvjpegStatus info =
      api_->get_image_info(handle_, data, job.bytes.size(), &components, &subsampling, widths, heights);
  if (info != nvjpeg::kSuccess) return image_status("header", info);
  if (components == 4)
    return unimplemented("JPEG with 4 components (CMYK or YCCK): the GPU decoder leaves it to the CPU decoder");
  if ((components != 1 && components != 3) || subsampling == nvjpeg::kCssUnknown)
    return unimplemented("JPEG with " + std::to_string(components) +
                         " components or a chroma subsampling nvJPEG does not know: decode it on the CPU");
  *width = widths[0];
  *height = heights[0];
  if (*width <= 0 || *height <= 0) return invalid_argument("JPEG header gives no image size");
  if (*width != job.width || *height != job.height)
    return invalid_argument("JPEG header reads " + size_string(*width, *height) + " on the GPU but " +
                            size_string(job.width, job.height) + " on the host");
  if (int64_t{*width} * *height > kDefaultMaxPixels)
    return resource_exhausted("image is " + size_string(*width, *height) + ", limit is " +
                              std::to_string(kDefaultMaxPixels) + " pixels");
  if (job.orientation < 1 || job.orientation > 8)
    return invalid_argument("EXIF orientation " + std::to_string(job.orientation) + " is not 1..8");
  if (!jpeg_has_end_marker({reinterpret_cast<const uint8_t*>(data), job.bytes.size()}))
    return invalid_argument("JPEG is truncated: no end-of-image marker after the image data");
  return Status::ok();
}

// Inspects every job and lays the survivors' pixels out in the scratch.
Status GpuJpegDecoder::plan(std::span<const ImageDecodeJob> jobs, std::vector<Status>& statuses, cudaStream_t stream) {
  pending_.clear();
  jobs_.assign(jobs.size(), nullptr);
  size_t total = 0;
  for (size_t i = 0; i < jobs.size(); ++i) {
    jobs_[i] = &jobs[i];
    Pending p;
    p.job = i;
    statuses[i] = inspect(jobs[i], &p.width, &p.height);
    if (!statuses[i].is_ok()) continue;
    p.pitch = size_t(p.width) * 3;
    p.offset = total;
    total += (p.pitch * size_t(p.height) + kScratchAlignment - 1) / kScratchAlignment * kScratchAlignment;
    pending_.push_back(p);
  }
  RETURN_IF_ERROR(reserve(total, stream));
  for (Pending& p : pending_) {
    p.image = NvjpegImage{};
    p.image.channel[0] = static_cast<unsigned char*>(scratch_) + p.offset;
    p.image.pitch[0] = p.pitch;
  }
  return Status::ok();
}

// Stream-ordered, as nvJPEG's own buffers (nvjpeg_memory.h): the old scratch is released
// after the work queued on `stream` that may still read it, and a cudaFree, which would
// wait for every instance's work on the device, is never called here.
Status GpuJpegDecoder::reserve(size_t bytes, cudaStream_t stream) {
  if (bytes <= scratch_bytes_) return Status::ok();
  if (scratch_) CUDA_RETURN_IF_ERROR(cudaFreeAsync(scratch_, stream));
  scratch_ = nullptr;
  scratch_bytes_ = 0;
  const size_t grown = bytes + bytes / 4;  // headroom: the next batch's photos differ a little
  if (cudaMallocAsync(&scratch_, grown, stream) != cudaSuccess) {
    (void)cudaGetLastError();  // not sticky: clear it for later checks
    scratch_ = nullptr;
    return resource_exhausted("GPU JPEG decode: cannot allocate " + std::to_string(grown) +
                              " bytes of device memory for the decoded images on GPU " + std::to_string(gpu_));
  }
  scratch_bytes_ = grown;
  return Status::ok();
}

bool GpuJpegDecoder::hardware_supports(const ImageDecodeJob& job) {
  const auto* data = reinterpret_cast<const unsigned char*>(job.bytes.data());
  if (api_->stream_parse_header(hw_handle_, data, job.bytes.size(), jpeg_stream_) != nvjpeg::kSuccess) return false;
  int is_supported = -1;
  return api_->batched_supported(hw_handle_, jpeg_stream_, &is_supported) == nvjpeg::kSuccess && is_supported == 0;
}

void GpuJpegDecoder::decode_pending(std::vector<Status>& statuses, cudaStream_t stream) {
  std::vector<size_t> engines, others;  // indices into pending_
  for (size_t k = 0; k < pending_.size(); ++k)
    (hw_handle_ && hardware_supports(*jobs_[pending_[k].job]) ? engines : others).push_back(k);
  if (!engines.empty()) decode_group(hw_handle_, *hw_states_, engines, statuses, stream);
  if (!others.empty()) decode_group(handle_, *states_, others, statuses, stream);
}

// `group` in batched calls of the sizes batch_chunks() gives (their states made at init);
// when one fails, each of its images alone on the default backend, so that only the images
// nvJPEG refuses fail.
void GpuJpegDecoder::decode_group(NvjpegHandle handle, BatchedStates& states, const std::vector<size_t>& group,
                                  std::vector<Status>& statuses, cudaStream_t stream) {
  data_.clear();
  lengths_.clear();
  images_.clear();
  for (size_t k : group) {
    const ImageDecodeJob& job = *jobs_[pending_[k].job];
    data_.push_back(reinterpret_cast<const unsigned char*>(job.bytes.data()));
    lengths_.push_back(job.bytes.size());
    images_.push_back(pending_[k].image);
  }
  size_t first = 0;
  for (const int n : batch_chunks(static_cast<int>(group.size()))) {
    NvjpegState state = nullptr;
    NvjpegStatus status = states.get(n, &state);
    if (status == nvjpeg::kSuccess)
      status = api_->batched_decode(handle, state, data_.data() + first, lengths_.data() + first,
                                    images_.data() + first, stream);
    if (status != nvjpeg::kSuccess) {
      states.forget(n);  // a state a failed decode leaves behind is made afresh for the next batch
      for (size_t i = first; i < first + static_cast<size_t>(n); ++i) {
        const NvjpegStatus one =
            api_->decode(handle_, state_, data_[i], lengths_[i], nvjpeg::kOutputRgbi, &images_[i], stream);
        if (one != nvjpeg::kSuccess) statuses[pending_[group[i]].job] = image_status("decode", one);
      }
    }
    first += static_cast<size_t>(n);
  }
}

Status GpuJpegDecoder::preprocess(std::span<const ImageDecodeJob> jobs, const SampleTransform& transform,
                                  const TensorView& batch, const std::vector<Status>& statuses, cudaStream_t stream) {
  DeviceTensor y;
  if (!to_device_tensor(batch, &y)) return invalid_argument("GPU JPEG decode: the batch view is malformed");
  for (const Pending& p : pending_) {
    if (!statuses[p.job].is_ok()) continue;
    const ImageDecodeJob& job = jobs[p.job];
    PreprocessParams params;
    params.src_width = p.width;
    params.src_height = p.height;
    params.src_row_bytes = static_cast<int>(p.pitch);
    params.orientation = job.orientation;
    params.resized_width = job.resized_width;
    params.resized_height = job.resized_height;
    params.crop_x = job.crop_x;
    params.crop_y = job.crop_y;
    for (int c = 0; c < 3; ++c) {
      params.source_channel[c] = transform.source_channel[c];
      params.gain[c] = transform.gain[c];
      params.bias[c] = transform.bias[c];
    }
    params.batch_index = job.row;
    const cudaError_t err = launch_preprocess(p.image.channel[0], params, y, stream);
    if (err == cudaErrorInvalidValue) {
      (void)cudaGetLastError();  // a refused launch, not sticky
      return invalid_argument("GPU JPEG decode: the resize plan " + size_string(job.resized_width, job.resized_height) +
                              " at (" + std::to_string(job.crop_x) + "," + std::to_string(job.crop_y) +
                              ") does not fit image " + std::to_string(p.job) + " or the batch");
    }
    CUDA_RETURN_IF_ERROR(err);
  }
  return Status::ok();
}

}  // namespace

bool jpeg_has_end_marker(std::span<const uint8_t> jpeg) {
  size_t i = 2;  // after SOI
  const size_t n = jpeg.size();
  while (i + 4 <= n) {
    if (jpeg[i] != 0xFF) return false;  // not a marker where one must be
    const uint8_t marker = jpeg[i + 1];
    if (marker == 0xFF) {  // fill byte before a marker
      ++i;
      continue;
    }
    if (marker == 0x01 || (marker >= 0xD0 && marker <= 0xD7)) {  // TEM, RSTn: no length
      i += 2;
      continue;
    }
    const size_t length = (size_t{jpeg[i + 2]} << 8) | jpeg[i + 3];
    if (length < 2) return false;
    i += 2 + length;
    if (marker != 0xDA) continue;  // not SOS
    // Past the first scan's header: everything after it holds an EOI only as the real one.
    for (size_t k = i; k + 1 < n; ++k)
      if (jpeg[k] == 0xFF && jpeg[k + 1] == 0xD9) return true;
    return false;
  }
  return false;
}

Result<std::unique_ptr<BatchImageDecoder>> open_gpu_jpeg_decoder(int gpu) {
  ASSIGN_OR_RETURN(const NvjpegApi* api, nvjpeg_api());
  auto decoder = std::make_unique<GpuJpegDecoder>(api, gpu);
  RETURN_IF_ERROR(decoder->init().with_context("GPU " + std::to_string(gpu) + " JPEG decoder"));
  return std::unique_ptr<BatchImageDecoder>(std::move(decoder));
}

}  // namespace inferd::cuda
