// What every part of the CUDA backend shares: turning CUDA, cuDNN and cuBLAS status codes
// into Status values that name the failed call (callers add the node), and the stream
// type kernels enqueue on, which carries that stream's library handles.
#pragma once

#include <cublasLt.h>
#include <cuda_runtime.h>
#include <cudnn.h>

#include <string>
#include <vector>

#include "backends/api/backend.h"
#include "core/status.h"

namespace inferd::cuda {

Status cuda_status(cudaError_t err, const char* call);
Status cudnn_status(cudnnStatus_t err, const char* call);
Status cublas_status(cublasStatus_t err, const char* call);

#define CUDA_RETURN_IF_ERROR(call) RETURN_IF_ERROR(::inferd::cuda::cuda_status((call), #call))
#define CUDNN_RETURN_IF_ERROR(call) RETURN_IF_ERROR(::inferd::cuda::cudnn_status((call), #call))
#define CUBLAS_RETURN_IF_ERROR(call) RETURN_IF_ERROR(::inferd::cuda::cublas_status((call), #call))

// One CUDA stream of one device, with the cuDNN and cuBLASLt handles bound to it
// (handles are per stream so that contexts never share one: cuDNN handles are not
// thread-safe). Created by CudaDevice::create_stream(); used by one thread at a time.
class CudaStream final : public Stream {
 public:
  static Result<std::unique_ptr<CudaStream>> create(int device, size_t max_markers = 4096);
  ~CudaStream() override;

  Status synchronize() override;
  Status record_marker(size_t index) override;
  Result<double> elapsed_ms(size_t from, size_t to) const override;
  // `native` is a cudaStream_t of this stream's device; ordered through one event.
  Status wait_for_native(void* native) override;
  Status signal_native(void* native) override;

  int device() const { return device_; }
  cudaStream_t get() const { return stream_; }
  cudnnHandle_t cudnn() const { return cudnn_; }
  cublasLtHandle_t cublaslt() const { return cublaslt_; }

 private:
  CudaStream() = default;
  int device_ = 0;
  cudaStream_t stream_ = nullptr;
  cudnnHandle_t cudnn_ = nullptr;
  cublasLtHandle_t cublaslt_ = nullptr;
  std::vector<cudaEvent_t> markers_;  // created lazily on first record_marker (profiling only)
  cudaEvent_t order_event_ = nullptr;  // created lazily by the first *_native call
  Status ensure_order_event();
};

// The CudaStream an EnqueueContext carries (a CUDA kernel only ever runs on one).
inline CudaStream& cuda_stream(const EnqueueContext& ctx) { return static_cast<CudaStream&>(ctx.stream); }

// The batches tune() times: TuneOptions::batches ascending without repeats; empty (nothing
// to tune) when one is not positive or there are more than a tuning blob holds (255).
std::vector<int> tuned_batches(std::vector<int> batches);

// CUDA's element type for an inferd dtype of activations (fp32, fp16, bf16).
Result<cudaDataType_t> cuda_data_type(DataType dtype);
Result<cudnnDataType_t> cudnn_data_type(DataType dtype);

}  // namespace inferd::cuda
