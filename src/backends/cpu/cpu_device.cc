#include "backends/cpu/cpu_device.h"

#include <sys/utsname.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <vector>

namespace inferd::cpu {
namespace {

// Work enqueued on the CPU has finished when enqueue() returns: synchronize() has
// nothing to wait for, and markers are wall-clock readings.
class CpuStream final : public Stream {
 public:
  Status synchronize() override { return Status::ok(); }
  Status record_marker(size_t index) override {
    if (index >= markers_.size()) markers_.resize(index + 1);
    markers_[index] = std::chrono::steady_clock::now();
    return Status::ok();
  }
  Result<double> elapsed_ms(size_t from, size_t to) const override {
    if (from >= markers_.size() || to >= markers_.size())
      return invalid_argument("timing marker " + std::to_string(std::max(from, to)) + " was never recorded");
    return std::chrono::duration<double, std::milli>(markers_[to] - markers_[from]).count();
  }

 private:
  std::vector<std::chrono::steady_clock::time_point> markers_;
};

constexpr size_t kAlignment = 64;  // a cache line, and what oneDNN's kernels are tuned for

}  // namespace

std::string CpuDevice::target() const {
  utsname u{};
  if (uname(&u) != 0) return "unknown";
  return u.machine;
}

Result<Buffer> CpuDevice::allocate(size_t bytes, MemoryKind kind) const {
  if (bytes == 0) return Buffer();
  const size_t rounded = (bytes + kAlignment - 1) / kAlignment * kAlignment;
  void* p = std::aligned_alloc(kAlignment, rounded);
  if (p == nullptr)
    return resource_exhausted("cannot allocate " + std::to_string(bytes) + " bytes of " + to_string(kind) +
                              " memory on the cpu");
  // Kernels never see a kDevice buffer of the CPU: what the CPU calls device memory is host memory.
  return Buffer(p, bytes, kind == MemoryKind::kDevice ? MemoryKind::kHost : kind, [](void* q) { std::free(q); });
}

Result<std::unique_ptr<Stream>> CpuDevice::create_stream() const {
  return std::unique_ptr<Stream>(std::make_unique<CpuStream>());
}

Status CpuDevice::copy(void* dst, const void* src, size_t bytes, Stream&) const {
  if (bytes != 0 && dst != src) std::memmove(dst, src, bytes);
  return Status::ok();
}

}  // namespace inferd::cpu
