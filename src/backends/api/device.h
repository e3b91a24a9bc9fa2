// A device is one CPU or one GPU (as ggml-backend's device/buffer/stream split and ONNX
// Runtime's execution-provider allocators): it allocates memory of a kind, owns the
// streams work is enqueued on, copies between host and device, and says which plans it
// can run (its target).
//
// Threading: a Device is immutable and may be used from any thread. A Stream is used by
// one thread at a time (its ExecutionContext's).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "backends/api/energy_meter.h"
#include "backends/api/tensor_view.h"
#include "core/status.h"

namespace inferd {

// An ordered queue of work on a device. On the CPU, work runs when it is enqueued and
// synchronize() returns at once; on a GPU it is a CUDA stream.
class Stream {
 public:
  virtual ~Stream() = default;
  // Waits until everything enqueued so far has finished; reports an asynchronous
  // failure of that work (a kernel fault, a lost GPU).
  virtual Status synchronize() = 0;
  // Timing markers for profiling: record_marker(i) is enqueued after the work before
  // it; elapsed_ms(i, j) is valid once the stream has been synchronized.
  virtual Status record_marker(size_t index) = 0;
  virtual Result<double> elapsed_ms(size_t from, size_t to) const = 0;
  // Ordering against a stream of the device's own API (a cudaStream_t on a GPU), for
  // callers that enqueue on a stream of theirs (the public API's enqueue(..., stream)).
  // wait_for_native: work enqueued here from now on starts after everything enqueued on
  // `native` so far. signal_native: work enqueued on `native` from now on starts after
  // everything enqueued here so far. nullptr is no stream: nothing to order. A device
  // without native streams (the CPU, whose work is done when enqueue returns) refuses a
  // non-null handle.
  virtual Status wait_for_native(void* native);
  virtual Status signal_native(void* native);
};

// A recorded sequence of stream work, replayed with one call (a CUDA graph).
class StreamGraph {
 public:
  virtual ~StreamGraph() = default;
  virtual Status launch(Stream& stream) = 0;
};

// Owned memory of one kind; released by the device that allocated it.
class Buffer {
 public:
  Buffer() = default;
  Buffer(void* data, size_t bytes, MemoryKind kind, std::function<void(void*)> release)
      : data_(data), bytes_(bytes), kind_(kind), release_(std::move(release)) {}
  Buffer(Buffer&& o) noexcept { swap(o); }
  Buffer& operator=(Buffer&& o) noexcept {
    Buffer(std::move(o)).swap(*this);
    return *this;
  }
  Buffer(const Buffer&) = delete;
  Buffer& operator=(const Buffer&) = delete;
  ~Buffer() {
    if (data_ && release_) release_(data_);
  }

  void* data() const { return data_; }
  size_t bytes() const { return bytes_; }
  MemoryKind kind() const { return kind_; }

 private:
  void swap(Buffer& o) noexcept {
    std::swap(data_, o.data_);
    std::swap(bytes_, o.bytes_);
    std::swap(kind_, o.kind_);
    std::swap(release_, o.release_);
  }
  void* data_ = nullptr;
  size_t bytes_ = 0;
  MemoryKind kind_ = MemoryKind::kHost;
  std::function<void(void*)> release_;
};

struct DeviceMemoryInfo {
  uint64_t free_bytes = 0, total_bytes = 0;
};

// What a device says about itself now, for the server's /metrics; a field it cannot read
// is negative.
struct DeviceTelemetry {
  double utilization = -1;  // the fraction of the driver's last sample period a kernel ran, 0..1
  double power_watts = -1;
  double memory_used_bytes = -1, memory_total_bytes = -1;
};

class Device {
 public:
  virtual ~Device() = default;
  // For logs and errors: "cpu", "cuda:0 (NVIDIA H200)".
  virtual std::string name() const = 0;
  // What a plan built for this device records and is checked against at load:
  // "x86_64", "sm_90 cuda 13.0 cudnn 9.19.0 cublasLt 13.1.0".
  virtual std::string target() const = 0;
  // OK when a plan recorded with `plan_target` runs here; otherwise a message that says
  // what the plan needs, what this device is, and to rebuild.
  virtual Status check_plan_target(const std::string& plan_target) const;
  // Where the engine keeps activations and weights: kHost for the CPU, kDevice for a GPU.
  virtual MemoryKind working_memory() const = 0;
  // Whether batches should run at a few fixed sizes, padded up (Engine::run_batch): true
  // where preparing a new shape is costly (library plans, a stream graph) and the rows a
  // padded batch adds cost little; false where they cost their full compute (the CPU).
  virtual bool pads_batches() const { return false; }

  // Zero-sized requests give an empty buffer. Fails with kResourceExhausted naming the
  // size and the device when memory runs out.
  virtual Result<Buffer> allocate(size_t bytes, MemoryKind kind) const = 0;
  virtual Result<std::unique_ptr<Stream>> create_stream() const = 0;
  // Enqueues a copy of `bytes` on `stream`; host, pinned and device memory on either side.
  virtual Status copy(void* dst, const void* src, size_t bytes, Stream& stream) const = 0;
  // Records what `enqueue` puts on `stream` (nothing runs) into a graph to replay;
  // kUnimplemented on devices without graphs (the CPU).
  virtual Result<std::unique_ptr<StreamGraph>> capture(Stream& stream, const std::function<Status()>& enqueue) const;
  virtual Result<DeviceMemoryInfo> memory_info() const;
  // kUnimplemented where the device has nothing to report (the CPU: the process's own
  // metrics cover it); fails only when no field can be read.
  virtual Result<DeviceTelemetry> telemetry() const;
  // Enqueues the least work the device can run (an empty kernel on a GPU): what the
  // server's /v1/noop?device=1 measures, the cost of a launch and a synchronization
  // (the GPU REST Engine's empty-kernel server). kUnimplemented on the CPU.
  virtual Status enqueue_empty_kernel(Stream& stream) const;
  // The energy counter of this device (RAPL packages for the CPU, NVML for a GPU), for the
  // images/s/W figures of `inferd bench --engine`; kUnimplemented/kNotFound when there is none.
  virtual Result<std::unique_ptr<EnergyMeter>> open_energy_meter() const;
};

}  // namespace inferd
