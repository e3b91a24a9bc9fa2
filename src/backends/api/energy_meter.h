// Energy counters for images/s/W figures (`inferd bench --engine`, the whitepaper's metric).
// A meter reads a monotonically growing energy counter; the benchmark reads it around a
// timed run and divides by the run's time and images. CPU: RAPL package counters through
// the Linux powercap interface. A GPU backend adds its own meter (NVML's total energy
// consumption counter) behind the same interface.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/status.h"

namespace inferd {

class EnergyMeter {
 public:
  virtual ~EnergyMeter() = default;
  // What is measured, e.g. "RAPL package-0+package-1".
  virtual std::string name() const = 0;
  // Energy used since the meter was opened, in joules. Counter wrap-around is handled as
  // long as this is called at least once per wrap period (minutes for RAPL).
  virtual Result<double> joules() = 0;
};

// The RAPL package zones under `powercap_root` (default /sys/class/powercap): every
// top-level "intel-rapl:N" zone (the kernel uses that name for AMD's RAPL too), summed.
// Fails with a message saying why when there is none or its energy_uj is not readable
// (kernels since 5.10 make it root-only).
Result<std::unique_ptr<EnergyMeter>> open_rapl_meter(const std::string& powercap_root = "/sys/class/powercap");

}  // namespace inferd
