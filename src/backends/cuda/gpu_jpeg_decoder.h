// The CUDA backend's BatchImageDecoder (backends/api/image_decoder.h): JPEG decoding with
// nvJPEG (loaded at run time, nvjpeg_api.h) into grow-only device scratch, then the
// backend's preprocessing kernel (launch_preprocess, the CPU path's exact geometry and
// arithmetic) writes each image's sample into its row of the batch tensor.
//
// Backends: where nvjpegCreateEx accepts NVJPEG_BACKEND_HARDWARE (A100, H100, H200: the
// GPU's JPEG engines), the images nvjpegDecodeBatchedSupported accepts (baseline Huffman
// JPEGs) are decoded in one batched call on the engines; the rest (progressive, ...) and
// every image on other GPUs go through the default backend, batched as well. When a
// batched call fails as a whole (one bad image fails the batch), its images are decoded
// one by one so that only the bad ones fail.
//
// Per-image errors: an empty image or one whose header nvJPEG cannot read, a truncated
// JPEG (no end-of-image marker after the scans), a JPEG nvJPEG fails on (kInvalidArgument
// "JPEG ...: NVJPEG_STATUS_..."), more than kDefaultMaxPixels (kResourceExhausted), CMYK
// or YCCK (4 components) and what nvJPEG does not support (kUnimplemented: decode those on
// the CPU, whose CMYK conversion is Pillow's), a header that disagrees with the caller's.
//
// Threading: one decoder per thread (nvJPEG states are per thread); open() makes the GPU
// the calling thread's current device, and so does every decode().
#pragma once

#include <cstdint>
#include <memory>
#include <span>

#include "backends/api/image_decoder.h"
#include "core/status.h"

namespace inferd::cuda {

// kFailedPrecondition naming libnvjpeg when it cannot be loaded; the CUDA error when the
// GPU cannot be used.
Result<std::unique_ptr<BatchImageDecoder>> open_gpu_jpeg_decoder(int gpu);

// Whether `jpeg` has an end-of-image marker after its first scan's header (ITU-T T.81
// B.2.1: the entropy-coded data never holds 0xFF 0xD9). Without one the file was cut short:
// libjpeg calls that "Premature end of JPEG file" and the CPU path refuses it, while a GPU
// decoder may fill the missing rows silently, so this check runs before nvJPEG.
bool jpeg_has_end_marker(std::span<const uint8_t> jpeg);

}  // namespace inferd::cuda
