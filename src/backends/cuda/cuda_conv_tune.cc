// tune_conv: times cuDNN's forward algorithms for a Conv at each batch the plan asks for
// (cudnnFindConvolutionForwardAlgorithmEx on scratch buffers) and stores the winners in
// the plan (blob format: cuda_conv.h), so loading a plan never re-times anything.
#include <algorithm>
#include <string>

#include "backends/cuda/cuda_conv.h"
#include "backends/cuda/cuda_ops.h"
#include "backends/cuda/cuda_weights.h"

namespace inferd::cuda {
namespace {

// The fused call runs identity only with IMPLICIT_PRECOMP_GEMM; when it is within this
// factor of the fastest algorithm, taking it saves the separate epilogue pass (a full
// read and write of the output), which costs more than the difference.
constexpr float kPrecompSlack = 1.15f;

struct TuneBuffers {
  DeviceBuffer x, w, y, workspace;
};

// Scratch sized for the largest batch; the workspace shrinks until cudaMalloc succeeds.
Result<TuneBuffers> allocate_buffers(const ConvSpec& s, const Shape& x_shape, const Shape& y_shape, int max_batch) {
  const size_t es = element_size(s.dtype);
  TuneBuffers b;
  ASSIGN_OR_RETURN(b.x, allocate_pattern(static_cast<size_t>(element_count(x_shape, max_batch)) * es));
  ASSIGN_OR_RETURN(b.y, allocate_pattern(static_cast<size_t>(element_count(y_shape, max_batch)) * es));
  const size_t w_count = static_cast<size_t>(s.out_channels) * s.in_per_group * s.kernel_h * s.kernel_w;
  ASSIGN_OR_RETURN(b.w, allocate_pattern(w_count * es));
  for (size_t bytes = kConvWorkspaceCap; bytes >= (size_t{1} << 20); bytes /= 2) {
    Result<DeviceBuffer> ws = DeviceBuffer::allocate(bytes);
    if (ws.is_ok()) {
      b.workspace = std::move(ws).value();
      break;
    }
  }
  return b;
}

// The fastest result the precision allows, with the IMPLICIT_PRECOMP_GEMM preference above.
const cudnnConvolutionFwdAlgoPerf_t* pick(const ConvSpec& s, const cudnnConvolutionFwdAlgoPerf_t* perf, int count) {
  const cudnnConvolutionFwdAlgoPerf_t* best = nullptr;
  const cudnnConvolutionFwdAlgoPerf_t* precomp = nullptr;
  for (int i = 0; i < count; ++i) {
    const cudnnConvolutionFwdAlgoPerf_t& p = perf[i];
    if (p.status != CUDNN_STATUS_SUCCESS || p.time < 0 || !math_allowed(s, p.mathType)) continue;
    if (!best || p.time < best->time) best = &p;
    if (p.algo == CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_PRECOMP_GEMM && (!precomp || p.time < precomp->time))
      precomp = &p;
  }
  const bool wants_precomp = s.act.is_identity() && !s.output_is_slice;
  if (wants_precomp && best && precomp && precomp->time <= best->time * kPrecompSlack) return precomp;
  return best;
}

Result<ConvChoice> tune_batch(cudnnHandle_t handle, const ConvSpec& s, ConvDescriptors& d, TuneBuffers& b,
                              const ir::Value& x, const ir::Value& y, int batch) {
  Shape xs = x.shape, ys = y.shape;
  xs[0] = ys[0] = batch;
  // As the kernel will see them: packed in the graph's layout (a concat slice output is
  // computed into a packed temp of that layout).
  RETURN_IF_ERROR(set_tensor_desc(d.x, s.dtype, xs, packed_strides(xs, x.layout == ir::Layout::kNHWC)));
  RETURN_IF_ERROR(set_tensor_desc(d.y, s.dtype, ys, packed_strides(ys, y.layout == ir::Layout::kNHWC)));
  CUDNN_RETURN_IF_ERROR(cudnnSetConvolutionMathType(d.conv, default_math(s)));
  cudnnConvolutionFwdAlgoPerf_t perf[CUDNN_CONVOLUTION_FWD_ALGO_COUNT] = {};
  int returned = 0;
  CUDNN_RETURN_IF_ERROR(cudnnFindConvolutionForwardAlgorithmEx(handle, d.x, b.x.data(), d.w, b.w.data(), d.conv, d.y,
                                                               b.y.data(), CUDNN_CONVOLUTION_FWD_ALGO_COUNT, &returned,
                                                               perf, b.workspace.data(), b.workspace.bytes()));
  const cudnnConvolutionFwdAlgoPerf_t* best = pick(s, perf, returned);
  if (!best)
    return unimplemented("cuDNN has no forward algorithm for this convolution at batch " + std::to_string(batch));
  ConvChoice c;
  c.batch = batch;
  c.algo = best->algo;
  c.math = best->mathType;
  c.workspace = best->memory;
  return c;
}

Result<std::vector<uint8_t>> tune_conv_impl(const CudaOpEnv& env, const ir::Graph& graph, const ir::Node& node,
                                            const TuneOptions& options) {
  ASSIGN_OR_RETURN(const ConvSpec s, conv_spec(graph, node, options.precision));
  std::vector<int> batches = options.batches;
  std::sort(batches.begin(), batches.end());
  batches.erase(std::unique(batches.begin(), batches.end()), batches.end());
  if (batches.empty() || batches.front() <= 0 || batches.size() > 255) return std::vector<uint8_t>{};
  CUDA_RETURN_IF_ERROR(cudaSetDevice(env.device));
  const ir::Value& x = graph.value(node.inputs[0]);
  const ir::Value& y = graph.value(node.outputs[0]);
  ConvDescriptors d;
  RETURN_IF_ERROR(init_conv_descriptors(d, s));
  ASSIGN_OR_RETURN(TuneBuffers buffers, allocate_buffers(s, x.shape, y.shape, batches.back()));
  ASSIGN_OR_RETURN(QueryHandle handle, QueryHandle::acquire(env.device));
  std::vector<ConvChoice> choices;
  for (int batch : batches) {
    ASSIGN_OR_RETURN(ConvChoice c, tune_batch(handle.get(), s, d, buffers, x, y, batch));
    choices.push_back(c);
  }
  // Find ran on the handle's (default) stream: make sure it is done before freeing.
  CUDA_RETURN_IF_ERROR(cudaDeviceSynchronize());
  return encode_conv_choices(choices);
}

}  // namespace

Result<std::vector<uint8_t>> tune_conv(const CudaOpEnv& env, const ir::Graph& graph, const ir::Node& node,
                                       const TuneOptions& options) {
  Result<std::vector<uint8_t>> blob = tune_conv_impl(env, graph, node, options);
  if (!blob.is_ok()) return blob.status().with_context(ir::describe(graph, node));
  return blob;
}

}  // namespace inferd::cuda
