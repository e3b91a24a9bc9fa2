// A model instance as the batcher sees it (server/batcher.h's BatchExecutor): one
// ExecutionContext, and optionally the device's image decoder, so that a batch's JPEGs
// travel to the GPU as compressed bytes and are decoded, resized, cropped and normalised
// there, straight into the context's input, instead of being decoded into floats by the
// host's decoder threads and copied; or, without a device decoder, the host's decoder run
// on the instance's own thread for a request that finds it idle.
//
// Threading: as BatchExecutor (one worker thread per instance). The decoder is the
// instance's own: nvJPEG's state is per thread.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>

#include "backends/api/image_decoder.h"
#include "image/preprocess.h"
#include "runtime/engine.h"
#include "server/batcher.h"

namespace inferd {

// Samples, and compressed images decoded on the instance's own worker thread (any format
// the host decodes, with cfg's preprocessing and the pixel limit `max_pixels`) straight into
// the context's input rows; `on_decode` (optional) gets each image's decode time. A bad
// image fails alone (kInvalidArgument). Its stages(): host_decode and compute, host clock.
std::unique_ptr<BatchExecutor> host_decoding_executor(std::unique_ptr<ExecutionContext> ctx,
                                                     const image::PreprocessConfig& cfg, int64_t max_pixels,
                                                     std::function<void(double seconds)> on_decode = {});

// Whether images can be decoded on the device for `engine` with `cfg`: not with a mean
// image (kUnimplemented), nor into anything but one [N,3,H,W] input of cfg's size.
Status check_device_decoding(const Engine& engine, const image::PreprocessConfig& cfg);

// Samples and compressed images in one batch: the samples' rows are copied to the device,
// the images decoded into theirs with `decoder` (a decoder of the context's device), with
// the geometry and normalisation of `cfg` and the pixel limit `max_pixels`, then the batch
// runs on the same stream. Fails as check_device_decoding().
Result<std::unique_ptr<BatchExecutor>> image_decoding_executor(std::unique_ptr<ExecutionContext> ctx,
                                                               std::unique_ptr<BatchImageDecoder> decoder,
                                                               const image::PreprocessConfig& cfg, int64_t max_pixels);

}  // namespace inferd
