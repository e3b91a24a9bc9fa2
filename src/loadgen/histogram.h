// A latency histogram with log-linear buckets, as HdrHistogram (Gil Tene,
// http://hdrhistogram.org): exact below 256 ns, then every power-of-two range is cut into
// 128 equal buckets, so a bucket is at most 1/128 (0.78%) of its values wide and a
// percentile read from its midpoint is within 0.4% of the true value. 4 k counters cover
// 1 ns .. 137 s in 31 KiB; longer values land in the last bucket (max() stays exact).
//
// Not thread-safe: each worker thread records into its own and the results are merged.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace inferd::loadgen {

class LatencyHistogram {
 public:
  LatencyHistogram();

  void record(uint64_t ns);
  void merge(const LatencyHistogram& other);

  uint64_t count() const { return count_; }
  uint64_t min_ns() const { return count_ ? min_ : 0; }
  uint64_t max_ns() const { return max_; }
  double mean_ns() const { return count_ ? sum_ns_ / static_cast<double>(count_) : 0.0; }
  // The value below which `percent`% of the recorded values lie (nearest rank), read as
  // its bucket's midpoint and clamped to [min, max]; 0 when empty. 100 gives max().
  double percentile_ns(double percent) const;

  // The bucket layout, public for tests: index of a value, and a bucket's [low, high).
  static size_t bucket_of(uint64_t ns);
  static uint64_t bucket_low(size_t index);
  static uint64_t bucket_high(size_t index);
  static size_t bucket_count();

 private:
  std::vector<uint64_t> counts_;
  uint64_t count_ = 0, min_ = UINT64_MAX, max_ = 0;
  double sum_ns_ = 0;
};

}  // namespace inferd::loadgen
