#include "backends/cuda/nvjpeg_batched_states.h"

#include <algorithm>

namespace inferd::cuda {

BatchedStates::~BatchedStates() {
  for (Entry& e : entries_) destroy(e);
}

void BatchedStates::destroy(Entry& e) {
  if (e.state) (void)api_->state_destroy(e.state);  // a release path: nothing to report to
  e.state = nullptr;
}

NvjpegStatus BatchedStates::get(int n, NvjpegState* state) {
  ++clock_;
  for (Entry& e : entries_)
    if (e.n == n) {
      e.last_used = clock_;
      *state = e.state;
      return nvjpeg::kSuccess;
    }
  Entry made{n, nullptr, clock_};
  NvjpegStatus status = api_->state_create(handle_, &made.state);
  // max_cpu_threads is unused by current nvJPEG but must be positive.
  if (status == nvjpeg::kSuccess) status = api_->batched_initialize(handle_, made.state, n, 1, nvjpeg::kOutputRgbi);
  if (status != nvjpeg::kSuccess) {
    destroy(made);
    return status;
  }
  if (entries_.size() >= kMaxStates) {
    auto oldest = std::min_element(entries_.begin(), entries_.end(),
                                   [](const Entry& a, const Entry& b) { return a.last_used < b.last_used; });
    destroy(*oldest);
    entries_.erase(oldest);
  }
  entries_.push_back(made);
  *state = made.state;
  return nvjpeg::kSuccess;
}

NvjpegStatus BatchedStates::prepare(const std::vector<int>& sizes) {
  NvjpegState unused = nullptr;
  for (int n : sizes)
    if (const NvjpegStatus status = get(n, &unused); status != nvjpeg::kSuccess) return status;
  return nvjpeg::kSuccess;
}

std::vector<int> chunk_sizes() {
  std::vector<int> sizes;
  for (int n = 1; n <= kLargestChunk; n *= 2) sizes.push_back(n);
  return sizes;
}

std::vector<int> batch_chunks(int n) {
  std::vector<int> chunks;
  for (; n >= kLargestChunk; n -= kLargestChunk) chunks.push_back(kLargestChunk);
  for (int bit = kLargestChunk / 2; bit >= 1; bit /= 2)
    if (n & bit) chunks.push_back(bit);
  return chunks;
}

void BatchedStates::forget(int n) {
  auto it = std::find_if(entries_.begin(), entries_.end(), [n](const Entry& e) { return e.n == n; });
  if (it == entries_.end()) return;
  destroy(*it);
  entries_.erase(it);
}

}  // namespace inferd::cuda
