#include <chrono>
#include <cstring>

#include "core/log.h"
#include "runtime/engine.h"

namespace inferd {
namespace {

Shape at_batch(Shape s, int batch) {
  if (!s.empty() && s[0] == kDynamicDim) s[0] = batch;
  return s;
}

std::vector<int64_t> strides_for(const ir::Value& v, const Shape& shape) {
  return v.layout == ir::Layout::kNHWC ? nhwc_strides(shape) : dense_strides(shape);
}

// A captured graph is replayed only after a batch size has run eagerly once: the first run
// lets libraries finish their lazy set-up (module loading, plan caches), which capture forbids.
constexpr int kEagerRunsBeforeCapture = 1;
// A capture that fails while the same nodes then run eagerly without error failed for a
// reason of the capture alone (on the H200, 2026-12-04, one of eight contexts capturing at
// once in eight threads saw cuDNN fail with "operation failed due to a previous error
// during capture"): the batch runs eagerly, is captured again after as many eager runs as
// failures so far, and stays eager after kMaxCaptureFailures.
constexpr int kMaxCaptureFailures = 3;

}  // namespace

ExecutionContext::ExecutionContext(std::shared_ptr<const Engine> engine) : engine_(std::move(engine)) {}

ExecutionContext::~ExecutionContext() {
  // Buffers in use by work still on the stream must outlive it.
  if (stream_) (void)stream_->synchronize();
}

Status ExecutionContext::allocate() {
  const Device& device = engine_->device();
  ASSIGN_OR_RETURN(stream_, device.create_stream());
  const auto bytes = static_cast<size_t>(std::max<int64_t>(engine_->memory_plan().arena_bytes, kArenaAlignment));
  ASSIGN_OR_RETURN(arena_, device.allocate(bytes, device.working_memory()));
  if (is_host(arena_.kind())) {
    // Touch every page now: the arena is sized for max_batch, and left to fault in lazily a
    // server's memory would creep up each time a larger batch than before forms (tens of MB
    // over minutes; bench/soak.sh saw +30 % RSS) and that first batch would pay the faults.
    std::memset(arena_.data(), 0, bytes);
    return Status::ok();
  }
  // A device arena: pinned host staging for the graph's inputs and outputs.
  const auto& g = engine_->graph();
  const int max_batch = engine_->max_batch();
  for (auto id : g.inputs) {
    ASSIGN_OR_RETURN(auto staging, device.allocate(io_bytes(id, max_batch), MemoryKind::kPinnedHost));
    host_inputs_.push_back(std::move(staging));
  }
  for (auto id : g.outputs) {
    ASSIGN_OR_RETURN(auto staging, device.allocate(io_bytes(id, max_batch), MemoryKind::kPinnedHost));
    host_outputs_.push_back(std::move(staging));
  }
  return Status::ok();
}

size_t ExecutionContext::io_bytes(ir::ValueId id, int batch) const {
  const auto& v = engine_->graph().value(id);
  return static_cast<size_t>(element_count(at_batch(v.shape, batch))) * element_size(v.dtype);
}

void* ExecutionContext::arena_at(ir::ValueId id) const {
  return static_cast<char*>(arena_.data()) + engine_->memory_plan().offset[static_cast<size_t>(id)];
}

ConstTensorView ExecutionContext::view_of(ir::ValueId id, int batch) const {
  ConstTensorView view;
  if (id == ir::kNoValue) return view;
  const auto& g = engine_->graph();
  const auto& v = g.value(id);
  view.shape = at_batch(v.shape, batch);
  view.dtype = v.dtype;
  if (v.is_constant()) {
    // Engine constants stay in the plan's host memory, read-only; a backend that wants them
    // on its device packed them there once per engine.
    view.data = v.constant->raw();
    view.memory = MemoryKind::kHost;
    view.strides = dense_strides(view.shape);
    return view;
  }
  view.memory = arena_.kind();
  const auto root = buffer_root(g, id);
  if (root == id) {
    view.data = arena_at(id);
    view.strides = strides_for(v, view.shape);
    return view;
  }
  // A channel slice of the concat buffer it was placed in: the root's strides.
  view.strides = strides_for(g.value(root), at_batch(g.value(root).shape, batch));
  int64_t channel = 0;
  for (auto cur = id; cur != root; cur = g.value(cur).alias_of) channel += g.value(cur).alias_channel_offset;
  view.data = static_cast<const char*>(arena_at(id)) + channel * view.strides[1] * element_size(v.dtype);
  return view;
}

// Views for a batch size are made once and kept: switching between batch sizes the
// batcher forms costs each kernel a reshape (whose per-shape state kernels cache) but
// allocates nothing once every size has been seen.
Status ExecutionContext::bind(int batch) {
  auto it = views_.find(batch);
  if (it == views_.end()) {
    const auto& g = engine_->graph();
    BatchViews views;
    views.in.resize(g.nodes().size());
    views.out.resize(g.nodes().size());
    for (size_t i = 0; i < g.nodes().size(); ++i) {
      for (auto id : g.nodes()[i].inputs) views.in[i].push_back(view_of(id, batch));
      for (auto id : g.nodes()[i].outputs) {
        const ConstTensorView v = view_of(id, batch);
        views.out[i].emplace_back(const_cast<void*>(v.data), v.shape, v.strides, v.dtype, v.memory);
      }
    }
    it = views_.emplace(batch, std::move(views)).first;
  }
  BatchViews& views = it->second;
  const auto& g = engine_->graph();
  size_t workspace = 0;
  for (size_t i = 0; i < kernels_.size(); ++i) {
    if (Status s = kernels_[i]->reshape(views.in[i], views.out[i]); !s.is_ok())
      return s.with_context(describe(g, g.nodes()[i]));
    workspace = std::max(workspace, kernels_[i]->workspace_bytes());
  }
  views.workspace_bytes = workspace;
  RETURN_IF_ERROR(ensure_workspace(workspace));
  bound_batch_ = batch;
  return Status::ok();
}

// Kernels run one after another on one stream, so they share one workspace, grown to the
// largest request. Growing moves it: graphs captured with the old one are dropped.
Status ExecutionContext::ensure_workspace(size_t bytes) {
  if (bytes <= workspace_.bytes()) return Status::ok();
  RETURN_IF_ERROR(stream_->synchronize());
  graphs_.clear();
  workspace_ = Buffer();
  ASSIGN_OR_RETURN(workspace_, engine_->device().allocate(bytes, engine_->device().working_memory()));
  // Touched now for the arena's reason (see allocate()).
  if (is_host(workspace_.kind())) std::memset(workspace_.data(), 0, bytes);
  return Status::ok();
}

Status ExecutionContext::enqueue_nodes_eagerly(const BatchViews& views) {
  const auto& g = engine_->graph();
  const EnqueueContext ctx{*stream_, workspace_.data(), workspace_.bytes()};
  for (size_t i = 0; i < kernels_.size(); ++i) {
    if (profiling_) RETURN_IF_ERROR(stream_->record_marker(i));
    if (Status s = kernels_[i]->enqueue(views.in[i], views.out[i], ctx); !s.is_ok())
      return s.with_context(describe(g, g.nodes()[i]));
  }
  if (profiling_) RETURN_IF_ERROR(stream_->record_marker(kernels_.size()));
  return Status::ok();
}

Status ExecutionContext::enqueue_nodes(int batch) {
  if (batch != bound_batch_) RETURN_IF_ERROR(bind(batch));
  const BatchViews& views = views_.at(batch);
  const bool graphs = use_graphs_ && !profiling_;
  if (graphs) {
    if (auto it = graphs_.find(batch); it != graphs_.end()) return it->second->launch(*stream_);
    int& failures = capture_failures_[batch];
    if (eager_runs_[batch] >= kEagerRunsBeforeCapture * (failures + 1) && failures < kMaxCaptureFailures) {
      auto graph = engine_->device().capture(*stream_, [&] { return enqueue_nodes_eagerly(views); });
      if (graph.is_ok()) {
        auto& slot = graphs_[batch];
        slot = std::move(graph).value();
        log_debug("stream_graph_captured").kv("graph", engine_->graph().name).kv("batch", batch);
        return slot->launch(*stream_);
      }
      if (graph.status().code() == StatusCode::kUnimplemented) {
        use_graphs_ = false;  // this device has no graphs: stay eager
      } else {
        ++failures;
        log_warn("stream_graph_capture_failed")
            .kv("graph", engine_->graph().name)
            .kv("batch", batch)
            .kv("failures", failures)
            .kv("error", graph.status().message());
      }
    }
  }
  ++eager_runs_[batch];
  return enqueue_nodes_eagerly(views);
}

float* ExecutionContext::input_data(size_t i) {
  if (host_inputs_.empty()) return static_cast<float*>(device_input(i));
  return static_cast<float*>(host_inputs_.at(i).data());
}

const float* ExecutionContext::output_data(size_t i) const {
  if (host_outputs_.empty()) return static_cast<const float*>(device_output(i));
  return static_cast<const float*>(host_outputs_.at(i).data());
}

void* ExecutionContext::device_input(size_t i) {
  return arena_at(engine_->graph().inputs.at(i));
}
const void* ExecutionContext::device_output(size_t i) const {
  return arena_at(engine_->graph().outputs.at(i));
}

Shape ExecutionContext::input_shape(size_t i, int batch) const {
  return at_batch(engine_->inputs().at(i).shape, batch);
}
Shape ExecutionContext::output_shape(size_t i, int batch) const {
  return at_batch(engine_->outputs().at(i).shape, batch);
}

Status ExecutionContext::prepare() {
  const auto start = std::chrono::steady_clock::now();
  const auto& sizes = engine_->run_batches();
  if (sizes.empty()) return bind(engine_->max_batch());
  for (auto it = sizes.rbegin(); it != sizes.rend(); ++it)
    for (int run = 0; run <= kEagerRunsBeforeCapture; ++run) RETURN_IF_ERROR(enqueue_nodes(*it));
  RETURN_IF_ERROR(stream_->synchronize());
  if (!sizes.empty())
    log_info("context_prepared")
        .kv("graph", engine_->graph().name)
        .kv("batch_sizes", sizes.size())
        .kv("ms", std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count());
  return Status::ok();
}

Status ExecutionContext::enqueue(int batch, std::span<const IoBinding> inputs, std::span<const IoBinding> outputs) {
  if (batch < 1 || batch > engine_->max_batch())
    return invalid_argument("batch " + std::to_string(batch) + " is outside 1.." +
                            std::to_string(engine_->max_batch()));
  const auto& g = engine_->graph();
  if (inputs.size() != g.inputs.size() || outputs.size() != g.outputs.size())
    return invalid_argument("bound " + std::to_string(inputs.size()) + " inputs and " + std::to_string(outputs.size()) +
                            " outputs; the engine has " + std::to_string(g.inputs.size()) + " and " +
                            std::to_string(g.outputs.size()));
  const Device& device = engine_->device();
  for (size_t i = 0; i < inputs.size(); ++i)
    if (inputs[i].data != device_input(i))
      RETURN_IF_ERROR(device.copy(device_input(i), inputs[i].data, io_bytes(g.inputs[i], batch), *stream_));
  RETURN_IF_ERROR(enqueue_nodes(engine_->run_batch(batch)));
  for (size_t i = 0; i < outputs.size(); ++i)
    if (outputs[i].data != device_output(i))
      RETURN_IF_ERROR(
          device.copy(const_cast<void*>(outputs[i].data), device_output(i), io_bytes(g.outputs[i], batch), *stream_));
  return Status::ok();
}

Status ExecutionContext::enqueue(int batch, std::span<const IoBinding> inputs, std::span<const IoBinding> outputs,
                                 void* native_stream) {
  RETURN_IF_ERROR(stream_->wait_for_native(native_stream));
  RETURN_IF_ERROR(enqueue(batch, inputs, outputs));
  return stream_->signal_native(native_stream);
}

Status ExecutionContext::wait() {
  RETURN_IF_ERROR(stream_->synchronize());
  if (!profiling_) return Status::ok();
  node_times_ms_.assign(kernels_.size(), 0.0);
  for (size_t i = 0; i < kernels_.size(); ++i) {
    ASSIGN_OR_RETURN(node_times_ms_[i], stream_->elapsed_ms(i, i + 1));
  }
  return Status::ok();
}

Status ExecutionContext::execute(int batch) {
  if (staging_in_.empty() && staging_out_.empty()) {
    for (size_t i = 0; i < engine_->graph().inputs.size(); ++i) staging_in_.push_back({input_data(i)});
    for (size_t i = 0; i < engine_->graph().outputs.size(); ++i) staging_out_.push_back({output_data(i)});
  }
  RETURN_IF_ERROR(enqueue(batch, staging_in_, staging_out_));
  return wait();
}

Result<std::vector<float>> ExecutionContext::run(std::span<const float> input, int batch) {
  if (batch < 1 || batch > engine_->max_batch())
    return invalid_argument("batch " + std::to_string(batch) + " is outside 1.." +
                            std::to_string(engine_->max_batch()));
  const auto in_count = static_cast<size_t>(element_count(input_shape(0, batch)));
  if (input.size() != in_count)
    return invalid_argument("input has " + std::to_string(input.size()) + " values, expected " +
                            std::to_string(in_count) + " for batch " + std::to_string(batch));
  std::memcpy(input_data(0), input.data(), input.size_bytes());
  RETURN_IF_ERROR(execute(batch));
  const auto out_count = static_cast<size_t>(element_count(output_shape(0, batch)));
  return std::vector<float>(output_data(0), output_data(0) + out_count);
}

}  // namespace inferd
