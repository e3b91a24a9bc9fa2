#include "runtime/backend_registry.h"

#include <map>
#include <mutex>

namespace inferd {
namespace {

struct Registry {
  std::mutex mu;
  std::map<std::string, BackendFactory> factories;
};

Registry& registry() {
  static Registry r;
  return r;
}

}  // namespace

void register_backend(const std::string& name, BackendFactory factory) {
  auto& r = registry();
  std::lock_guard lock(r.mu);
  r.factories[name] = std::move(factory);
}

std::vector<std::string> registered_backends() {
  auto& r = registry();
  std::lock_guard lock(r.mu);
  std::vector<std::string> names;
  for (const auto& [name, f] : r.factories) names.push_back(name);
  return names;
}

Result<std::shared_ptr<const Backend>> create_backend(const std::string& name, const BackendOptions& options) {
  BackendFactory factory;
  {
    auto& r = registry();
    std::lock_guard lock(r.mu);
    std::string chosen = name;
    if (name == "auto") chosen = r.factories.count("cuda") ? "cuda" : "cpu";
    auto it = r.factories.find(chosen);
    if (it == r.factories.end()) {
      std::string known;
      for (const auto& [n, f] : r.factories) known += (known.empty() ? "" : ", ") + n;
      return not_found("backend '" + chosen + "' is not available in this build (available: " + known + ")");
    }
    factory = it->second;
  }
  return factory(options);
}

}  // namespace inferd
