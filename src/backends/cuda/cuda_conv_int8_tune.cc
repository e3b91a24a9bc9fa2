// Build time, per batch the plan asks for, the INT8 convolution's fastest way (cuda_conv_int8.cc):
// cuDNN's first heuristic engines for the INT8 graph as the kernel builds it for a dense
// NHWC output, against the own implicit GEMM's tiles on the same packed levels, all run on
// scratch buffers. A batch where none runs gets no entry (reshape takes the heuristic then,
// or says there is no engine). Only the own kernel computes levels in or out and rounded
// outputs: such a convolution times its tiles alone.
#include <string>
#include <vector>

#include "backends/cuda/cuda_conv_int8.h"
#include "backends/cuda/cuda_ops.h"
#include "backends/cuda/cuda_weights.h"

namespace inferd::cuda {
namespace {

// The scratch of the largest tuned batch: packed levels, filter, scale, bias, output, residual.
struct Int8Scratch {
  DeviceBuffer levels, w, scale, bias, y, residual;
};

Shape at_batch(Shape shape, int batch) {
  shape[0] = batch;
  return shape;
}

Result<Int8Scratch> allocate_scratch(const Int8Spec& spec, const ir::Value& xv, const ir::Value& yv, int max_batch) {
  const ConvSpec& s = spec.conv;
  Int8Scratch b;
  const std::vector<int64_t> padded = padded_dims(at_batch(xv.shape, max_batch), s.pad_h, s.pad_w);
  const size_t y_bytes = static_cast<size_t>(element_count(at_batch(yv.shape, max_batch))) * element_size(yv.dtype);
  const size_t m = static_cast<size_t>(s.out_channels);
  ASSIGN_OR_RETURN(b.levels, allocate_pattern(static_cast<size_t>(element_count(padded))));
  ASSIGN_OR_RETURN(b.w, allocate_pattern(m * static_cast<size_t>(s.in_per_group * s.kernel_h * s.kernel_w)));
  ASSIGN_OR_RETURN(b.scale, allocate_pattern(m * sizeof(float)));
  ASSIGN_OR_RETURN(b.bias, allocate_pattern(m * sizeof(float)));
  ASSIGN_OR_RETURN(b.y, allocate_pattern(y_bytes));
  if (s.has_residual) {
    ASSIGN_OR_RETURN(b.residual, allocate_pattern(y_bytes));
  }
  return b;
}

// cuDNN's fastest engine for the graph at this batch, or ms < 0 where none runs.
Result<std::pair<ConvChoice, float>> time_graph(cudnnHandle_t handle, const Int8Spec& spec,
                                                const std::vector<int64_t>& padded, const Shape& y_dims,
                                                DataType y_dtype, const Int8Scratch& b, const DeviceBuffer& workspace) {
  ConvChoice c;
  c.kind = ConvChoiceKind::kGraph;
  ASSIGN_OR_RETURN(const cudnnDataType_t float_type, cudnn_data_type(y_dtype));
  const ConvSpec spec_for_graph = graph_spec(spec.conv);
  Result<std::shared_ptr<const ConvOpGraph>> g =
      ConvOpGraph::build(handle, spec_for_graph, direct_shape(padded, y_dims, float_type));
  if (!g.is_ok()) return std::pair{c, -1.0f};
  GraphPointers p{b.levels.data(), b.w.data(), b.bias.data(), b.residual.data(), b.y.data(), nullptr, b.scale.data()};
  const TimedEngine fastest = fastest_graph_engine(handle, g.value(), spec_for_graph, p, workspace);
  c.engine = fastest.engine;
  c.workspace = fastest.workspace;
  return std::pair{c, fastest.ms};
}

// The own kernel's fastest tile at this batch (over the packed levels, as for float inputs).
Result<std::pair<ConvChoice, float>> time_own(cudaStream_t stream, const Int8Spec& spec,
                                              const std::vector<int64_t>& padded, const Int8Scratch& b) {
  Int8ConvArgs a = own_conv_args(spec, padded, 0, 0);
  a.x = b.levels.data();
  a.w = static_cast<const int8_t*>(b.w.data());
  a.scale = static_cast<const float*>(b.scale.data());
  a.bias = static_cast<const float*>(b.bias.data());
  a.residual = spec.conv.has_residual ? b.residual.data() : nullptr;
  a.y = b.y.data();
  ConvChoice best;
  best.kind = ConvChoiceKind::kInt8Gemm;
  float best_ms = -1;
  for (uint8_t variant = 0; variant < kInt8ConvVariants; ++variant) {
    ASSIGN_OR_RETURN(const float ms, median_run_ms(stream, [&]() -> Status {
                       CUDA_RETURN_IF_ERROR(launch_int8_conv(a, variant, stream));
                       return Status::ok();
                     }));
    if (best_ms >= 0 && ms >= best_ms) continue;
    best.variant = variant;
    best_ms = ms;
  }
  return std::pair{best, best_ms};
}

Result<std::vector<uint8_t>> tune_int8_impl(const CudaOpEnv& env, const ir::Graph& graph, const ir::Node& node,
                                            const TuneOptions& options) {
  ASSIGN_OR_RETURN(const Int8Spec spec, int8_spec(graph, node));
  const ConvSpec& s = spec.conv;
  const std::vector<int> batches = tuned_batches(options.batches);
  if (batches.empty()) return std::vector<uint8_t>{};
  CUDA_RETURN_IF_ERROR(cudaSetDevice(env.device));
  const ir::Value& xv = graph.value(node.inputs[0]);
  const ir::Value& yv = graph.value(node.outputs[0]);
  ASSIGN_OR_RETURN(const Int8Scratch scratch, allocate_scratch(spec, xv, yv, batches.back()));
  const DeviceBuffer workspace = spec.own_only ? DeviceBuffer{} : allocate_largest(kConvWorkspaceCap);
  ASSIGN_OR_RETURN(QueryHandle handle, QueryHandle::acquire(env.device));
  cudaStream_t stream = nullptr;
  CUDNN_RETURN_IF_ERROR(cudnnGetStream(handle.get(), &stream));
  const bool own_applies = int8_conv_kernel_applies(xv.shape[1], s.out_channels);
  std::vector<ConvChoice> choices;
  for (int batch : batches) {
    const std::vector<int64_t> padded = padded_dims(at_batch(xv.shape, batch), s.pad_h, s.pad_w);
    std::pair<ConvChoice, float> best{ConvChoice{}, -1.0f};
    if (!spec.own_only) {
      ASSIGN_OR_RETURN(best,
                       time_graph(handle.get(), spec, padded, at_batch(yv.shape, batch), yv.dtype, scratch, workspace));
    }
    if (own_applies) {
      ASSIGN_OR_RETURN(const auto own, time_own(stream, spec, padded, scratch));
      if (best.second < 0 || own.second < best.second) best = own;
    }
    if (best.second < 0) continue;
    best.first.batch = batch;
    choices.push_back(best.first);
  }
  CUDA_RETURN_IF_ERROR(cudaDeviceSynchronize());  // the timed runs used the scratch: finish before freeing
  return encode_conv_choices(choices);
}

}  // namespace

Result<std::vector<uint8_t>> tune_conv_int8(const CudaOpEnv& env, const ir::Graph& graph, const ir::Node& node,
                                            const TuneOptions& options) {
  Result<std::vector<uint8_t>> blob = tune_int8_impl(env, graph, node, options);
  if (!blob.is_ok()) return blob.status().with_context(ir::describe(graph, node));
  return blob;
}

}  // namespace inferd::cuda
