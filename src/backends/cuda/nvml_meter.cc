#include "backends/cuda/nvml_meter.h"

#include <cuda_runtime.h>
#include <dlfcn.h>

#include <chrono>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <stop_token>
#include <string>
#include <thread>

#include "backends/cuda/dl_symbol.h"

namespace inferd::cuda {
namespace {

// No nvml.h is installed with the toolkit here, so the few types and entry points used are
// declared from NVML's documented C API. nvmlReturn_t is a C enum (int-sized on every ABI
// inferd targets); nvmlDevice_t is a pointer to an opaque struct.
using NvmlReturn = int;
struct NvmlDeviceOpaque;
using NvmlDevice = NvmlDeviceOpaque*;
constexpr NvmlReturn kNvmlSuccess = 0;
constexpr NvmlReturn kNvmlErrorNotSupported = 3;
constexpr NvmlReturn kNvmlErrorNotFound = 6;
constexpr NvmlReturn kNvmlErrorGpuIsLost = 15;
constexpr unsigned kNvmlNameBufferSize = 96;  // NVML_DEVICE_NAME_V2_BUFFER_SIZE
// nvmlUtilization_t: percent of the sample period a kernel ran, and memory was read or written.
struct NvmlUtilization {
  unsigned gpu;
  unsigned memory;
};

struct NvmlApi {
  NvmlReturn (*init)();                                            // nvmlInit_v2
  NvmlReturn (*shutdown)();                                        // nvmlShutdown
  NvmlReturn (*handle_by_pci_bus_id)(const char*, NvmlDevice*);    // nvmlDeviceGetHandleByPciBusId_v2
  NvmlReturn (*get_name)(NvmlDevice, char*, unsigned);             // nvmlDeviceGetName
  NvmlReturn (*total_energy_mj)(NvmlDevice, unsigned long long*);  // nvmlDeviceGetTotalEnergyConsumption
  NvmlReturn (*power_mw)(NvmlDevice, unsigned*);                   // nvmlDeviceGetPowerUsage
  NvmlReturn (*utilization)(NvmlDevice, NvmlUtilization*);         // nvmlDeviceGetUtilizationRates
  const char* (*error_string)(NvmlReturn);                         // nvmlErrorString
};

// An initialized NVML, shared by every meter and reading in the process: nvmlInit takes
// long enough (tens of ms) that /metrics must not pay it per scrape. Shut down when the
// last user lets go (at exit, for the process-wide reference).
class NvmlSession {
 public:
  explicit NvmlSession(const NvmlApi& api) : api(api) {}
  NvmlSession(const NvmlSession&) = delete;
  NvmlSession& operator=(const NvmlSession&) = delete;
  ~NvmlSession() { (void)api.shutdown(); }
  const NvmlApi api;
};

Status nvml_status(const NvmlApi& api, NvmlReturn err, const std::string& what) {
  const std::string message = what + " failed: " + api.error_string(err);
  switch (err) {
    case kNvmlErrorNotSupported:
      return unimplemented(message);
    case kNvmlErrorNotFound:
      return not_found(message);
    case kNvmlErrorGpuIsLost:
      return internal_error(message);
    default:
      return failed_precondition(message);  // permissions, a driver/library mismatch, ...
  }
}

Result<NvmlApi> load_nvml() {
  // Never dlclosed: the driver's library stays loaded for the process, as it would if linked.
  void* library = dlopen("libnvidia-ml.so.1", RTLD_NOW | RTLD_LOCAL);
  if (!library) {
    const char* why = dlerror();
    return failed_precondition(std::string("cannot load NVML (libnvidia-ml.so.1, installed with the NVIDIA driver): ") +
                               (why ? why : "unknown error"));
  }
  NvmlApi api{};
  const char* missing = nullptr;
  if (!bind_symbol(library, "nvmlInit_v2", api.init)) missing = "nvmlInit_v2";
  if (!bind_symbol(library, "nvmlShutdown", api.shutdown)) missing = "nvmlShutdown";
  if (!bind_symbol(library, "nvmlDeviceGetHandleByPciBusId_v2", api.handle_by_pci_bus_id)) {
    missing = "nvmlDeviceGetHandleByPciBusId_v2";
  }
  if (!bind_symbol(library, "nvmlDeviceGetName", api.get_name)) missing = "nvmlDeviceGetName";
  if (!bind_symbol(library, "nvmlDeviceGetTotalEnergyConsumption", api.total_energy_mj)) {
    missing = "nvmlDeviceGetTotalEnergyConsumption";
  }
  if (!bind_symbol(library, "nvmlDeviceGetPowerUsage", api.power_mw)) missing = "nvmlDeviceGetPowerUsage";
  if (!bind_symbol(library, "nvmlDeviceGetUtilizationRates", api.utilization)) missing = "nvmlDeviceGetUtilizationRates";
  if (!bind_symbol(library, "nvmlErrorString", api.error_string)) missing = "nvmlErrorString";
  if (missing) {
    return failed_precondition(std::string("libnvidia-ml.so.1 has no ") + missing + " (an NVIDIA driver too old?)");
  }
  return api;
}

Result<std::shared_ptr<NvmlSession>> nvml_session() {
  static std::mutex mutex;
  static std::shared_ptr<NvmlSession> session;  // kept once NVML is up; failures are retried
  std::lock_guard lock(mutex);
  if (session) return session;
  ASSIGN_OR_RETURN(const NvmlApi api, load_nvml());
  const NvmlReturn err = api.init();
  if (err != kNvmlSuccess) return nvml_status(api, err, "nvmlInit_v2");
  session = std::make_shared<NvmlSession>(api);
  return session;
}

// NVML numbers GPUs in PCI order, CUDA fastest first (and after CUDA_VISIBLE_DEVICES), so
// the CUDA index is translated through the PCI bus id both agree on.
Result<NvmlDevice> nvml_device(const NvmlSession& nvml, int gpu_index) {
  char bus_id[32] = {};
  const cudaError_t err = cudaDeviceGetPCIBusId(bus_id, sizeof(bus_id), gpu_index);
  if (err != cudaSuccess) {
    (void)cudaGetLastError();  // not sticky: clear it for later checks
    return not_found("GPU " + std::to_string(gpu_index) + " has no PCI bus id for NVML: " + cudaGetErrorString(err));
  }
  NvmlDevice device = nullptr;
  const NvmlReturn found = nvml.api.handle_by_pci_bus_id(bus_id, &device);
  if (found != kNvmlSuccess) {
    return nvml_status(nvml.api, found, "nvmlDeviceGetHandleByPciBusId_v2(" + std::string(bus_id) + ")");
  }
  return device;
}

// "NVML GPU 0 (NVIDIA H200)": the start of a meter's name.
std::string describe(const NvmlSession& nvml, NvmlDevice device, int gpu_index) {
  char name[kNvmlNameBufferSize] = {};
  if (nvml.api.get_name(device, name, sizeof(name)) != kNvmlSuccess) std::strcpy(name, "unknown model");
  return "NVML GPU " + std::to_string(gpu_index) + " (" + name + ")";
}

// The GPU's own energy counter (Volta and newer): exact, and nothing runs in between.
class CounterMeter final : public EnergyMeter {
 public:
  CounterMeter(std::shared_ptr<NvmlSession> nvml, NvmlDevice device, std::string name, unsigned long long start_mj)
      : nvml_(std::move(nvml)), device_(device), name_(std::move(name)), start_mj_(start_mj) {}

  std::string name() const override { return name_ + " energy counter"; }

  Result<double> joules() override {
    unsigned long long now_mj = 0;
    const NvmlReturn err = nvml_->api.total_energy_mj(device_, &now_mj);
    if (err != kNvmlSuccess) return nvml_status(nvml_->api, err, name_ + ": nvmlDeviceGetTotalEnergyConsumption");
    // A 64-bit millijoule counter does not wrap; a smaller value means the driver reloaded.
    if (now_mj < start_mj_) return failed_precondition(name_ + ": the energy counter restarted (driver reloaded)");
    return static_cast<double>(now_mj - start_mj_) * 1e-3;
  }

 private:
  std::shared_ptr<NvmlSession> nvml_;
  NvmlDevice device_;
  std::string name_;
  unsigned long long start_mj_;
};

// Where there is no counter: power sampled on a background thread and integrated with the
// trapezoidal rule. NVML's reading is itself averaged over a second on recent GPUs, so
// short runs are smeared, but the total over a benchmark-length run is sound.
class SampledMeter final : public EnergyMeter {
 public:
  static constexpr std::chrono::milliseconds kPeriod{20};
  using Clock = std::chrono::steady_clock;

  SampledMeter(std::shared_ptr<NvmlSession> nvml, NvmlDevice device, std::string name, double watts)
      : nvml_(std::move(nvml)), device_(device), name_(std::move(name)), last_watts_(watts), last_(Clock::now()) {
    sampler_ = std::jthread([this](std::stop_token stop) { run(stop); });
  }

  std::string name() const override { return name_ + " power sampled every 20 ms"; }

  Result<double> joules() override {
    std::lock_guard lock(mutex_);
    if (!error_.is_ok()) return error_;
    // Extend the last reading to now, so a reading between samples is not up to 20 ms stale.
    return joules_ + last_watts_ * std::chrono::duration<double>(Clock::now() - last_).count();
  }

 private:
  void run(std::stop_token stop) {
    std::mutex wait_mutex;
    std::condition_variable_any wake;  // never notified: only the stop request ends a wait early
    std::unique_lock wait_lock(wait_mutex);
    while (!wake.wait_for(wait_lock, stop, kPeriod, [] { return false; }) && !stop.stop_requested()) {
      if (!sample()) return;
    }
  }

  // False after a failed reading: the error is kept for joules() and sampling stops.
  bool sample() {
    unsigned milliwatts = 0;
    const NvmlReturn err = nvml_->api.power_mw(device_, &milliwatts);
    const Clock::time_point now = Clock::now();
    std::lock_guard lock(mutex_);
    if (err != kNvmlSuccess) {
      error_ = nvml_status(nvml_->api, err, name_ + ": nvmlDeviceGetPowerUsage");
      return false;
    }
    const double watts = milliwatts * 1e-3;
    joules_ += 0.5 * (last_watts_ + watts) * std::chrono::duration<double>(now - last_).count();
    last_watts_ = watts;
    last_ = now;
    return true;
  }

  std::shared_ptr<NvmlSession> nvml_;
  NvmlDevice device_;
  std::string name_;
  std::mutex mutex_;  // guards what follows, shared with the sampler
  double joules_ = 0;
  double last_watts_;
  Clock::time_point last_;
  Status error_;
  std::jthread sampler_;  // last: destroyed (stopped and joined) before what it uses
};

Result<double> read_watts(const NvmlSession& nvml, NvmlDevice device, const std::string& what) {
  unsigned milliwatts = 0;
  const NvmlReturn err = nvml.api.power_mw(device, &milliwatts);
  if (err != kNvmlSuccess) return nvml_status(nvml.api, err, what + ": nvmlDeviceGetPowerUsage");
  return milliwatts * 1e-3;
}

}  // namespace

Result<std::unique_ptr<EnergyMeter>> open_nvml_meter(int gpu_index) {
  ASSIGN_OR_RETURN(std::shared_ptr<NvmlSession> nvml, nvml_session());
  ASSIGN_OR_RETURN(NvmlDevice device, nvml_device(*nvml, gpu_index));
  std::string name = describe(*nvml, device, gpu_index);
  unsigned long long start_mj = 0;
  const NvmlReturn err = nvml->api.total_energy_mj(device, &start_mj);
  if (err == kNvmlSuccess) {
    return std::unique_ptr<EnergyMeter>(new CounterMeter(std::move(nvml), device, std::move(name), start_mj));
  }
  if (err != kNvmlErrorNotSupported) {
    return nvml_status(nvml->api, err, name + ": nvmlDeviceGetTotalEnergyConsumption");
  }
  // No energy counter on this GPU: fall back to sampling its power draw.
  auto watts = read_watts(*nvml, device, name + " (no energy counter)");
  if (!watts.is_ok()) return watts.status();
  return std::unique_ptr<EnergyMeter>(new SampledMeter(std::move(nvml), device, std::move(name), watts.value()));
}

Result<double> nvml_utilization(int gpu_index) {
  ASSIGN_OR_RETURN(std::shared_ptr<NvmlSession> nvml, nvml_session());
  ASSIGN_OR_RETURN(NvmlDevice device, nvml_device(*nvml, gpu_index));
  NvmlUtilization rates{};
  const NvmlReturn err = nvml->api.utilization(device, &rates);
  if (err != kNvmlSuccess) {
    return nvml_status(nvml->api, err, "NVML GPU " + std::to_string(gpu_index) + ": nvmlDeviceGetUtilizationRates");
  }
  return rates.gpu / 100.0;
}

Result<double> nvml_power_watts(int gpu_index) {
  ASSIGN_OR_RETURN(std::shared_ptr<NvmlSession> nvml, nvml_session());
  ASSIGN_OR_RETURN(NvmlDevice device, nvml_device(*nvml, gpu_index));
  return read_watts(*nvml, device, "NVML GPU " + std::to_string(gpu_index));
}

}  // namespace inferd::cuda
