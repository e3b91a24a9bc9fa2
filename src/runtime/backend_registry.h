// Backends register a factory by name; the runtime and tools look them up here,
// never by including a backend's headers. The CUDA backend will register as "cuda".
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/status.h"
#include "runtime/kernel.h"

namespace inferd {

struct BackendOptions {
  int threads = 0;  // 0 = all cores
};

using BackendFactory = std::function<Result<std::shared_ptr<const Backend>>(const BackendOptions&)>;

// Thread-safe. Registering a name twice replaces the factory.
void register_backend(const std::string& name, BackendFactory factory);
std::vector<std::string> registered_backends();
// "auto" picks the first of cuda, cpu that is registered.
Result<std::shared_ptr<const Backend>> create_backend(const std::string& name, const BackendOptions& options);

}  // namespace inferd
