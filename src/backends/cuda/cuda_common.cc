#include "backends/cuda/cuda_common.h"

#include <algorithm>

#include <string_view>

namespace inferd::cuda {
namespace {

// "cudaMalloc(&ptr, bytes)" -> "cudaMalloc(...)": the macros pass the whole expression,
// whose arguments mean nothing to a user; the function name is what identifies the call.
std::string call_name(const char* call) {
  std::string_view text(call ? call : "?");
  const size_t paren = text.find('(');
  if (paren == std::string_view::npos) return std::string(text);
  return std::string(text.substr(0, paren)) + "(...)";
}

// Errors after which the CUDA context is unusable: every later call in the process fails
// with the same error, so the only remedy is a new process (or a reset GPU).
bool is_sticky(cudaError_t err) {
  switch (err) {
    case cudaErrorIllegalAddress:
    case cudaErrorLaunchFailure:
    case cudaErrorLaunchTimeout:
    case cudaErrorHardwareStackError:
    case cudaErrorIllegalInstruction:
    case cudaErrorMisalignedAddress:
    case cudaErrorInvalidPc:
    case cudaErrorAssert:
    case cudaErrorECCUncorrectable:
    case cudaErrorNvlinkUncorrectable:
    case cudaErrorContained:
    case cudaErrorExternalDevice:
      return true;
    default:
      return false;
  }
}

// Errors that mean this machine's driver or GPU setup cannot run the call at all.
bool is_environment(cudaError_t err) {
  switch (err) {
    case cudaErrorNoDevice:
    case cudaErrorInsufficientDriver:
    case cudaErrorSystemDriverMismatch:
    case cudaErrorCompatNotSupportedOnDevice:
    case cudaErrorSystemNotReady:
    case cudaErrorDeviceNotLicensed:
    case cudaErrorDevicesUnavailable:  // exclusive-process mode and another process has it
      return true;
    default:
      return false;
  }
}

}  // namespace

// status.h has no "unavailable" code: a lost GPU or a faulted context is reported as
// kInternal with a message telling the operator that the process must restart, and a
// missing driver/GPU as kFailedPrecondition (the machine, not the request, is wrong).
Status cuda_status(cudaError_t err, const char* call) {
  if (err == cudaSuccess) return Status::ok();
  std::string message = call_name(call) + " failed: " + cudaGetErrorString(err) + " (" + cudaGetErrorName(err) + ")";
  if (is_sticky(err)) {
    return internal_error(message +
                          "; the GPU faulted or was lost and its CUDA context is unusable: restart the process");
  }
  // A non-sticky error is also latched as the thread's "last error"; clear it so that a
  // later cudaGetLastError() after a kernel launch does not report this one again.
  (void)cudaGetLastError();
  switch (err) {
    case cudaErrorMemoryAllocation:
      return resource_exhausted(message);
    case cudaErrorNotSupported:
    case cudaErrorStreamCaptureUnsupported:
      return unimplemented(message);
    case cudaErrorInvalidDevice:
      return invalid_argument(message);
    default:
      break;
  }
  if (is_environment(err)) return failed_precondition(message);
  return internal_error(message);
}

Status cudnn_status(cudnnStatus_t err, const char* call) {
  if (err == CUDNN_STATUS_SUCCESS) return Status::ok();
  std::string message = call_name(call) + " failed: " + cudnnGetErrorString(err);
  // cuDNN 9 keeps a more specific explanation per thread (which attribute, which shape).
  char detail[512] = {};
  cudnnGetLastErrorString(detail, sizeof(detail));
  if (detail[0] != '\0') message += std::string(" (") + detail + ")";
  switch (err) {
    case CUDNN_STATUS_INTERNAL_ERROR_HOST_ALLOCATION_FAILED:  // the old CUDNN_STATUS_ALLOC_FAILED
    case CUDNN_STATUS_INTERNAL_ERROR_DEVICE_ALLOCATION_FAILED:
      return resource_exhausted(message);
    case CUDNN_STATUS_NOT_SUPPORTED_INCOMPATIBLE_CUDA_DRIVER:
    case CUDNN_STATUS_NOT_SUPPORTED_INCOMPATIBLE_CUDART:
    case CUDNN_STATUS_NOT_SUPPORTED_RUNTIME_PREREQUISITE_MISSING:
    case CUDNN_STATUS_NOT_SUPPORTED_SUBLIBRARY_UNAVAILABLE:
    case CUDNN_STATUS_SUBLIBRARY_VERSION_MISMATCH:
    case CUDNN_STATUS_SUBLIBRARY_LOADING_FAILED:
      return failed_precondition(message);  // the installation, not the model, is wrong
    default:
      break;
  }
  // Other codes are judged by their category (cuDNN 9 groups codes by thousands).
  switch (CUDNN_STATUS_CATEGORY(err)) {
    case CUDNN_STATUS_NOT_SUPPORTED:
      return unimplemented(message);
    case CUDNN_STATUS_BAD_PARAM:
      return invalid_argument(message);
    default:
      return internal_error(message);
  }
}

Status cublas_status(cublasStatus_t err, const char* call) {
  if (err == CUBLAS_STATUS_SUCCESS) return Status::ok();
  const std::string message =
      call_name(call) + " failed: " + cublasLtGetStatusString(err) + " (" + cublasLtGetStatusName(err) + ")";
  switch (err) {
    case CUBLAS_STATUS_ALLOC_FAILED:
      return resource_exhausted(message);
    case CUBLAS_STATUS_NOT_SUPPORTED:
    case CUBLAS_STATUS_ARCH_MISMATCH:
      return unimplemented(message);
    case CUBLAS_STATUS_INVALID_VALUE:
      return invalid_argument(message);
    case CUBLAS_STATUS_NOT_INITIALIZED:
    case CUBLAS_STATUS_LICENSE_ERROR:
      return failed_precondition(message);
    default:
      return internal_error(message);
  }
}

Result<std::unique_ptr<CudaStream>> CudaStream::create(int device, size_t max_markers) {
  // The destructor releases whatever was created when a later step fails.
  std::unique_ptr<CudaStream> s(new CudaStream());
  s->device_ = device;
  // Markers are created on first use; the slots exist up front so the limit is the size.
  s->markers_.assign(max_markers, nullptr);
  // The creating thread is the one that enqueues on the stream (see device.h), so the
  // device is left current: kernels launch on the current device's streams only.
  CUDA_RETURN_IF_ERROR(cudaSetDevice(device));
  CUDA_RETURN_IF_ERROR(cudaStreamCreateWithFlags(&s->stream_, cudaStreamNonBlocking));
  CUDNN_RETURN_IF_ERROR(cudnnCreate(&s->cudnn_));
  CUDNN_RETURN_IF_ERROR(cudnnSetStream(s->cudnn_, s->stream_));
  // cuBLASLt handles are not bound to a stream: each matmul call names it.
  CUBLAS_RETURN_IF_ERROR(cublasLtCreate(&s->cublaslt_));
  return s;
}

CudaStream::~CudaStream() {
  // Errors are ignored: a destructor cannot report them, and after a sticky error every
  // call fails anyway. The handles were created on device_, so release them there.
  if (stream_ || cudnn_ || cublaslt_) (void)cudaSetDevice(device_);
  for (cudaEvent_t e : markers_) {
    if (e) (void)cudaEventDestroy(e);
  }
  if (order_event_) (void)cudaEventDestroy(order_event_);
  if (cublaslt_) (void)cublasLtDestroy(cublaslt_);
  if (cudnn_) (void)cudnnDestroy(cudnn_);
  if (stream_) (void)cudaStreamDestroy(stream_);
}

Status CudaStream::synchronize() {
  // Kernel faults surface here, at the first synchronizing call after them.
  Status s = cuda_status(cudaStreamSynchronize(stream_), "cudaStreamSynchronize");
  if (!s.is_ok()) return s.with_context("asynchronous error on cuda:" + std::to_string(device_));
  return s;
}

Status CudaStream::ensure_order_event() {
  if (order_event_) return Status::ok();
  CUDA_RETURN_IF_ERROR(cudaSetDevice(device_));
  // Ordering only: no timestamps, which makes record and wait cheaper.
  CUDA_RETURN_IF_ERROR(cudaEventCreateWithFlags(&order_event_, cudaEventDisableTiming));
  return Status::ok();
}

Status CudaStream::wait_for_native(void* native) {
  if (native == nullptr) return Status::ok();
  RETURN_IF_ERROR(ensure_order_event());
  CUDA_RETURN_IF_ERROR(cudaEventRecord(order_event_, static_cast<cudaStream_t>(native)));
  CUDA_RETURN_IF_ERROR(cudaStreamWaitEvent(stream_, order_event_, 0));
  return Status::ok();
}

Status CudaStream::signal_native(void* native) {
  if (native == nullptr) return Status::ok();
  RETURN_IF_ERROR(ensure_order_event());
  CUDA_RETURN_IF_ERROR(cudaEventRecord(order_event_, stream_));
  CUDA_RETURN_IF_ERROR(cudaStreamWaitEvent(static_cast<cudaStream_t>(native), order_event_, 0));
  return Status::ok();
}

Status CudaStream::record_marker(size_t index) {
  if (index >= markers_.size()) {
    return resource_exhausted("timing marker " + std::to_string(index) + " is beyond the stream's " +
                              std::to_string(markers_.size()) + " markers");
  }
  cudaEvent_t& e = markers_[index];
  if (!e) {
    // Default flags (not cudaEventDisableTiming): elapsed_ms needs timestamps.
    CUDA_RETURN_IF_ERROR(cudaSetDevice(device_));
    CUDA_RETURN_IF_ERROR(cudaEventCreate(&e));
  }
  CUDA_RETURN_IF_ERROR(cudaEventRecord(e, stream_));
  return Status::ok();
}

Result<double> CudaStream::elapsed_ms(size_t from, size_t to) const {
  for (size_t i : {from, to}) {
    if (i >= markers_.size() || !markers_[i]) {
      return invalid_argument("timing marker " + std::to_string(i) + " was never recorded");
    }
  }
  float ms = 0;
  const cudaError_t err = cudaEventElapsedTime(&ms, markers_[from], markers_[to]);
  if (err == cudaErrorNotReady) {
    (void)cudaGetLastError();
    return failed_precondition("timing markers read before the stream was synchronized");
  }
  RETURN_IF_ERROR(cuda_status(err, "cudaEventElapsedTime"));
  return static_cast<double>(ms);
}

Result<cudaDataType_t> cuda_data_type(DataType dtype) {
  switch (dtype) {
    case DataType::kFloat32:
      return CUDA_R_32F;
    case DataType::kFloat16:
      return CUDA_R_16F;
    case DataType::kBFloat16:
      return CUDA_R_16BF;
    default:
      return unimplemented(std::string("the CUDA backend has no kernels for ") + to_string(dtype) + " activations");
  }
}

Result<cudnnDataType_t> cudnn_data_type(DataType dtype) {
  switch (dtype) {
    case DataType::kFloat32:
      return CUDNN_DATA_FLOAT;
    case DataType::kFloat16:
      return CUDNN_DATA_HALF;
    case DataType::kBFloat16:
      return CUDNN_DATA_BFLOAT16;
    default:
      return unimplemented(std::string("cuDNN kernels do not take ") + to_string(dtype) + " activations");
  }
}

std::vector<int> tuned_batches(std::vector<int> batches) {
  std::sort(batches.begin(), batches.end());
  batches.erase(std::unique(batches.begin(), batches.end()), batches.end());
  if (batches.empty() || batches.front() <= 0 || batches.size() > 255) return {};
  return batches;
}

}  // namespace inferd::cuda
