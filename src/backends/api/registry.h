// Backends register themselves here by name (each backend library does so from a static
// registrar, so main() wires nothing by hand); the runtime, builder and tools look them up
// here, never by including a backend's headers.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "backends/api/backend.h"
#include "backends/api/image_decoder.h"
#include "core/status.h"

namespace inferd {

struct BackendOptions {
  int threads = 0;  // CPU: threads per running kernel; 0 = all cores
  int device = 0;   // GPU backends: the device index (as `--gpus` numbers them)
};

// One device a backend can run on, for `inferd info`, logs and `--gpus all`.
struct DeviceDescription {
  int index = 0;
  std::string name;  // "NVIDIA H200"
  std::string target;
  uint64_t memory_bytes = 0;
};

struct BackendRegistration {
  std::function<Result<std::shared_ptr<const Backend>>(const BackendOptions&)> create;
  // The devices present now (an empty list: the backend is compiled in, but there is
  // nothing to run it on, e.g. no GPU or no driver).
  std::function<std::vector<DeviceDescription>()> devices;
  // A batch image decoder on device `index` (image_decoder.h); empty when the backend has none.
  std::function<Result<std::unique_ptr<BatchImageDecoder>>(int index)> open_image_decoder;
};

// Thread-safe. Registering a name twice replaces the first registration.
void register_backend(const std::string& name, BackendRegistration registration);
// Names of the backends compiled into this binary.
std::vector<std::string> registered_backends();
// The devices of backend `name` (empty when it is not registered or has none).
std::vector<DeviceDescription> backend_devices(const std::string& name);
// "auto" picks cuda when it is registered and has a device, else cpu.
Result<std::shared_ptr<const Backend>> create_backend(const std::string& name, const BackendOptions& options);
// The name "auto" resolves to on this machine.
std::string resolve_backend_name(const std::string& name);
// A BatchImageDecoder of backend `name` on its device `index` (one per thread): kNotFound
// when the backend is not in this build, kUnimplemented when it has no device decoder
// (the CPU: its decoder is image/), else the backend's own failure (no GPU, no nvJPEG).
Result<std::unique_ptr<BatchImageDecoder>> open_image_decoder(const std::string& name, int index);
// "all" -> every device index of `backend`; "0,2" -> {0, 2}, each checked to exist.
Result<std::vector<int>> parse_device_list(const std::string& backend, const std::string& list);

}  // namespace inferd
