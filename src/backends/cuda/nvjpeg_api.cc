#include "backends/cuda/nvjpeg_api.h"

#include <dlfcn.h>

#include <cstring>
#include <iterator>
#include <mutex>
#include <string>

#include "backends/cuda/dl_symbol.h"

namespace inferd::cuda {
namespace {

// The first entry point `library` lacks, or nullptr when it has them all.
const char* bind_all(void* library, NvjpegApi& api) {
  if (!bind_symbol(library, "nvjpegCreateSimple", api.create_simple)) return "nvjpegCreateSimple";
  if (!bind_symbol(library, "nvjpegCreateEx", api.create_ex)) return "nvjpegCreateEx";
  if (!bind_symbol(library, "nvjpegDestroy", api.destroy)) return "nvjpegDestroy";
  if (!bind_symbol(library, "nvjpegJpegStateCreate", api.state_create)) return "nvjpegJpegStateCreate";
  if (!bind_symbol(library, "nvjpegJpegStateDestroy", api.state_destroy)) return "nvjpegJpegStateDestroy";
  if (!bind_symbol(library, "nvjpegGetImageInfo", api.get_image_info)) return "nvjpegGetImageInfo";
  if (!bind_symbol(library, "nvjpegDecode", api.decode)) return "nvjpegDecode";
  if (!bind_symbol(library, "nvjpegDecodeBatchedInitialize", api.batched_initialize))
    return "nvjpegDecodeBatchedInitialize";
  if (!bind_symbol(library, "nvjpegDecodeBatched", api.batched_decode)) return "nvjpegDecodeBatched";
  if (!bind_symbol(library, "nvjpegJpegStreamCreate", api.stream_create)) return "nvjpegJpegStreamCreate";
  if (!bind_symbol(library, "nvjpegJpegStreamDestroy", api.stream_destroy)) return "nvjpegJpegStreamDestroy";
  if (!bind_symbol(library, "nvjpegJpegStreamParseHeader", api.stream_parse_header))
    return "nvjpegJpegStreamParseHeader";
  if (!bind_symbol(library, "nvjpegDecodeBatchedSupported", api.batched_supported))
    return "nvjpegDecodeBatchedSupported";
  if (!bind_symbol(library, "nvjpegCreateExV2", api.create_ex_v2)) api.create_ex_v2 = nullptr;  // optional
  return nullptr;
}

}  // namespace

Result<NvjpegApi> load_nvjpeg(const std::vector<std::string>& library_names) {
  std::string tried, why;
  for (const std::string& name : library_names) {
    // Never dlclosed: handles and states may outlive any one decoder.
    void* library = dlopen(name.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (!library) {
      const char* error = dlerror();
      tried += (tried.empty() ? "" : ", ") + name;
      why = error ? error : "unknown error";
      continue;
    }
    NvjpegApi api{};
    if (const char* missing = bind_all(library, api)) {
      return failed_precondition(name + " has no " + missing + " (an nvJPEG older than CUDA 11?)");
    }
    api.library = name;
    return api;
  }
  return failed_precondition("GPU JPEG decoding needs nvJPEG (" + tried +
                             ", installed with the CUDA toolkit's libraries): cannot load it: " + why);
}

Result<const NvjpegApi*> nvjpeg_api() {
  static std::mutex mutex;
  static NvjpegApi api{};
  static bool loaded = false;
  std::lock_guard lock(mutex);
  if (loaded) return &api;
  ASSIGN_OR_RETURN(api, load_nvjpeg({"libnvjpeg.so.13", "libnvjpeg.so"}));
  loaded = true;
  return &api;
}

std::string nvjpeg_status_name(NvjpegStatus status) {
  // nvjpegStatus_t's documented values, in order from 0.
  static const char* const kNames[] = {"NVJPEG_STATUS_SUCCESS",
                                       "NVJPEG_STATUS_NOT_INITIALIZED",
                                       "NVJPEG_STATUS_INVALID_PARAMETER",
                                       "NVJPEG_STATUS_BAD_JPEG",
                                       "NVJPEG_STATUS_JPEG_NOT_SUPPORTED",
                                       "NVJPEG_STATUS_ALLOCATOR_FAILURE",
                                       "NVJPEG_STATUS_EXECUTION_FAILED",
                                       "NVJPEG_STATUS_ARCH_MISMATCH",
                                       "NVJPEG_STATUS_INTERNAL_ERROR",
                                       "NVJPEG_STATUS_IMPLEMENTATION_NOT_SUPPORTED",
                                       "NVJPEG_STATUS_INCOMPLETE_BITSTREAM"};
  if (status >= 0 && status < static_cast<int>(std::size(kNames))) return kNames[status];
  return "nvJPEG status " + std::to_string(status);
}

}  // namespace inferd::cuda
