#include "backends/api/registry.h"

#include <cstdlib>
#include <map>
#include <mutex>

namespace inferd {
namespace {

struct Registry {
  std::mutex mu;
  std::map<std::string, BackendRegistration> backends;
};

Registry& registry() {
  static Registry r;
  return r;
}

}  // namespace

void register_backend(const std::string& name, BackendRegistration registration) {
  auto& r = registry();
  std::lock_guard lock(r.mu);
  r.backends[name] = std::move(registration);
}

std::vector<std::string> registered_backends() {
  auto& r = registry();
  std::lock_guard lock(r.mu);
  std::vector<std::string> names;
  for (const auto& [name, reg] : r.backends) names.push_back(name);
  return names;
}

std::vector<DeviceDescription> backend_devices(const std::string& name) {
  std::function<std::vector<DeviceDescription>()> devices;
  {
    auto& r = registry();
    std::lock_guard lock(r.mu);
    auto it = r.backends.find(name);
    if (it == r.backends.end() || !it->second.devices) return {};
    devices = it->second.devices;
  }
  return devices();
}

std::string resolve_backend_name(const std::string& name) {
  if (name != "auto") return name;
  return backend_devices("cuda").empty() ? "cpu" : "cuda";
}

Result<std::shared_ptr<const Backend>> create_backend(const std::string& name, const BackendOptions& options) {
  const std::string chosen = resolve_backend_name(name);
  BackendRegistration reg;
  {
    auto& r = registry();
    std::lock_guard lock(r.mu);
    auto it = r.backends.find(chosen);
    if (it == r.backends.end()) {
      std::string known;
      for (const auto& [n, f] : r.backends) known += (known.empty() ? "" : ", ") + n;
      return not_found("backend '" + chosen + "' is not available in this build (available: " + known + ")");
    }
    reg = it->second;
  }
  return reg.create(options);
}

Result<std::unique_ptr<BatchImageDecoder>> open_image_decoder(const std::string& name, int index) {
  std::function<Result<std::unique_ptr<BatchImageDecoder>>(int)> open;
  {
    auto& r = registry();
    std::lock_guard lock(r.mu);
    auto it = r.backends.find(name);
    if (it == r.backends.end()) return not_found("backend '" + name + "' is not available in this build");
    open = it->second.open_image_decoder;
  }
  if (!open) return unimplemented("backend '" + name + "' has no device image decoder");
  return open(index);
}

Result<std::vector<int>> parse_device_list(const std::string& backend, const std::string& list) {
  const auto devices = backend_devices(backend);
  std::vector<int> out;
  if (list == "all") {
    for (const auto& d : devices) out.push_back(d.index);
    if (out.empty()) return not_found("the " + backend + " backend has no device on this machine");
    return out;
  }
  size_t pos = 0;
  while (pos <= list.size()) {
    const size_t comma = std::min(list.find(',', pos), list.size());
    const std::string item = list.substr(pos, comma - pos);
    char* end = nullptr;
    const long index = item.empty() ? -1 : std::strtol(item.c_str(), &end, 10);
    if (item.empty() || *end != '\0' || index < 0)
      return invalid_argument("device list '" + list + "': '" + item + "' is not a device index (use e.g. 0,1 or all)");
    bool found = false;
    for (const auto& d : devices) found = found || d.index == index;
    if (!found)
      return not_found("device " + item + " of the " + backend + " backend does not exist: this machine has " +
                       std::to_string(devices.size()));
    out.push_back(static_cast<int>(index));
    pos = comma + 1;
  }
  return out;
}

}  // namespace inferd
