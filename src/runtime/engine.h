// Engine and ExecutionContext, in the spirit of TensorRT's ICudaEngine and
// IExecutionContext.
//
// Threading contract:
//  - Engine is immutable once created and may be shared by any number of threads.
//  - ExecutionContext holds the mutable state of one batch in flight (activation
//    arena, kernels with their per-shape caches). Use one context per thread at a
//    time; create as many contexts per engine as you want concurrency.
//  - execute() never allocates once a batch size has been seen by that context.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/status.h"
#include "plan/plan.h"
#include "runtime/kernel.h"
#include "runtime/memory_planner.h"

namespace inferd {

class ExecutionContext;

struct Binding {
  std::string name;
  Shape shape;  // dim 0 is kDynamicDim when the batch is chosen at run time
};

class Engine : public std::enable_shared_from_this<Engine> {
 public:
  // Packs every node's weights through `backend`; fails naming the first node the
  // backend cannot run.
  static Result<std::shared_ptr<const Engine>> create(Plan plan, std::shared_ptr<const Backend> backend);

  const Plan& plan() const { return plan_; }
  const ir::Graph& graph() const { return plan_.graph; }
  int max_batch() const { return static_cast<int>(plan_.header.max_batch); }
  const std::vector<Binding>& inputs() const { return inputs_; }
  const std::vector<Binding>& outputs() const { return outputs_; }
  const MemoryPlan& memory_plan() const { return memory_; }
  const PackedOp& packed_op(size_t node) const { return *ops_[node]; }

  Result<std::unique_ptr<ExecutionContext>> create_context() const;

 private:
  Engine() = default;
  Plan plan_;
  std::shared_ptr<const Backend> backend_;
  std::vector<std::unique_ptr<PackedOp>> ops_;
  std::vector<Binding> inputs_, outputs_;
  MemoryPlan memory_;
};

class ExecutionContext {
 public:
  // Room for max_batch samples, dense NCHW. Write inputs here, then execute().
  float* input_data(size_t i);
  const float* output_data(size_t i) const;
  // Concrete shapes at `batch`.
  Shape input_shape(size_t i, int batch) const;
  Shape output_shape(size_t i, int batch) const;

  Status execute(int batch);

  // Copies `input` (batch samples) in, executes, returns output 0 (batch samples).
  Result<std::vector<float>> run(std::span<const float> input, int batch);

  // Per-node wall time of the last execute(), when enabled (inferd build --profile).
  void set_profiling(bool on) { profiling_ = on; }
  const std::vector<double>& node_times_ms() const { return node_times_ms_; }

  const Engine& engine() const { return *engine_; }

 private:
  friend class Engine;
  explicit ExecutionContext(std::shared_ptr<const Engine> engine);
  Status bind(int batch);
  TensorView view_of(ir::ValueId id, int batch);

  std::shared_ptr<const Engine> engine_;
  std::vector<std::unique_ptr<Kernel>> kernels_;
  std::unique_ptr<float[], void (*)(float*)> arena_;
  std::vector<std::vector<TensorView>> in_views_, out_views_;
  int bound_batch_ = 0;
  bool profiling_ = false;
  std::vector<double> node_times_ms_;
};

}  // namespace inferd
