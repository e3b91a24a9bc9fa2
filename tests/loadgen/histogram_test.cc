// The latency histogram against exact answers computed from the same random values.
#include "loadgen/histogram.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>

namespace inferd::loadgen {
namespace {

double exact_percentile(std::vector<uint64_t> values, double percent) {
  std::sort(values.begin(), values.end());
  const auto rank = static_cast<size_t>(std::ceil(percent / 100.0 * static_cast<double>(values.size())));
  return static_cast<double>(values[std::max<size_t>(rank, 1) - 1]);
}

TEST(Histogram, BucketsAreContiguousAndAtMostOnePercentWide) {
  for (size_t i = 0; i + 1 < LatencyHistogram::bucket_count(); ++i) {
    ASSERT_EQ(LatencyHistogram::bucket_high(i), LatencyHistogram::bucket_low(i + 1)) << i;
    const double low = static_cast<double>(LatencyHistogram::bucket_low(i));
    const double width = static_cast<double>(LatencyHistogram::bucket_high(i)) - low;
    if (low >= 1000) {
      ASSERT_LE(width / low, 1.0 / 128) << i;  // 1 us and up
    }
  }
  // 100 s still has its own bucket; every value maps into the bucket that holds it.
  EXPECT_LT(LatencyHistogram::bucket_of(100'000'000'000), LatencyHistogram::bucket_count() - 1);
  std::mt19937_64 rng(7);
  for (int i = 0; i < 100000; ++i) {
    const uint64_t v = rng() >> (28 + rng() % 36);  // spread over every power of two up to 2^36
    const size_t b = LatencyHistogram::bucket_of(v);
    ASSERT_LE(LatencyHistogram::bucket_low(b), v);
    ASSERT_GT(LatencyHistogram::bucket_high(b), v);
  }
}

TEST(Histogram, PercentilesAreWithinHalfAPercentOfTheExactOnes) {
  std::mt19937_64 rng(11);
  std::lognormal_distribution<double> latency(std::log(2e6), 0.8);  // around 2 ms, long tail
  std::vector<uint64_t> values;
  LatencyHistogram h;
  for (int i = 0; i < 50000; ++i) {
    values.push_back(static_cast<uint64_t>(latency(rng)) + 1000);
    h.record(values.back());
  }
  for (double p : {1.0, 50.0, 90.0, 99.0, 99.9}) {
    const double exact = exact_percentile(values, p);
    EXPECT_NEAR(h.percentile_ns(p), exact, exact * 0.005) << "p" << p;
  }
  EXPECT_EQ(h.count(), values.size());
  EXPECT_EQ(h.max_ns(), *std::max_element(values.begin(), values.end()));
  EXPECT_EQ(h.min_ns(), *std::min_element(values.begin(), values.end()));
  EXPECT_EQ(h.percentile_ns(100), static_cast<double>(h.max_ns()));
  double sum = 0;
  for (uint64_t v : values) sum += static_cast<double>(v);
  EXPECT_NEAR(h.mean_ns(), sum / static_cast<double>(values.size()), 1.0);
}

TEST(Histogram, KnownValues) {
  LatencyHistogram h;
  for (int i = 0; i < 90; ++i) h.record(20'000'000);  // 20 ms
  for (int i = 0; i < 9; ++i) h.record(50'000'000);   // 50 ms
  h.record(3'000'000'000);                            // 3 s
  EXPECT_NEAR(h.percentile_ns(50), 20e6, 20e6 * 0.004);
  EXPECT_NEAR(h.percentile_ns(90), 20e6, 20e6 * 0.004);
  EXPECT_NEAR(h.percentile_ns(91), 50e6, 50e6 * 0.004);
  EXPECT_NEAR(h.percentile_ns(99), 50e6, 50e6 * 0.004);
  EXPECT_NEAR(h.percentile_ns(99.9), 3e9, 3e9 * 0.004);
  EXPECT_EQ(h.max_ns(), 3'000'000'000u);
  EXPECT_NEAR(h.mean_ns(), (90 * 20e6 + 9 * 50e6 + 3e9) / 100, 1);
}

TEST(Histogram, ValuesBeyondTheRangeKeepAnExactMax) {
  LatencyHistogram h;
  h.record(500'000'000'000);  // 500 s
  h.record(7);
  EXPECT_EQ(h.max_ns(), 500'000'000'000u);
  EXPECT_EQ(h.percentile_ns(100), 5e11);
  EXPECT_EQ(h.percentile_ns(50), 7);  // exact below 256 ns
}

TEST(Histogram, MergeEqualsRecordingEverything) {
  std::mt19937_64 rng(3);
  LatencyHistogram a, b, all;
  for (int i = 0; i < 20000; ++i) {
    const uint64_t v = rng() % 50'000'000 + 1;
    (i % 3 ? a : b).record(v);
    all.record(v);
  }
  a.merge(b);
  EXPECT_EQ(a.count(), all.count());
  EXPECT_EQ(a.min_ns(), all.min_ns());
  EXPECT_EQ(a.max_ns(), all.max_ns());
  for (double p : {50.0, 99.0, 99.9}) EXPECT_EQ(a.percentile_ns(p), all.percentile_ns(p));
}

TEST(Histogram, EmptyIsAllZeros) {
  LatencyHistogram h;
  EXPECT_EQ(h.count(), 0u);
  EXPECT_EQ(h.percentile_ns(99), 0);
  EXPECT_EQ(h.mean_ns(), 0);
  EXPECT_EQ(h.min_ns(), 0u);
}

}  // namespace
}  // namespace inferd::loadgen
