#include "server/device_image_decode.h"

#include <algorithm>
#include <string>

#include "image/decode.h"

namespace inferd {
namespace {

// The header's facts and the resize plan of one image, or why it cannot be decoded here.
Result<ImageDecodeJob> plan_job(std::string_view bytes, int row, const image::PreprocessConfig& cfg,
                                int64_t max_pixels) {
  const std::span<const uint8_t> span(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
  ASSIGN_OR_RETURN(image::ImageInfo info, image::probe_image(span));
  if (info.format != image::ImageFormat::kJpeg)
    return unimplemented(std::string(image::to_string(info.format)) + " images are decoded on the CPU");
  const int64_t pixels = int64_t{info.width} * info.height;
  if (max_pixels > 0 && pixels > max_pixels)
    return resource_exhausted("image is " + std::to_string(info.width) + "x" + std::to_string(info.height) +
                              ", limit is " + std::to_string(max_pixels) + " pixels");
  // A hostile progressive JPEG costs the GPU path host time too (nvJPEG decodes those
  // scans' Huffman data on the CPU): the CPU path's bound, before the device sees it.
  RETURN_IF_ERROR(image::check_decode_cost(info));
  const bool swaps = info.exif_orientation >= 5 && info.exif_orientation <= 8;
  ASSIGN_OR_RETURN(image::ResizeCrop plan,
                   image::plan_resize_crop(swaps ? info.height : info.width, swaps ? info.width : info.height, cfg));
  ImageDecodeJob job;
  job.bytes = bytes;
  job.row = row;
  job.width = info.width;
  job.height = info.height;
  job.orientation = info.exif_orientation;
  job.resized_width = plan.resized_width;
  job.resized_height = plan.resized_height;
  job.crop_x = plan.crop_x;
  job.crop_y = plan.crop_y;
  return job;
}

}  // namespace

Result<SampleTransform> sample_transform(const image::PreprocessConfig& cfg) {
  if (cfg.mean_image)
    return unimplemented(
        "device image decoding does not apply a mean image: this model's images are decoded on the CPU");
  // Validates the config as the CPU path does (a 1x1 image needs no pixels).
  RETURN_IF_ERROR(image::plan_resize_crop(cfg.width, cfg.height, cfg).status());
  SampleTransform t;
  if (cfg.channel_order == image::ChannelOrder::kBgr) t.source_channel = {2, 1, 0};
  // The fold of image/preprocess.cc's plane_map: (v * scale - mean) / std as one multiply-add.
  for (int c = 0; c < 3; ++c) {
    t.gain[c] = cfg.scale / cfg.std[c];
    t.bias[c] = -cfg.mean[c] / cfg.std[c];
  }
  return t;
}

Result<std::vector<Status>> decode_images_to_batch(BatchImageDecoder& decoder, std::span<const std::string_view> images,
                                                   const image::PreprocessConfig& cfg, int64_t max_pixels,
                                                   const TensorView& batch, Stream& stream,
                                                   std::span<const int> rows) {
  if (images.empty()) return invalid_argument("no images to decode");
  if (!rows.empty() && rows.size() != images.size())
    return invalid_argument(std::to_string(rows.size()) + " rows for " + std::to_string(images.size()) + " images");
  int64_t rows_needed = static_cast<int64_t>(images.size());
  for (int row : rows) {
    if (row < 0) return invalid_argument("row " + std::to_string(row) + " is negative");
    rows_needed = std::max(rows_needed, int64_t{row} + 1);
  }
  if (batch.shape.size() != 4 || batch.shape[0] < rows_needed || batch.shape[2] != cfg.height ||
      batch.shape[3] != cfg.width)
    return invalid_argument("the batch tensor " + to_string(batch.shape) + " does not hold " +
                            std::to_string(rows_needed) + " samples of 3x" + std::to_string(cfg.height) + "x" +
                            std::to_string(cfg.width));
  ASSIGN_OR_RETURN(SampleTransform transform, sample_transform(cfg));
  std::vector<Status> statuses(images.size());
  std::vector<ImageDecodeJob> jobs;
  std::vector<size_t> job_image;  // jobs[k] decodes images[job_image[k]]
  jobs.reserve(images.size());
  for (size_t i = 0; i < images.size(); ++i) {
    auto job = plan_job(images[i], rows.empty() ? static_cast<int>(i) : rows[i], cfg, max_pixels);
    if (!job.is_ok()) {
      statuses[i] = job.status();
      continue;
    }
    jobs.push_back(job.value());
    job_image.push_back(i);
  }
  if (jobs.empty()) return statuses;  // every image failed on the host: nothing for the device
  ASSIGN_OR_RETURN(std::vector<Status> decoded, decoder.decode(jobs, transform, batch, stream));
  for (size_t k = 0; k < jobs.size(); ++k) statuses[job_image[k]] = std::move(decoded[k]);
  return statuses;
}

}  // namespace inferd
