// Caffe's mean image: a mean.binaryproto (one BlobProto, [1, C, H, W] or [C, H, W], the
// channels in the network's input order, BGR for the BVLC models) as a [C, H, W] tensor.
// Caffe subtracts it from each input after cropping it at the same centre offsets as the
// image (the classifier does that: image::PreprocessConfig::mean_image).
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "core/status.h"
#include "core/tensor.h"

namespace inferd {

Result<Tensor> import_caffe_mean(const std::string& path);
// The same from memory; `name_for_errors` prefixes every message.
Result<Tensor> import_caffe_mean_bytes(std::span<const uint8_t> bytes, const std::string& name_for_errors);

}  // namespace inferd
