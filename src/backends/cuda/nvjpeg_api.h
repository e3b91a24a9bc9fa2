// nvJPEG, loaded at run time. The toolkits inferd builds with install libnvjpeg but no
// nvjpeg.h, and a binary built with the CUDA backend must still start where the library
// is absent: so, as NVML (nvml_meter.cc), it is dlopen()ed on first use (libnvjpeg.so.13,
// then libnvjpeg.so) and only the GPU decoder fails without it, naming the library.
//
// Only the types, values and entry points gpu_jpeg_decoder.cc uses are declared, from
// NVIDIA's documented C API (docs.nvidia.com/cuda/nvjpeg). nvJPEG's enums are C enums,
// int-sized on every ABI inferd targets, so they are passed as int; handles are pointers
// to opaque structs.
#pragma once

#include <cuda_runtime.h>

#include <cstddef>
#include <string>
#include <vector>

#include "core/status.h"

namespace inferd::cuda {

using NvjpegStatus = int;  // nvjpegStatus_t
namespace nvjpeg {
inline constexpr NvjpegStatus kSuccess = 0;                     // NVJPEG_STATUS_SUCCESS
inline constexpr NvjpegStatus kJpegNotSupported = 4;            // NVJPEG_STATUS_JPEG_NOT_SUPPORTED
inline constexpr NvjpegStatus kAllocatorFailure = 5;            // NVJPEG_STATUS_ALLOCATOR_FAILURE
inline constexpr NvjpegStatus kExecutionFailed = 6;             // NVJPEG_STATUS_EXECUTION_FAILED
inline constexpr NvjpegStatus kArchMismatch = 7;                // NVJPEG_STATUS_ARCH_MISMATCH
inline constexpr NvjpegStatus kInternalError = 8;               // NVJPEG_STATUS_INTERNAL_ERROR
inline constexpr NvjpegStatus kImplementationNotSupported = 9;  // NVJPEG_STATUS_IMPLEMENTATION_NOT_SUPPORTED
inline constexpr int kBackendDefault = 0;                       // NVJPEG_BACKEND_DEFAULT
inline constexpr int kBackendHardware = 3;  // NVJPEG_BACKEND_HARDWARE (the A100/H100/H200 JPEG engines)
inline constexpr int kOutputRgbi = 5;       // NVJPEG_OUTPUT_RGBI: interleaved RGB in channel[0]
inline constexpr int kCssUnknown = -1;      // NVJPEG_CSS_UNKNOWN (nvjpegChromaSubsampling_t)
inline constexpr int kMaxComponents = 4;    // NVJPEG_MAX_COMPONENT
}  // namespace nvjpeg

struct NvjpegHandleOpaque;
struct NvjpegStateOpaque;
struct NvjpegStreamOpaque;
using NvjpegHandle = NvjpegHandleOpaque*;      // nvjpegHandle_t
using NvjpegState = NvjpegStateOpaque*;        // nvjpegJpegState_t
using NvjpegJpegStream = NvjpegStreamOpaque*;  // nvjpegJpegStream_t

// nvjpegImage_t: per component a device pointer and a row pitch in bytes; RGBI output
// uses channel[0] only.
struct NvjpegImage {
  unsigned char* channel[nvjpeg::kMaxComponents];
  size_t pitch[nvjpeg::kMaxComponents];
};

// nvjpegDevAllocatorV2_t and nvjpegPinnedAllocatorV2_t, which have the same layout: a
// stream-ordered allocation and release with the allocator's own context; 0 is success.
struct NvjpegAllocatorV2 {
  int (*allocate)(void* ctx, void** ptr, size_t size, cudaStream_t stream);
  int (*release)(void* ctx, void* ptr, size_t size, cudaStream_t stream);
  void* ctx;
};

struct NvjpegApi {
  NvjpegStatus (*create_simple)(NvjpegHandle*);  // nvjpegCreateSimple
  NvjpegStatus (*create_ex)(int backend, void* dev_allocator, void* pinned_allocator, unsigned flags,
                            NvjpegHandle*);                  // nvjpegCreateEx
  // nvjpegCreateExV2; null where the library lacks it (then create_ex with the default allocators).
  NvjpegStatus (*create_ex_v2)(int backend, NvjpegAllocatorV2* dev_allocator, NvjpegAllocatorV2* pinned_allocator,
                               unsigned flags, NvjpegHandle*) = nullptr;
  NvjpegStatus (*destroy)(NvjpegHandle);                     // nvjpegDestroy
  NvjpegStatus (*state_create)(NvjpegHandle, NvjpegState*);  // nvjpegJpegStateCreate
  NvjpegStatus (*state_destroy)(NvjpegState);                // nvjpegJpegStateDestroy
  NvjpegStatus (*get_image_info)(NvjpegHandle, const unsigned char* data, size_t length, int* components,
                                 int* subsampling, int* widths, int* heights);  // nvjpegGetImageInfo
  NvjpegStatus (*decode)(NvjpegHandle, NvjpegState, const unsigned char* data, size_t length, int output_format,
                         NvjpegImage* destination, cudaStream_t);  // nvjpegDecode
  NvjpegStatus (*batched_initialize)(NvjpegHandle, NvjpegState, int batch_size, int max_cpu_threads,
                                     int output_format);  // nvjpegDecodeBatchedInitialize
  NvjpegStatus (*batched_decode)(NvjpegHandle, NvjpegState, const unsigned char* const* data, const size_t* lengths,
                                 NvjpegImage* destinations, cudaStream_t);  // nvjpegDecodeBatched
  NvjpegStatus (*stream_create)(NvjpegHandle, NvjpegJpegStream*);           // nvjpegJpegStreamCreate
  NvjpegStatus (*stream_destroy)(NvjpegJpegStream);                         // nvjpegJpegStreamDestroy
  NvjpegStatus (*stream_parse_header)(NvjpegHandle, const unsigned char* data, size_t length,
                                      NvjpegJpegStream);  // nvjpegJpegStreamParseHeader
  // *is_supported == 0 means supported (sic, as documented).
  NvjpegStatus (*batched_supported)(NvjpegHandle, NvjpegJpegStream, int* is_supported);  // nvjpegDecodeBatchedSupported
  std::string library;  // the file that was loaded, for messages
};

// The process-wide nvJPEG, loaded on the first call (kept loaded; a failure is retried on
// the next call). kFailedPrecondition naming the libraries tried when none loads or one
// lacks an entry point.
Result<const NvjpegApi*> nvjpeg_api();

// Loads the first of `library_names` that dlopen() finds (the test hook: a bogus name
// gives the missing-library error). Never unloaded.
Result<NvjpegApi> load_nvjpeg(const std::vector<std::string>& library_names);

// "NVJPEG_STATUS_BAD_JPEG" for 3, ...; "nvJPEG status N" for values this build does not know.
std::string nvjpeg_status_name(NvjpegStatus status);

}  // namespace inferd::cuda
