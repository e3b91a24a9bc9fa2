// nvJPEG's batched-decode states, one per batch size. nvjpegDecodeBatched decodes exactly
// the batch size its state was initialized for, and the decoder used to re-initialize its
// one state whenever a batch's size differed from the last one's: in serving, where every
// batch has the size the queue gave it, that was nearly every batch, and each
// nvjpegDecodeBatchedInitialize resizes the state's buffers. Here each size seen gets a state
// of its own, initialized once and kept (the least recently used goes past kMaxStates).
//
// And the decoder asks for few sizes, made before serving: it decodes a group of n images
// as chunks of the powers of two that sum to n (batch_chunks: 13 = 8 + 4 + 1), whose states
// prepare() makes at the decoder's start. Making a size on first use put its state's
// creation, initialization and first buffers into a request's time: with 8 instances each
// meeting sizes 1-16 for the first time at 64 connections, an H100 serving ResNet-50 stalled
// for up to 2.6 s (2026-12-06: p99 1,489 ms at c=64, max batch 16).
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
  // Makes the states of every size in `sizes` (each as get() would); the first failure's status.
  NvjpegStatus prepare(const std::vector<int>& sizes);
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

// The largest chunk batch_chunks() makes, and the sizes it makes (1, 2, 4, .., kLargestChunk).
inline constexpr int kLargestChunk = 16;
std::vector<int> chunk_sizes();
// n (> 0) as the chunks one batched decode each takes, largest first: kLargestChunk as
// often as it fits, then the binary digits of the rest (13 -> 8, 4, 1; 40 -> 16, 16, 8).
std::vector<int> batch_chunks(int n);

}  // namespace inferd::cuda
