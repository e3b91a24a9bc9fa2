#include "backends/api/node_timing.h"

#include <algorithm>
#include <cstring>
#include <random>
#include <vector>

namespace inferd {
namespace {

// `node` in a graph of its own, its activations re-batched and in the backend's layout.
struct IsolatedNode {
  ir::Graph graph;
  ir::Node node;
};

// Activations are stored as `activation_dtype`, the dtype the plan will store them in
// (precision assignment runs after the passes that time layers).
Result<IsolatedNode> isolate(const Backend& backend, const ir::Graph& g, const ir::Node& node, int batch,
                             DataType activation_dtype) {
  IsolatedNode iso;
  const ir::Layout layout = backend.preferred_layout(g, node);
  auto copy = [&](ir::ValueId id) -> Result<ir::ValueId> {
    if (id == ir::kNoValue) return ir::kNoValue;
    ir::Value v = g.value(id);
    v.alias_of = ir::kNoValue;  // the timed node owns every buffer it touches
    v.alias_channel_offset = 0;
    if (!v.is_constant()) {
      if (v.dtype != DataType::kFloat32)
        return unimplemented(ir::describe(g, node) + ": timing takes fp32 activations only");
      v.dtype = activation_dtype;
      if (!v.shape.empty()) v.shape[0] = batch;
      v.layout = v.shape.size() == 4 ? layout : ir::Layout::kNCHW;
    }
    return iso.graph.add_value(std::move(v));
  };
  iso.node = node;
  for (auto& id : iso.node.inputs) {
    const bool activation = id != ir::kNoValue && !g.value(id).is_constant();
    ASSIGN_OR_RETURN(id, copy(id));
    if (activation) iso.graph.inputs.push_back(id);
  }
  for (auto& id : iso.node.outputs) {
    ASSIGN_OR_RETURN(id, copy(id));
    iso.graph.outputs.push_back(id);
  }
  iso.graph.add_node(iso.node);
  return iso;
}

std::vector<int64_t> strides_of(const ir::Value& v) {
  return v.layout == ir::Layout::kNHWC ? nhwc_strides(v.shape) : dense_strides(v.shape);
}

// Device buffers for the node's activations (inputs random, outputs as they come) and
// host views of its constants, as the engine binds them.
struct TimingViews {
  std::vector<Buffer> buffers;
  std::vector<ConstTensorView> inputs;
  std::vector<TensorView> outputs;
};

// Random values in [-1, 1) for the activations: one block of them, copied as often as a
// buffer needs. A timing wants values that are not all alike, not fresh ones per element:
// at a GPU's max batch an activation is up to a gigabyte (ResNet-50's first layers at 256),
// and drawing each element on the host made the INT8 clock of one build take minutes.
constexpr size_t kRandomBlockValues = size_t{1} << 20;

// `value` appended to `block` as one element of `dtype` (fp32, fp16 or bf16).
void append_value(std::vector<std::byte>& block, DataType dtype, float value) {
  uint32_t bits32 = 0;
  std::memcpy(&bits32, &value, sizeof bits32);
  const uint16_t bits16 = dtype == DataType::kFloat16 ? float_to_half(value) : static_cast<uint16_t>(bits32 >> 16);
  const auto* bytes = dtype == DataType::kFloat32 ? reinterpret_cast<const std::byte*>(&bits32)
                                                  : reinterpret_cast<const std::byte*>(&bits16);
  block.insert(block.end(), bytes, bytes + element_size(dtype));
}

Status fill_random(const Device& device, Stream& stream, void* data, size_t bytes,
                   const std::vector<std::byte>& block) {
  const size_t block_bytes = block.size();
  for (size_t done = 0; done < bytes; done += block_bytes)
    RETURN_IF_ERROR(
        device.copy(static_cast<char*>(data) + done, block.data(), std::min(block_bytes, bytes - done), stream));
  return stream.synchronize();  // before `block` may go
}

Result<TimingViews> bind_views(const Device& device, Stream& stream, const IsolatedNode& iso, uint32_t seed) {
  TimingViews views;
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> uniform(-1.0f, 1.0f);
  std::vector<std::byte> block;  // grown to what the largest input needs, up to kRandomBlockValues
  auto activation = [&](const ir::Value& v, bool fill) -> Result<void*> {
    const size_t count = static_cast<size_t>(element_count(v.shape)), size = element_size(v.dtype);
    const size_t bytes = count * size;
    ASSIGN_OR_RETURN(Buffer buffer, device.allocate(bytes, device.working_memory()));
    if (fill) {
      // One dtype per timed node (isolate's), so one block serves all its inputs.
      while (block.size() < std::min(kRandomBlockValues, count) * size) append_value(block, v.dtype, uniform(rng));
      RETURN_IF_ERROR(fill_random(device, stream, buffer.data(), bytes, block));
    }
    views.buffers.push_back(std::move(buffer));
    return views.buffers.back().data();
  };
  for (ir::ValueId id : iso.node.inputs) {
    if (id == ir::kNoValue) {
      views.inputs.emplace_back();
      continue;
    }
    const ir::Value& v = iso.graph.value(id);
    if (v.is_constant()) {
      views.inputs.emplace_back(v.constant->raw(), v.shape, dense_strides(v.shape), v.dtype, MemoryKind::kHost);
      continue;
    }
    ASSIGN_OR_RETURN(void* data, activation(v, true));
    views.inputs.emplace_back(data, v.shape, strides_of(v), v.dtype, device.working_memory());
  }
  for (ir::ValueId id : iso.node.outputs) {
    const ir::Value& v = iso.graph.value(id);
    ASSIGN_OR_RETURN(void* data, activation(v, false));
    views.outputs.emplace_back(data, v.shape, strides_of(v), v.dtype, device.working_memory());
  }
  return views;
}

}  // namespace

Result<double> time_node(const Backend& backend, const ir::Graph& graph, const ir::Node& node,
                         const NodeTimingOptions& options) {
  if (options.batch < 1 || options.runs < 1 || options.warmup < 0)
    return invalid_argument("time_node: batch and runs must be >= 1, warmup >= 0");
  ASSIGN_OR_RETURN(const DataType activation_dtype, backend.activation_dtype(options.precision));
  ASSIGN_OR_RETURN(IsolatedNode iso, isolate(backend, graph, node, options.batch, activation_dtype));
  // Tuned at the timed batch as the plan's build tunes it (the GPU's convolutions pick their
  // engine or own kernel by timing): an untuned layer would be timed on a heuristic choice
  // the plan does not run.
  TuneOptions tune_options;
  tune_options.precision = options.precision;
  tune_options.batches = {options.batch};
  ASSIGN_OR_RETURN(const std::vector<uint8_t> choices,
                   backend.tune(iso.graph, iso.graph.nodes().front(), tune_options));
  PackOptions pack_options;
  pack_options.precision = options.precision;
  pack_options.choices = choices;
  ASSIGN_OR_RETURN(auto packed, backend.pack(iso.graph, iso.graph.nodes().front(), pack_options));
  ASSIGN_OR_RETURN(auto kernel, packed->create_kernel());
  const Device& device = backend.device();
  ASSIGN_OR_RETURN(auto stream, device.create_stream());
  ASSIGN_OR_RETURN(TimingViews views, bind_views(device, *stream, iso, options.seed));
  RETURN_IF_ERROR(kernel->reshape(views.inputs, views.outputs));
  ASSIGN_OR_RETURN(Buffer workspace, device.allocate(kernel->workspace_bytes(), device.working_memory()));
  const EnqueueContext ctx{*stream, workspace.data(), workspace.bytes()};
  for (int i = 0; i < options.warmup; ++i) RETURN_IF_ERROR(kernel->enqueue(views.inputs, views.outputs, ctx));
  RETURN_IF_ERROR(stream->synchronize());
  std::vector<double> ms;
  for (int i = 0; i < options.runs; ++i) {
    RETURN_IF_ERROR(stream->record_marker(0));
    RETURN_IF_ERROR(kernel->enqueue(views.inputs, views.outputs, ctx));
    RETURN_IF_ERROR(stream->record_marker(1));
    RETURN_IF_ERROR(stream->synchronize());
    ASSIGN_OR_RETURN(double elapsed, stream->elapsed_ms(0, 1));
    ms.push_back(elapsed);
  }
  std::nth_element(ms.begin(), ms.begin() + static_cast<std::ptrdiff_t>(ms.size() / 2), ms.end());
  return ms[ms.size() / 2];
}

}  // namespace inferd
