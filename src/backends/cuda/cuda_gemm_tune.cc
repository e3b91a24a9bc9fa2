// tune_gemm: per batch the plan asks for, times up to kCandidates algorithms cuBLASLt's
// heuristic proposes (and, at M <= 4, our GEMV) on scratch buffers, and stores the fastest
// in the plan (blob format: cuda_gemm.h). The heuristic's first pick is a model's guess;
// at the small M of inference serving its guesses differ by 2x often enough to time them.
#include <algorithm>
#include <functional>
#include <string>

#include "backends/cuda/cuda_gemm.h"
#include "backends/cuda/cuda_gemv.h"
#include "backends/cuda/cuda_ops.h"
#include "backends/cuda/cuda_weights.h"

namespace inferd::cuda {
namespace {

constexpr int kCandidates = 8;
constexpr int kWarmup = 2, kRepeats = 10;

// A stream and two events for timing, released on every exit path.
struct Timer {
  cudaStream_t stream = nullptr;
  cudaEvent_t start = nullptr, stop = nullptr;
  Timer() = default;
  Timer(const Timer&) = delete;
  Timer& operator=(const Timer&) = delete;
  ~Timer() {
    if (stream) cudaStreamSynchronize(stream);
    if (start) cudaEventDestroy(start);
    if (stop) cudaEventDestroy(stop);
    if (stream) cudaStreamDestroy(stream);
  }
  Status init() {
    CUDA_RETURN_IF_ERROR(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking));
    CUDA_RETURN_IF_ERROR(cudaEventCreate(&start));
    CUDA_RETURN_IF_ERROR(cudaEventCreate(&stop));
    return Status::ok();
  }
  // Mean milliseconds of one run() after warm-up; an error if any run fails.
  Result<float> time(const std::function<Status()>& run) const {
    for (int i = 0; i < kWarmup; ++i) RETURN_IF_ERROR(run());
    CUDA_RETURN_IF_ERROR(cudaEventRecord(start, stream));
    for (int i = 0; i < kRepeats; ++i) RETURN_IF_ERROR(run());
    CUDA_RETURN_IF_ERROR(cudaEventRecord(stop, stream));
    CUDA_RETURN_IF_ERROR(cudaEventSynchronize(stop));
    float ms = 0;
    CUDA_RETURN_IF_ERROR(cudaEventElapsedTime(&ms, start, stop));
    return ms / kRepeats;
  }
};

// Scratch sized for the largest batch; c only for a matrix C (pack folds beta into it).
struct TuneBuffers {
  DeviceBuffer w, a, y, bias, c, workspace;
};

Result<TuneBuffers> allocate_buffers(const GemmSpec& s, int max_batch) {
  const size_t es = element_size(s.dtype);
  const auto n = static_cast<size_t>(s.n), k = static_cast<size_t>(s.k), m = static_cast<size_t>(max_batch);
  TuneBuffers b;
  ASSIGN_OR_RETURN(b.w, allocate_pattern(n * k * es));
  ASSIGN_OR_RETURN(b.a, allocate_pattern(m * k * es));
  ASSIGN_OR_RETURN(b.y, allocate_pattern(m * n * es));
  ASSIGN_OR_RETURN(b.bias, allocate_pattern(n * es));
  if (s.c_kind == GemmSpec::CKind::kMatrix) {
    ASSIGN_OR_RETURN(b.c, allocate_pattern(m * n * es));
  }
  ASSIGN_OR_RETURN(b.workspace, DeviceBuffer::allocate(kGemmWorkspaceCap));
  return b;
}

struct Candidate {
  GemmChoice choice;
  float ms = 0;
};

Result<float> time_gemv(const GemmSpec& s, const TuneBuffers& b, const Timer& timer, int m) {
  GemvArgs g;
  g.dtype = s.dtype;
  g.m = m;
  g.n = s.n;
  g.k = s.k;
  g.w = b.w.data();
  g.a = b.a.data();
  g.lda = s.k;
  g.bias = s.c_kind == GemmSpec::CKind::kBias ? b.bias.data() : nullptr;
  g.c = b.c.data();
  g.ldc = s.n;
  g.y = b.y.data();
  g.ldy = s.n;
  g.alpha = s.alpha;
  g.act = s.act;
  return timer.time([&] { return launch_gemv(g, timer.stream); });
}

// The fastest of cuBLASLt's proposals (and the GEMV where it applies) at batch m.
Result<GemmChoice> tune_batch(cublasLtHandle_t handle, const GemmSpec& s, LtMatmul& mm, const TuneBuffers& b,
                              const Timer& timer, int m) {
  RETURN_IF_ERROR(set_lt_shapes(mm, s, m, s.k, s.n));
  ASSIGN_OR_RETURN(auto proposals, lt_heuristics(handle, mm, kCandidates));
  const float alpha = s.alpha, beta = b.c.data() ? 1.0f : 0.0f;
  const void* c = b.c.data() ? b.c.data() : b.y.data();
  Candidate best;
  best.ms = -1;
  for (const cublasLtMatmulHeuristicResult_t& r : proposals) {
    Result<float> ms = timer.time([&] {
      return cublas_status(cublasLtMatmul(handle, mm.op, &alpha, b.w.data(), mm.w, b.a.data(), mm.a, &beta, c, mm.c,
                                          b.y.data(), mm.d, &r.algo, b.workspace.data(), r.workspaceSize, timer.stream),
                           "cublasLtMatmul");
    });
    if (!ms.is_ok()) continue;  // a proposal that fails to launch is simply not a candidate
    if (best.ms < 0 || *ms < best.ms) best = {{m, GemmChoice::Kind::kCublasLt, r.workspaceSize, r.algo}, *ms};
  }
  if (m <= kGemvMaxRows) {
    ASSIGN_OR_RETURN(float ms, time_gemv(s, b, timer, m));
    if (best.ms < 0 || ms < best.ms) best = {{m, GemmChoice::Kind::kGemv, 0, {}}, ms};
  }
  if (best.ms < 0) return unimplemented("no cuBLASLt algorithm ran for this Gemm at batch " + std::to_string(m));
  return best.choice;
}

Result<std::vector<uint8_t>> tune_gemm_impl(const CudaOpEnv& env, const ir::Graph& graph, const ir::Node& node,
                                            const TuneOptions& options) {
  ASSIGN_OR_RETURN(const GemmSpec s, gemm_spec(graph, node, options.precision));
  // A matrix C fixes the batch: only that one can run.
  const std::vector<int> batches = tuned_batches(
      s.c_kind == GemmSpec::CKind::kMatrix ? std::vector<int>{static_cast<int>(s.c_rows)} : options.batches);
  if (batches.empty()) return std::vector<uint8_t>{};
  CUDA_RETURN_IF_ERROR(cudaSetDevice(env.device));
  ASSIGN_OR_RETURN(TuneBuffers buffers, allocate_buffers(s, batches.back()));
  Timer timer;
  RETURN_IF_ERROR(timer.init());
  LtMatmul mm;
  RETURN_IF_ERROR(init_lt_matmul(mm, s, s.c_kind == GemmSpec::CKind::kBias ? buffers.bias.data() : nullptr));
  ASSIGN_OR_RETURN(LtHandle handle, LtHandle::acquire(env.device));
  std::vector<GemmChoice> choices;
  for (int m : batches) {
    ASSIGN_OR_RETURN(GemmChoice c, tune_batch(handle.get(), s, mm, buffers, timer, m));
    choices.push_back(c);
  }
  return encode_gemm_choices(s, choices);
}

}  // namespace

Result<std::vector<uint8_t>> tune_gemm(const CudaOpEnv& env, const ir::Graph& graph, const ir::Node& node,
                                       const TuneOptions& options) {
  Result<std::vector<uint8_t>> blob = tune_gemm_impl(env, graph, node, options);
  if (!blob.is_ok()) return blob.status().with_context(ir::describe(graph, node));
  return blob;
}

}  // namespace inferd::cuda
