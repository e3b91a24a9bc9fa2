// Memory for nvJPEG that never stalls the GPU. nvJPEG's default allocators grow its
// buffers with cudaFree/cudaFreeHost, and both wait for the whole device: with several
// server instances decoding on one GPU, every growth (a batch of larger photos than any
// before) held up every instance's work. (Measured on an H100, this did not change the
// serving tail: docs/benchmarks.md, "Max batch against the tail".) Instead:
//   - device memory is stream-ordered (cudaMallocAsync / cudaFreeAsync on the stream
//     nvJPEG names), from the device's default pool, which is told to keep what it is
//     given back rather than return it to the driver at every synchronization;
//   - pinned host memory is cached: a block nvJPEG frees is kept, with an event recorded on
//     the stream nvJPEG names (copies from it may still be queued there), and handed out
//     again for a request it fits once that event is reached; released with the decoder.
// The handles are made with nvjpegCreateExV2, which takes both (nvjpeg_api.h).
#pragma once

#include <cuda_runtime.h>

#include <cstddef>
#include <map>
#include <mutex>

#include "backends/cuda/nvjpeg_api.h"
#include "core/status.h"

namespace inferd::cuda {

// Free blocks by size: the host bookkeeping of the pinned cache, apart from the CUDA calls
// so that it can be tested without a GPU. `Block` is what the cache keeps per block.
template <typename Block>
class BlockCache {
 public:
  // The smallest cached block of at least `size` bytes, taken out of the cache; false when
  // none fits. A block more than twice the size asked for is not handed out: it stays for
  // a request it fits better (the cache would otherwise give the largest block ever freed
  // to every small request and allocate anew for the next large one).
  bool take(size_t size, Block& out) {
    auto it = free_.lower_bound(size);
    if (it == free_.end() || it->first / 2 > size) return false;
    out = it->second;
    free_.erase(it);
    return true;
  }
  void put(size_t size, Block block) { free_.emplace(size, block); }
  // Empties the cache, calling release(block) for each block.
  template <typename Release>
  void clear(Release release) {
    for (auto& [size, block] : free_) release(block);
    free_.clear();
  }
  size_t blocks() const { return free_.size(); }

 private:
  std::multimap<size_t, Block> free_;
};

// The allocators of one decoder's nvJPEG handles (the decoder outlives its handles: destroy
// them first). Thread-safe: nvJPEG may call them from its own threads.
class NvjpegMemory {
 public:
  explicit NvjpegMemory(int gpu);
  ~NvjpegMemory();
  NvjpegMemory(const NvjpegMemory&) = delete;
  NvjpegMemory& operator=(const NvjpegMemory&) = delete;

  // Keeps the device's default pool from returning freed memory to the driver (once per
  // process and device is enough; repeating it is harmless).
  Status keep_pool_memory() const;
  NvjpegAllocatorV2* device() { return &device_; }
  NvjpegAllocatorV2* pinned() { return &pinned_; }

 private:
  static int device_malloc(void* ctx, void** ptr, size_t size, cudaStream_t stream);
  static int device_free(void* ctx, void* ptr, size_t size, cudaStream_t stream);
  static int pinned_malloc(void* ctx, void** ptr, size_t size, cudaStream_t stream);
  static int pinned_free(void* ctx, void* ptr, size_t size, cudaStream_t stream);

  const int gpu_;
  NvjpegAllocatorV2 device_{}, pinned_{};
  struct PinnedBlock {
    void* ptr = nullptr;
    cudaEvent_t released = nullptr;  // reached once the stream's work queued before the free is done
  };
  std::mutex mutex_;  // guards cached_
  BlockCache<PinnedBlock> cached_;
};

}  // namespace inferd::cuda
