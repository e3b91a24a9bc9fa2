#include "backends/cuda/cuda_device.h"

#include <cstdio>
#include <cstdlib>
#include <sstream>

#include "backends/cuda/cuda_common.h"
#include "backends/cuda/cuda_kernels.h"
#include "backends/cuda/nvml_meter.h"

namespace inferd::cuda {
namespace {

// Host buffers get the alignment cudaMalloc guarantees, so code that relies on it (vector
// loads, cuDNN's alignment checks) behaves the same whichever memory a tensor is in.
constexpr size_t kHostAlignment = 256;

// The versions of the libraries actually loaded (not the headers compiled against): a plan
// records the engines and algorithms these chose, which is what has to match at load.
struct LibraryVersions {
  int cuda_major = 0, cuda_minor = 0;
  size_t cudnn = 0, cublaslt = 0;  // major*10000 + minor*100 + patch (cuDNN 9, cuBLAS 12+)
};

const LibraryVersions& library_versions() {
  static const LibraryVersions v = [] {
    LibraryVersions r;
    int runtime = 0;
    if (cudaRuntimeGetVersion(&runtime) == cudaSuccess) {  // 1000*major + 10*minor
      r.cuda_major = runtime / 1000;
      r.cuda_minor = runtime % 1000 / 10;
    }
    r.cudnn = cudnnGetVersion();
    r.cublaslt = cublasLtGetVersion();
    return r;
  }();
  return v;
}

std::string dotted(size_t version) {
  return std::to_string(version / 10000) + "." + std::to_string(version / 100 % 100) + "." +
         std::to_string(version % 100);
}

std::string make_target(int sm) {
  const LibraryVersions& v = library_versions();
  return "sm_" + std::to_string(sm) + " cuda " + std::to_string(v.cuda_major) + "." + std::to_string(v.cuda_minor) +
         " cudnn " + dotted(v.cudnn) + " cublasLt " + dotted(v.cublaslt);
}

// What check_plan_target compares; empty fields mean the target did not name them.
struct ParsedTarget {
  std::string arch;             // "sm_90"
  std::string cudnn, cublaslt;  // "9.19" (major.minor only: patches are compatible)
};

std::string major_minor(const std::string& version) {
  const size_t first = version.find('.');
  if (first == std::string::npos) return version;
  const size_t second = version.find('.', first + 1);
  return version.substr(0, second);
}

ParsedTarget parse_target(const std::string& target) {
  ParsedTarget p;
  std::istringstream in(target);
  std::string word, value;
  while (in >> word) {
    if (word.rfind("sm_", 0) == 0) {
      p.arch = word;
    } else if ((word == "cudnn" || word == "cublasLt" || word == "cuda") && in >> value) {
      if (word == "cudnn") p.cudnn = major_minor(value);
      if (word == "cublasLt") p.cublaslt = major_minor(value);
    }
  }
  return p;
}

std::string describe(const ParsedTarget& t) {
  return t.arch + " with cuDNN " + t.cudnn + " and cuBLASLt " + t.cublaslt;
}

std::string gib(uint64_t bytes) {
  char text[32];
  std::snprintf(text, sizeof(text), "%.2f GiB", static_cast<double>(bytes) / (1024.0 * 1024.0 * 1024.0));
  return text;
}

// "1 (cuda:0 NVIDIA H200)", "none": for the error when an index does not exist.
std::string describe_gpus(const std::vector<DeviceDescription>& gpus) {
  if (gpus.empty()) return "none";
  std::string text = std::to_string(gpus.size()) + " (";
  for (size_t i = 0; i < gpus.size(); ++i) {
    text += (i ? ", cuda:" : "cuda:") + std::to_string(gpus[i].index) + " " + gpus[i].name;
  }
  return text + ")";
}

CudaStream* as_cuda_stream(Stream& stream) {
  return dynamic_cast<CudaStream*>(&stream);
}

Status not_a_cuda_stream(const std::string& device) {
  return invalid_argument(device + " was given a stream of another device");
}

// An instantiated CUDA graph; the plain graph is kept with it (and freed with it) so the
// executable's source stays inspectable while it lives.
class CudaGraph final : public StreamGraph {
 public:
  CudaGraph(cudaGraph_t graph, cudaGraphExec_t exec) : graph_(graph), exec_(exec) {}
  CudaGraph(const CudaGraph&) = delete;
  CudaGraph& operator=(const CudaGraph&) = delete;
  ~CudaGraph() override {
    (void)cudaGraphExecDestroy(exec_);
    (void)cudaGraphDestroy(graph_);
  }

  Status launch(Stream& stream) override {
    CudaStream* s = as_cuda_stream(stream);
    if (!s) return not_a_cuda_stream("a CUDA graph");
    CUDA_RETURN_IF_ERROR(cudaSetDevice(s->device()));
    CUDA_RETURN_IF_ERROR(cudaGraphLaunch(exec_, s->get()));
    return Status::ok();
  }

 private:
  cudaGraph_t graph_;
  cudaGraphExec_t exec_;
};

}  // namespace

Result<std::shared_ptr<const CudaDevice>> CudaDevice::open(int index) {
  int count = 0;
  const cudaError_t err = cudaGetDeviceCount(&count);
  if (err != cudaSuccess) {
    const Status s = cuda_status(err, "cudaGetDeviceCount");
    return failed_precondition("cannot use GPU " + std::to_string(index) + ": no usable CUDA driver or GPU (" +
                               s.message() + ")");
  }
  if (index < 0 || index >= count) {
    return not_found("GPU " + std::to_string(index) + " does not exist: this machine has " +
                     describe_gpus(list_cuda_devices()));
  }
  cudaDeviceProp prop{};
  CUDA_RETURN_IF_ERROR(cudaGetDeviceProperties(&prop, index));
  // cudaSetDevice creates the context (CUDA 12+), so a GPU that is busy in exclusive mode
  // or broken fails here, at open, rather than at the first allocation.
  CUDA_RETURN_IF_ERROR(cudaSetDevice(index));
  std::shared_ptr<CudaDevice> device(new CudaDevice());
  device->index_ = index;
  device->sm_ = prop.major * 10 + prop.minor;
  device->gpu_name_ = prop.name;
  device->target_ = make_target(device->sm_);
  return std::shared_ptr<const CudaDevice>(std::move(device));
}

std::string CudaDevice::name() const {
  return "cuda:" + std::to_string(index_) + " (" + gpu_name_ + ")";
}

std::string CudaDevice::target() const {
  return target_;
}

Status CudaDevice::check_plan_target(const std::string& plan_target) const {
  const ParsedTarget plan = parse_target(plan_target);
  const ParsedTarget here = parse_target(target_);
  const std::string this_gpu = "this GPU (cuda:" + std::to_string(index_) + " " + gpu_name_ + ") is " + describe(here);
  const std::string rebuild = ": rebuild it with `inferd build --backend cuda`";
  if (plan.arch.empty() || plan.cudnn.empty() || plan.cublaslt.empty()) {
    return failed_precondition("plan built for target '" + plan_target + "', not for a CUDA GPU; " + this_gpu +
                               rebuild);
  }
  if (plan.arch == here.arch && plan.cudnn == here.cudnn && plan.cublaslt == here.cublaslt) return Status::ok();
  return failed_precondition("plan built for " + describe(plan) + "; " + this_gpu + rebuild);
}

Result<Buffer> CudaDevice::allocate(size_t bytes, MemoryKind kind) const {
  if (bytes == 0) return Buffer();
  void* data = nullptr;
  switch (kind) {
    case MemoryKind::kHost: {
      const size_t rounded = (bytes + kHostAlignment - 1) / kHostAlignment * kHostAlignment;
      data = std::aligned_alloc(kHostAlignment, rounded);
      if (!data) return resource_exhausted("cannot allocate " + std::to_string(bytes) + " bytes of host memory");
      return Buffer(data, bytes, kind, [](void* p) { std::free(p); });
    }
    case MemoryKind::kPinnedHost: {
      // Portable: pinned for every GPU's context, since any device's stream may copy it.
      CUDA_RETURN_IF_ERROR(cudaSetDevice(index_));
      const Status s = cuda_status(cudaHostAlloc(&data, bytes, cudaHostAllocPortable), "cudaHostAlloc");
      if (!s.is_ok())
        return s.with_context("cannot allocate " + std::to_string(bytes) + " bytes of pinned host memory");
      return Buffer(data, bytes, kind, [](void* p) { (void)cudaFreeHost(p); });
    }
    case MemoryKind::kDevice:
      break;
  }
  CUDA_RETURN_IF_ERROR(cudaSetDevice(index_));
  const cudaError_t err = cudaMalloc(&data, bytes);
  if (err == cudaErrorMemoryAllocation) {
    (void)cudaGetLastError();  // not sticky: clear it so later checks do not see it
    std::string message = "cannot allocate " + gib(bytes) + " (" + std::to_string(bytes) + " bytes) on " + name();
    auto info = memory_info();
    if (info.is_ok()) message += ": " + gib(info->free_bytes) + " free of " + gib(info->total_bytes);
    return resource_exhausted(message);
  }
  RETURN_IF_ERROR(cuda_status(err, "cudaMalloc"));
  // With unified addressing cudaFree finds the pointer's device whichever is current.
  return Buffer(data, bytes, kind, [](void* p) { (void)cudaFree(p); });
}

Result<std::unique_ptr<Stream>> CudaDevice::create_stream() const {
  auto stream = CudaStream::create(index_);
  if (!stream.is_ok()) return stream.status().with_context("cannot create a stream on " + name());
  return std::unique_ptr<Stream>(std::move(stream).value());
}

Status CudaDevice::copy(void* dst, const void* src, size_t bytes, Stream& stream) const {
  if (bytes == 0) return Status::ok();
  CudaStream* s = as_cuda_stream(stream);
  if (!s) return not_a_cuda_stream(name());
  CUDA_RETURN_IF_ERROR(cudaSetDevice(s->device()));
  // cudaMemcpyDefault: unified addressing tells host, pinned and device pointers apart.
  CUDA_RETURN_IF_ERROR(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDefault, s->get()));
  return Status::ok();
}

Result<std::unique_ptr<StreamGraph>> CudaDevice::capture(Stream& stream, const std::function<Status()>& enqueue) const {
  CudaStream* s = as_cuda_stream(stream);
  if (!s) return not_a_cuda_stream(name());
  CUDA_RETURN_IF_ERROR(cudaSetDevice(s->device()));
  // Thread-local mode: other threads' unsafe calls (cudaMalloc, say) do not invalidate
  // this capture, while this thread's own still fail loudly.
  CUDA_RETURN_IF_ERROR(cudaStreamBeginCapture(s->get(), cudaStreamCaptureModeThreadLocal));
  const Status enqueued = enqueue();
  // The capture must end even when enqueue failed, or the stream stays in capture mode.
  cudaGraph_t graph = nullptr;
  const cudaError_t ended = cudaStreamEndCapture(s->get(), &graph);
  if (!enqueued.is_ok()) {
    if (graph) (void)cudaGraphDestroy(graph);
    if (ended != cudaSuccess) (void)cudaGetLastError();  // the capture was invalidated by the failure
    return enqueued;
  }
  RETURN_IF_ERROR(cuda_status(ended, "cudaStreamEndCapture"));
  cudaGraphExec_t exec = nullptr;
  const cudaError_t instantiated = cudaGraphInstantiate(&exec, graph, 0);
  if (instantiated != cudaSuccess) {
    (void)cudaGraphDestroy(graph);
    return cuda_status(instantiated, "cudaGraphInstantiate");
  }
  return std::unique_ptr<StreamGraph>(new CudaGraph(graph, exec));
}

Result<DeviceMemoryInfo> CudaDevice::memory_info() const {
  size_t free_bytes = 0, total_bytes = 0;
  CUDA_RETURN_IF_ERROR(cudaSetDevice(index_));  // cudaMemGetInfo reports the current device
  CUDA_RETURN_IF_ERROR(cudaMemGetInfo(&free_bytes, &total_bytes));
  return DeviceMemoryInfo{free_bytes, total_bytes};
}

Result<DeviceTelemetry> CudaDevice::telemetry() const {
  DeviceTelemetry t;
  auto memory = memory_info();
  if (memory.is_ok()) {
    t.memory_total_bytes = static_cast<double>(memory->total_bytes);
    t.memory_used_bytes = static_cast<double>(memory->total_bytes - memory->free_bytes);
  }
  auto watts = nvml_power_watts(index_);
  if (watts.is_ok()) t.power_watts = *watts;
  auto utilization = nvml_utilization(index_);
  if (utilization.is_ok()) t.utilization = *utilization;
  if (!memory.is_ok() && !watts.is_ok() && !utilization.is_ok())
    return memory.status().with_context(name() + " telemetry (NVML: " + watts.status().message() + ")");
  return t;
}

Status CudaDevice::enqueue_empty_kernel(Stream& stream) const {
  CudaStream* s = as_cuda_stream(stream);
  if (!s) return not_a_cuda_stream(name());
  CUDA_RETURN_IF_ERROR(cudaSetDevice(s->device()));
  CUDA_RETURN_IF_ERROR(launch_empty_kernel(s->get()));
  return Status::ok();
}

Result<std::unique_ptr<EnergyMeter>> CudaDevice::open_energy_meter() const {
  return open_nvml_meter(index_);
}

std::vector<DeviceDescription> list_cuda_devices() {
  std::vector<DeviceDescription> gpus;
  int count = 0;
  if (cudaGetDeviceCount(&count) != cudaSuccess) {
    (void)cudaGetLastError();  // no driver or no GPU: an empty list, not an error
    return gpus;
  }
  for (int i = 0; i < count; ++i) {
    cudaDeviceProp prop{};
    if (cudaGetDeviceProperties(&prop, i) != cudaSuccess) {
      (void)cudaGetLastError();
      continue;
    }
    gpus.push_back({i, prop.name, make_target(prop.major * 10 + prop.minor), prop.totalGlobalMem});
  }
  return gpus;
}

}  // namespace inferd::cuda
