#include "backends/cuda/nvjpeg_memory.h"

#include <cstdint>

#include "backends/cuda/cuda_common.h"

namespace inferd::cuda {

NvjpegMemory::NvjpegMemory(int gpu) : gpu_(gpu) {
  device_ = {&NvjpegMemory::device_malloc, &NvjpegMemory::device_free, this};
  pinned_ = {&NvjpegMemory::pinned_malloc, &NvjpegMemory::pinned_free, this};
}

NvjpegMemory::~NvjpegMemory() {
  std::lock_guard<std::mutex> lock(mutex_);
  // A release path: nothing to report to. A block's copies are waited for before it goes
  // (the decoder's streams should be idle by now; this makes sure).
  cached_.clear([](const PinnedBlock& b) {
    if (b.released) {
      (void)cudaEventSynchronize(b.released);
      (void)cudaEventDestroy(b.released);
    }
    (void)cudaFreeHost(b.ptr);
  });
}

Status NvjpegMemory::keep_pool_memory() const {
  cudaMemPool_t pool = nullptr;
  CUDA_RETURN_IF_ERROR(cudaDeviceGetDefaultMemPool(&pool, gpu_));
  uint64_t keep = UINT64_MAX;
  return cuda_status(cudaMemPoolSetAttribute(pool, cudaMemPoolAttrReleaseThreshold, &keep),
                     "cudaMemPoolSetAttribute(ReleaseThreshold)");
}

// nvJPEG's allocator contract: 0 for success, anything else for failure (it then reports
// NVJPEG_STATUS_ALLOCATOR_FAILURE, which the decoder turns into kResourceExhausted).
int NvjpegMemory::device_malloc(void*, void** ptr, size_t size, cudaStream_t stream) {
  if (cudaMallocAsync(ptr, size, stream) == cudaSuccess) return 0;
  (void)cudaGetLastError();  // not sticky: clear it for later checks
  return 1;
}

int NvjpegMemory::device_free(void*, void* ptr, size_t, cudaStream_t stream) {
  return cudaFreeAsync(ptr, stream) == cudaSuccess ? 0 : 1;
}

int NvjpegMemory::pinned_malloc(void* ctx, void** ptr, size_t size, cudaStream_t) {
  auto* self = static_cast<NvjpegMemory*>(ctx);
  PinnedBlock block;
  bool cached;
  {
    std::lock_guard<std::mutex> lock(self->mutex_);
    cached = self->cached_.take(size, block);
  }
  if (cached) {
    // Waits for one stream's earlier work at most, never the device's.
    const bool ready = block.released == nullptr || cudaEventSynchronize(block.released) == cudaSuccess;
    if (block.released) (void)cudaEventDestroy(block.released);
    if (ready) {
      *ptr = block.ptr;
      return 0;
    }
    (void)cudaGetLastError();
    (void)cudaFreeHost(block.ptr);
  }
  if (cudaHostAlloc(ptr, size, cudaHostAllocDefault) == cudaSuccess) return 0;
  (void)cudaGetLastError();
  return 1;
}

// Kept for a later request rather than freed: cudaFreeHost waits for the whole device.
int NvjpegMemory::pinned_free(void* ctx, void* ptr, size_t size, cudaStream_t stream) {
  auto* self = static_cast<NvjpegMemory*>(ctx);
  PinnedBlock block{ptr, nullptr};
  if (cudaEventCreateWithFlags(&block.released, cudaEventDisableTiming) != cudaSuccess ||
      cudaEventRecord(block.released, stream) != cudaSuccess) {
    (void)cudaGetLastError();
    if (block.released) (void)cudaEventDestroy(block.released);
    return cudaFreeHost(ptr) == cudaSuccess ? 0 : 1;  // the old way: correct, only slower
  }
  std::lock_guard<std::mutex> lock(self->mutex_);
  self->cached_.put(size, block);
  return 0;
}

}  // namespace inferd::cuda
