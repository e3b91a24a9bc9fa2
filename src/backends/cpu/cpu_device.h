// The CPU as a Device: host memory (pinned memory is plain host memory here), streams on
// which work runs when it is enqueued, copies that are memcpy.
#pragma once

#include <memory>

#include "backends/api/device.h"

namespace inferd::cpu {

class CpuDevice final : public Device {
 public:
  std::string name() const override { return "cpu"; }
  // The machine architecture: oneDNN picks the instruction set when a plan is loaded, so a
  // CPU plan runs on any processor of the same architecture.
  std::string target() const override;
  MemoryKind working_memory() const override { return MemoryKind::kHost; }
  Result<Buffer> allocate(size_t bytes, MemoryKind kind) const override;
  Result<std::unique_ptr<Stream>> create_stream() const override;
  Status copy(void* dst, const void* src, size_t bytes, Stream& stream) const override;
  // RAPL package counters under /sys/class/powercap.
  Result<std::unique_ptr<EnergyMeter>> open_energy_meter() const override { return open_rapl_meter(); }
};

}  // namespace inferd::cpu
