#include "loadgen/histogram.h"

#include <algorithm>
#include <bit>
#include <cmath>

namespace inferd::loadgen {
namespace {

constexpr int kSubBits = 7;  // 128 buckets per power of two
constexpr uint64_t kSub = uint64_t{1} << kSubBits;
constexpr uint64_t kLinearEnd = 2 * kSub;  // values below are exact (one bucket each)
constexpr int kTopExponent = 36;           // the last range is [2^36, 2^37) ns = 68.7 .. 137 s
constexpr size_t kBuckets = kLinearEnd + (kTopExponent - kSubBits) * kSub;

}  // namespace

size_t LatencyHistogram::bucket_count() {
  return kBuckets;
}

size_t LatencyHistogram::bucket_of(uint64_t ns) {
  if (ns < kLinearEnd) return static_cast<size_t>(ns);
  const int exponent = std::bit_width(ns) - 1;  // >= kSubBits + 1
  if (exponent > kTopExponent) return kBuckets - 1;
  const uint64_t mantissa = (ns >> (exponent - kSubBits)) - kSub;  // 0 .. kSub-1
  return static_cast<size_t>(kLinearEnd + (exponent - kSubBits - 1) * kSub + mantissa);
}

uint64_t LatencyHistogram::bucket_low(size_t index) {
  if (index < kLinearEnd) return index;
  const uint64_t octave = (index - kLinearEnd) / kSub, mantissa = (index - kLinearEnd) % kSub;
  return (kSub + mantissa) << (octave + 1);
}

uint64_t LatencyHistogram::bucket_high(size_t index) {
  if (index < kLinearEnd) return index + 1;
  const uint64_t octave = (index - kLinearEnd) / kSub;
  return bucket_low(index) + (uint64_t{1} << (octave + 1));
}

LatencyHistogram::LatencyHistogram() : counts_(kBuckets, 0) {}

void LatencyHistogram::record(uint64_t ns) {
  ++counts_[bucket_of(ns)];
  ++count_;
  min_ = std::min(min_, ns);
  max_ = std::max(max_, ns);
  sum_ns_ += static_cast<double>(ns);
}

void LatencyHistogram::merge(const LatencyHistogram& other) {
  for (size_t i = 0; i < kBuckets; ++i) counts_[i] += other.counts_[i];
  count_ += other.count_;
  min_ = std::min(min_, other.min_);
  max_ = std::max(max_, other.max_);
  sum_ns_ += other.sum_ns_;
}

double LatencyHistogram::percentile_ns(double percent) const {
  if (count_ == 0) return 0;
  if (percent >= 100) return static_cast<double>(max_);
  const auto rank =
      std::max<uint64_t>(1, static_cast<uint64_t>(std::ceil(percent / 100.0 * static_cast<double>(count_))));
  uint64_t seen = 0;
  for (size_t i = 0; i < kBuckets; ++i) {
    seen += counts_[i];
    if (seen < rank) continue;
    // Exact buckets hold one value; wider ones are read at their midpoint.
    const double mid = i < kLinearEnd
                           ? static_cast<double>(i)
                           : (static_cast<double>(bucket_low(i)) + static_cast<double>(bucket_high(i) - 1)) / 2;
    return std::clamp(mid, static_cast<double>(min_), static_cast<double>(max_));
  }
  return static_cast<double>(max_);
}

}  // namespace inferd::loadgen
