// A GPU's energy and power through NVML, for images/J (`inferd bench --engine`) and the
// server's /metrics. NVML ships with the driver, not the toolkit, so it is loaded at run
// time (dlopen of libnvidia-ml.so.1): a binary built with the CUDA backend still starts,
// and only these calls fail, on a machine without the driver.
//
// GPUs are numbered as CUDA numbers them (as `--gpus` does); NVML's own order is the PCI
// order, so each index is mapped through the GPU's PCI bus id.
#pragma once

#include <memory>

#include "backends/api/energy_meter.h"
#include "core/status.h"

namespace inferd::cuda {

// The GPU's total-energy counter (millijoules since the driver loaded); where the GPU has
// none, its power draw sampled every ~20 ms on a background thread and integrated.
// Every failure carries NVML's error string.
Result<std::unique_ptr<EnergyMeter>> open_nvml_meter(int gpu_index);

// The GPU's power draw now, in watts, as NVML reports it (averaged over the last second
// on Hopper and most Ampere GPUs, instantaneous on older ones).
Result<double> nvml_power_watts(int gpu_index);

// The fraction (0..1) of NVML's last sample period (1/6 s to 1 s by GPU) in which a kernel
// ran on the GPU.
Result<double> nvml_utilization(int gpu_index);

}  // namespace inferd::cuda
