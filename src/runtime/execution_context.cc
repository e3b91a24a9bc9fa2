#include <chrono>
#include <cstring>

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

}  // namespace

ExecutionContext::ExecutionContext(std::shared_ptr<const Engine> engine)
    : engine_(std::move(engine)),
      arena_(static_cast<float*>(nullptr), [](float* p) { std::free(p); }) {
  const int64_t bytes = std::max<int64_t>(engine_->memory_plan().arena_bytes, kArenaAlignment);
  arena_.reset(static_cast<float*>(std::aligned_alloc(kArenaAlignment, static_cast<size_t>(bytes))));
  // Touch every page now: the arena is sized for max_batch, and left to fault in lazily a
  // server's memory would creep up each time a larger batch than before forms (tens of MB
  // over minutes; bench/soak.sh saw +30 % RSS) and that first batch would pay the faults.
  if (arena_) std::memset(arena_.get(), 0, static_cast<size_t>(bytes));
}

TensorView ExecutionContext::view_of(ir::ValueId id, int batch) {
  TensorView view;
  if (id == ir::kNoValue) return view;
  const auto& g = engine_->graph();
  const auto& v = g.value(id);
  view.shape = at_batch(v.shape, batch);
  if (v.is_constant()) {
    // int64 constants are passed as-is; kernels that read them reinterpret the pointer.
    view.data = const_cast<float*>(reinterpret_cast<const float*>(v.constant->raw()));
    view.strides = dense_strides(view.shape);
    return view;
  }
  const auto root = buffer_root(g, id);
  const auto& rv = g.value(root);
  auto* base = reinterpret_cast<float*>(reinterpret_cast<char*>(arena_.get()) + engine_->memory_plan().offset[id]);
  if (root == id) {
    view.data = base;
    view.strides = strides_for(v, view.shape);
    return view;
  }
  // A channel slice of the concat buffer it was placed in: the root's strides.
  view.strides = strides_for(rv, at_batch(rv.shape, batch));
  int64_t channel = 0;
  for (auto cur = id; cur != root; cur = g.value(cur).alias_of) channel += g.value(cur).alias_channel_offset;
  view.data = base + channel * view.strides[1];
  return view;
}

Status ExecutionContext::bind(int batch) {
  const auto& g = engine_->graph();
  in_views_.assign(g.nodes().size(), {});
  out_views_.assign(g.nodes().size(), {});
  for (size_t i = 0; i < g.nodes().size(); ++i) {
    const auto& node = g.nodes()[i];
    for (auto id : node.inputs) in_views_[i].push_back(view_of(id, batch));
    for (auto id : node.outputs) out_views_[i].push_back(view_of(id, batch));
    if (Status s = kernels_[i]->reshape(in_views_[i], out_views_[i]); !s.is_ok())
      return s.with_context(describe(g, node));
  }
  bound_batch_ = batch;
  return Status::ok();
}

float* ExecutionContext::input_data(size_t i) {
  return reinterpret_cast<float*>(reinterpret_cast<char*>(arena_.get()) +
                                  engine_->memory_plan().offset[engine_->graph().inputs.at(i)]);
}

const float* ExecutionContext::output_data(size_t i) const {
  return reinterpret_cast<const float*>(reinterpret_cast<const char*>(arena_.get()) +
                                        engine_->memory_plan().offset[engine_->graph().outputs.at(i)]);
}

Shape ExecutionContext::input_shape(size_t i, int batch) const { return at_batch(engine_->inputs().at(i).shape, batch); }
Shape ExecutionContext::output_shape(size_t i, int batch) const { return at_batch(engine_->outputs().at(i).shape, batch); }

Status ExecutionContext::execute(int batch) {
  if (batch < 1 || batch > engine_->max_batch())
    return invalid_argument("batch " + std::to_string(batch) + " is outside 1.." + std::to_string(engine_->max_batch()));
  if (batch != bound_batch_) RETURN_IF_ERROR(bind(batch));
  const size_t n = kernels_.size();
  if (profiling_) node_times_ms_.assign(n, 0.0);
  for (size_t i = 0; i < n; ++i) {
    if (!profiling_) {
      kernels_[i]->run(in_views_[i], out_views_[i]);
      continue;
    }
    const auto start = std::chrono::steady_clock::now();
    kernels_[i]->run(in_views_[i], out_views_[i]);
    node_times_ms_[i] = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  }
  return Status::ok();
}

Result<std::vector<float>> ExecutionContext::run(std::span<const float> input, int batch) {
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
