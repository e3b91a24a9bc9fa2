// Batched image decoding on a backend's device (nvJPEG on a GPU): compressed images in host
// memory -> preprocessed samples written straight into rows of a batch's input tensor on
// the device, so the host never touches pixels.
//
// The interface is backend-neutral and knows nothing of image/ (backends may not include
// it): the caller reads each header on the host with the CPU path's parser (size, EXIF
// orientation), plans the resize and crop with image::plan_resize_crop and hands the
// result here as an ImageDecodeJob; server/device_image_decode.h does exactly that from an
// image::PreprocessConfig. The device then decodes, orients, resizes, crops and normalises
// with the CPU path's geometry and arithmetic.
//
// Threading: a BatchImageDecoder holds per-thread library state (nvJPEG's states are not
// thread-safe): one decoder per thread and device; open one per decode thread.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "backends/api/device.h"
#include "backends/api/tensor_view.h"
#include "core/status.h"

namespace inferd {

// How the 8-bit RGB pixels of the resized crop become the sample's values (the CPU path's
// image::PreprocessConfig folded as image/preprocess.cc folds it): output channel c is
// pixel channel source_channel[c] mapped v -> v * gain[c] + bias[c].
struct SampleTransform {
  std::array<int, 3> source_channel{0, 1, 2};
  std::array<float, 3> gain{1, 1, 1};
  std::array<float, 3> bias{0, 0, 0};
};

// One image of a batch, planned by the caller from the image's header.
struct ImageDecodeJob {
  std::string_view bytes;     // the compressed file in host memory, alive until the stream is synchronized
  int row = 0;                // the sample of the batch tensor it is written to
  int width = 0, height = 0;  // as stored (before orientation); checked against the device decoder's header parse
  int orientation = 1;        // EXIF 1..8
  // The oriented image is (virtually) resized to resized_width x resized_height and the
  // batch's H x W window at (crop_x, crop_y) of that is the sample (image::ResizeCrop).
  int resized_width = 0, resized_height = 0;
  int crop_x = 0, crop_y = 0;
};

class BatchImageDecoder {
 public:
  virtual ~BatchImageDecoder() = default;

  // Enqueues on `stream` (a stream of this decoder's device) the decode and preprocessing
  // of every job into `batch` (a [N,3,H,W] view of device memory: fp32, fp16 or bf16, any
  // strides); the samples are there once the stream is synchronized. Returns one Status
  // per job: a corrupt, truncated, unsupported or oversized image fails alone (its row is
  // left as it was) while the others are decoded. kUnimplemented for an image this device
  // cannot decode (a CMYK JPEG, a PNG): decode that one on the CPU. The whole call fails
  // only for what no image can get past: a bad batch view, an empty job list, a device error.
  // Calls must be ordered on one stream (the decoder's scratch memory is reused by the next call).
  virtual Result<std::vector<Status>> decode(std::span<const ImageDecodeJob> jobs, const SampleTransform& transform,
                                             const TensorView& batch, Stream& stream) = 0;

  // Which decoder runs: "nvjpeg hardware" (the GPU's JPEG engines), "nvjpeg default".
  virtual std::string_view backend_name() const = 0;

  // Largest width * height decoded, checked from the header before any pixel is decoded
  // (kResourceExhausted "image is WxH, limit is N pixels", as image::DecodeOptions).
  static constexpr int64_t kDefaultMaxPixels = 64LL * 1024 * 1024;
};

}  // namespace inferd
