// CachedTelemetry: one device reading serves the gauges of a scrape; an older one is
// read again; an error is kept like a reading.
#include "server/cached_telemetry.h"

#include <gtest/gtest.h>

#include <thread>

namespace inferd {
namespace {

TEST(CachedTelemetry, OneReadingServesAScrapeAndAnOlderOneIsReadAgain) {
  int reads = 0;
  CachedTelemetry cached(
      [&]() -> Result<DeviceTelemetry> {
        ++reads;
        DeviceTelemetry t;
        t.power_watts = 100.0 + reads;
        return t;
      },
      std::chrono::milliseconds(200));
  for (int gauge = 0; gauge < 4; ++gauge) {
    auto t = cached.get();
    ASSERT_TRUE(t.is_ok());
    EXPECT_EQ(t->power_watts, 101.0);
  }
  EXPECT_EQ(reads, 1);
  std::this_thread::sleep_for(std::chrono::milliseconds(250));
  auto t = cached.get();
  ASSERT_TRUE(t.is_ok());
  EXPECT_EQ(t->power_watts, 102.0);
  EXPECT_EQ(reads, 2);
}

TEST(CachedTelemetry, AnUnreadableDeviceIsAskedOncePerAge) {
  int reads = 0;
  CachedTelemetry cached(
      [&]() -> Result<DeviceTelemetry> {
        ++reads;
        return internal_error("NVML is gone");
      },
      std::chrono::seconds(60));
  EXPECT_EQ(cached.get().status().message(), "NVML is gone");
  EXPECT_EQ(cached.get().status().code(), StatusCode::kInternal);
  EXPECT_EQ(reads, 1);
}

}  // namespace
}  // namespace inferd
