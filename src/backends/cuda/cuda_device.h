// One NVIDIA GPU as an inferd Device: cudaMalloc'd working memory, CudaStreams (each with
// its own cuDNN and cuBLASLt handles), asynchronous copies and CUDA graphs.
//
// Calls that touch the GPU make it the calling thread's current device and leave it so
// (restoring the previous one could initialize a context on a GPU this process never
// uses, which costs memory there).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "backends/api/device.h"
#include "backends/api/registry.h"
#include "core/status.h"

namespace inferd::cuda {

class CudaDevice final : public Device {
 public:
  // Fails with kNotFound when `index` is not a GPU of this machine (the message lists the
  // ones there are), kFailedPrecondition when there is no usable driver or GPU at all.
  static Result<std::shared_ptr<const CudaDevice>> open(int index);

  std::string name() const override;  // "cuda:0 (NVIDIA H200)"
  // "sm_90 cuda 13.0 cudnn 9.19.0 cublasLt 13.1.0", from the libraries loaded at run time.
  std::string target() const override;
  // The architecture must match exactly; cuDNN and cuBLASLt major.minor must match (their
  // choices of engine and algorithm, recorded in the plan, are valid across patches).
  Status check_plan_target(const std::string& plan_target) const override;
  MemoryKind working_memory() const override { return MemoryKind::kDevice; }
  // A new batch size costs every cuDNN convolution an execution plan (seconds per model
  // with runtime-compiled fused engines) and a graph capture; a batch of 5 run as 8 costs
  // the GPU almost nothing more.
  bool pads_batches() const override { return true; }

  Result<Buffer> allocate(size_t bytes, MemoryKind kind) const override;
  Result<std::unique_ptr<Stream>> create_stream() const override;
  // `stream` must be a CudaStream. Pageable host memory on either side makes the copy
  // synchronous with the host (CUDA stages it); pinned memory keeps it asynchronous.
  Status copy(void* dst, const void* src, size_t bytes, Stream& stream) const override;
  Result<std::unique_ptr<StreamGraph>> capture(Stream& stream, const std::function<Status()>& enqueue) const override;
  Result<DeviceMemoryInfo> memory_info() const override;
  // Memory from CUDA; utilization and power from NVML (fields left negative without it).
  Result<DeviceTelemetry> telemetry() const override;
  Status enqueue_empty_kernel(Stream& stream) const override;
  // NVML's energy counter for this GPU (open_nvml_meter).
  Result<std::unique_ptr<EnergyMeter>> open_energy_meter() const override;

  int index() const { return index_; }
  int sm() const { return sm_; }                             // compute capability as major*10+minor: 90 for an H200
  const std::string& gpu_name() const { return gpu_name_; }  // "NVIDIA H200"

 private:
  CudaDevice() = default;
  int index_ = 0;
  int sm_ = 0;
  std::string gpu_name_;
  std::string target_;
};

// The GPUs present now (an empty list when there is no driver or no GPU; never an error).
std::vector<DeviceDescription> list_cuda_devices();

}  // namespace inferd::cuda
