// nvJPEG's batched-decode states, one per batch size. nvjpegDecodeBatched decodes exactly
// the batch size its state was initialized for, and the decoder used to re-initialize its
// one state whenever a batch's size differed from the last one's: in serving, where every
// batch has the size the queue gave it, that was nearly every batch, and each
// nvjpegDecodeBatchedInitialize resizes the state's buffers. Here each size seen gets a state
// of its own, initialized once and kept (the least recently used goes past kMaxStates).
//
// Thread safety: none (one per decoder, as the decoder).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "backends/cuda/nvjpeg_api.h"

namespace inferd::cuda {

class BatchedStates {
 public:
  static constexpr size_t kMaxStates = 16;

  BatchedStates(const NvjpegApi* api, NvjpegHandle handle) : api_(api), handle_(handle) {}
  ~BatchedStates();
  BatchedStates(const BatchedStates&) = delete;
  BatchedStates& operator=(const BatchedStates&) = delete;

  // A state initialized for batches of `n` images (RGBI output), made on first use; the
  // nvJPEG status of making it otherwise (then nothing is kept).
  NvjpegStatus get(int n, NvjpegState* state);
  // Drops the state of `n` (after a batched decode failed with it: made afresh next time).
  void forget(int n);
  size_t size() const { return entries_.size(); }

 private:
  struct Entry {
    int n = 0;
    NvjpegState state = nullptr;
    uint64_t last_used = 0;
  };
  void destroy(Entry& e);

  const NvjpegApi* api_;
  NvjpegHandle handle_;
  std::vector<Entry> entries_;
  uint64_t clock_ = 0;
};

}  // namespace inferd::cuda
