// Images -> a batch's input tensor on a device, through the device's BatchImageDecoder
// (backends/api/image_decoder.h; nvJPEG on a GPU), with the CPU path's preprocessing
// geometry. The host part is the CPU path's own: each header is read by image::probe_image
// (format, stored size, EXIF orientation; TurboJPEG's header parse and the marker scan), the
// pixel limit and the JPEG decode-cost bound checked as image::decode_image checks them, and
// the resize and crop planned by
// image::plan_resize_crop on the oriented size; the device decodes, orients, resizes, crops
// and normalises. Pixels differ from the CPU path's only by the decoders' IDCTs (and, for
// photos over about 4x the resized size, by the CPU path's DCT-domain downscaling).
//
// Thread safety: as the decoder's (one decoder per thread).
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "backends/api/device.h"
#include "backends/api/image_decoder.h"
#include "backends/api/tensor_view.h"
#include "core/status.h"
#include "image/preprocess.h"

namespace inferd {

// The decoder's form of `cfg` (gain = scale / std, bias = -mean / std, BGR as a channel
// map). kUnimplemented for a config with a mean image (Caffe's), which the device
// preprocessing does not apply: use the CPU path for such models.
Result<SampleTransform> sample_transform(const image::PreprocessConfig& cfg);

// Decodes images[i] into row rows[i] of `batch` (row i when `rows` is empty; a
// [N,3,cfg.height,cfg.width] device view, N > every row) on `stream`; the rows are there
// once the stream is synchronized. One
// Status per image: the header's errors as image::decode_image gives them (empty,
// unsupported format, corrupt header, over max_pixels), kUnimplemented for a PNG or an
// image the device cannot decode (decode that one with image::decode_and_preprocess), and
// the decoder's per-image errors. A failed image's row is left as it was. The call fails
// as a whole for an empty batch, a config or view no image can be preprocessed with, or a
// device error.
Result<std::vector<Status>> decode_images_to_batch(BatchImageDecoder& decoder, std::span<const std::string_view> images,
                                                   const image::PreprocessConfig& cfg, int64_t max_pixels,
                                                   const TensorView& batch, Stream& stream,
                                                   std::span<const int> rows = {});

}  // namespace inferd
