#include "server/device_noop.h"

#include <algorithm>
#include <string>
#include <utility>

#include "backends/api/registry.h"

namespace inferd {

Result<std::unique_ptr<Stream>> DeviceNoop::take_stream() {
  std::lock_guard<std::mutex> lock(mutex_);
  if (!opened_) {
    opened_ = true;
    if (backend_devices("cuda").empty()) {
      const std::vector<std::string> names = registered_backends();
      const bool compiled = std::find(names.begin(), names.end(), "cuda") != names.end();
      open_status_ = unimplemented(std::string("device=1 needs a GPU: ") +
                                   (compiled ? "this machine has no CUDA device" : "this build has no CUDA backend"));
    } else {
      Result<std::shared_ptr<const Backend>> backend = create_backend("cuda", BackendOptions{0, 0});
      if (backend.is_ok()) {
        backend_ = std::move(backend).value();
      } else {
        open_status_ = backend.status();
      }
    }
  }
  if (!backend_) return open_status_;
  if (!idle_.empty()) {
    std::unique_ptr<Stream> stream = std::move(idle_.back());
    idle_.pop_back();
    return stream;
  }
  return backend_->device().create_stream();
}

Status DeviceNoop::run() {
  ASSIGN_OR_RETURN(std::unique_ptr<Stream> stream, take_stream());
  Status status = backend_->device().enqueue_empty_kernel(*stream);
  if (status.is_ok()) status = stream->synchronize();
  if (status.is_ok()) {  // a stream that failed is not reused
    std::lock_guard<std::mutex> lock(mutex_);
    idle_.push_back(std::move(stream));
  }
  return status;
}

}  // namespace inferd
