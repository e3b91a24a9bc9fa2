#include "backends/api/device.h"

namespace inferd {

Status Stream::wait_for_native(void* native) {
  if (native == nullptr) return Status::ok();
  return invalid_argument("this device has no native streams: pass a null stream");
}

Status Stream::signal_native(void* native) {
  if (native == nullptr) return Status::ok();
  return invalid_argument("this device has no native streams: pass a null stream");
}

Status Device::check_plan_target(const std::string& plan_target) const {
  if (plan_target == target()) return Status::ok();
  return failed_precondition("plan built for target '" + plan_target + "'; this device (" + name() + ") is '" +
                             target() + "': rebuild the plan with `inferd build` on this machine");
}

Result<std::unique_ptr<StreamGraph>> Device::capture(Stream&, const std::function<Status()>&) const {
  return unimplemented(name() + " has no stream graphs");
}

Result<std::unique_ptr<EnergyMeter>> Device::open_energy_meter() const {
  return unimplemented(name() + " has no energy counter");
}

Status Device::enqueue_empty_kernel(Stream&) const {
  return unimplemented(name() + " runs no kernels of its own");
}

Result<DeviceTelemetry> Device::telemetry() const {
  return unimplemented(name() + " reports no telemetry");
}

Result<DeviceMemoryInfo> Device::memory_info() const {
  return unimplemented(name() + " reports no memory figures");
}

}  // namespace inferd
