// A device's telemetry read at most once per scrape: /metrics renders four gauges per GPU
// (utilization, power, memory used and total), and each reading is a cudaMemGetInfo plus
// two NVML queries. A reading younger than `max_age` is reused, so one scrape reads the
// device once however many gauges it renders.
#pragma once

#include <chrono>
#include <functional>
#include <mutex>
#include <optional>
#include <utility>

#include "backends/api/device.h"
#include "core/status.h"

namespace inferd {

class CachedTelemetry {
 public:
  using Read = std::function<Result<DeviceTelemetry>()>;
  CachedTelemetry(Read read, std::chrono::steady_clock::duration max_age)
      : read_(std::move(read)), max_age_(max_age) {}

  // The last reading when it is younger than max_age, else a new one (an error too is
  // kept for max_age: a device that cannot be read is not asked four times per scrape).
  Result<DeviceTelemetry> get() {
    std::lock_guard lock(mutex_);
    const auto now = std::chrono::steady_clock::now();
    if (!last_ || now - read_at_ >= max_age_) {
      last_ = read_();
      read_at_ = now;
    }
    return *last_;
  }

 private:
  Read read_;
  const std::chrono::steady_clock::duration max_age_;
  std::mutex mutex_;
  std::optional<Result<DeviceTelemetry>> last_;
  std::chrono::steady_clock::time_point read_at_;
};

}  // namespace inferd
