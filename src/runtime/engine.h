// Engine and ExecutionContext, in the spirit of TensorRT's ICudaEngine and
// IExecutionContext (enqueue on a stream) and XNNPACK's create/reshape/run.
//
// Threading contract:
//  - Engine is immutable once created and may be shared by any number of threads. It owns
//    the packed weights, on its backend's device, once however many contexts there are.
//  - ExecutionContext holds the mutable state of one batch in flight (its stream, the
//    activation arena and workspace in the device's memory, host staging buffers, kernels
//    with their per-shape state, one captured stream graph per batch size). Use one context
//    per thread at a time; create as many contexts per engine as you want concurrency.
//  - Executing never allocates once a batch size has been seen by that context.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "backends/api/backend.h"
#include "core/status.h"
#include "plan/plan.h"
#include "runtime/memory_planner.h"

namespace inferd {

class ExecutionContext;

struct Binding {
  std::string name;
  Shape shape;  // dim 0 is kDynamicDim when the batch is chosen at run time
  DataType dtype = DataType::kFloat32;
};

class Engine : public std::enable_shared_from_this<Engine> {
 public:
  // Checks that the plan was built for this backend and its device (target), then packs
  // every node through `backend`; fails naming the first node the backend cannot run.
  static Result<std::shared_ptr<const Engine>> create(Plan plan, std::shared_ptr<const Backend> backend);

  const Plan& plan() const { return plan_; }
  const ir::Graph& graph() const { return plan_.graph; }
  const Backend& backend() const { return *backend_; }
  // Shared, for what must keep the device alive after the engine (the server's device gauges).
  std::shared_ptr<const Backend> shared_backend() const { return backend_; }
  const Device& device() const { return backend_->device(); }
  int max_batch() const { return static_cast<int>(plan_.header.max_batch); }
  const std::vector<Binding>& inputs() const { return inputs_; }
  const std::vector<Binding>& outputs() const { return outputs_; }
  const MemoryPlan& memory_plan() const { return memory_; }
  const PackedOp& packed_op(size_t node) const { return *ops_[node]; }
  // The batch sizes the nodes run at, ascending: on a device that pads batches (and a graph
  // whose samples are independent) the powers of two up to max_batch and max_batch itself;
  // empty when every size runs as itself.
  const std::vector<int>& run_batches() const { return run_batches_; }
  // The size a batch of `batch` samples runs at: the smallest of run_batches() that holds
  // it, else `batch`. The rows past `batch` hold whatever the arena held; they are computed
  // and never read back.
  int run_batch(int batch) const;

  Result<std::unique_ptr<ExecutionContext>> create_context() const;

 private:
  Engine() = default;
  Plan plan_;
  std::shared_ptr<const Backend> backend_;
  std::vector<std::unique_ptr<PackedOp>> ops_;
  std::vector<Binding> inputs_, outputs_;
  MemoryPlan memory_;
  std::vector<int> run_batches_;
};

// Where the caller's data for one graph input or output lives. `data` == the context's own
// device_input()/device_output() pointer means "already in place": nothing is copied.
struct IoBinding {
  const void* data = nullptr;
};

class ExecutionContext {
 public:
  ~ExecutionContext();

  // Host staging, room for max_batch samples of input/output i, dense NCHW fp32: write
  // inputs here, execute(), read outputs. On the CPU these are the arena itself (no copy);
  // on a GPU they are pinned host buffers copied to and from the device on the stream.
  float* input_data(size_t i);
  const float* output_data(size_t i) const;
  // Input/output i inside the arena, in the device's working memory (for zero-copy binding).
  void* device_input(size_t i);
  const void* device_output(size_t i) const;
  // Concrete shapes at `batch`.
  Shape input_shape(size_t i, int batch) const;
  Shape output_shape(size_t i, int batch) const;

  // Enqueues one batch on this context's stream: copies each input binding into the arena
  // (unless it is already there), runs every node, copies each output to its binding.
  // Returns when the work is enqueued; wait() returns when it has finished.
  Status enqueue(int batch, std::span<const IoBinding> inputs, std::span<const IoBinding> outputs);
  // The same, ordered against a stream of the device's own API (a cudaStream_t on a GPU):
  // the batch starts after the work `native_stream` holds now, and work enqueued on
  // `native_stream` afterwards starts after the batch. nullptr: as above. The CPU refuses
  // a non-null stream.
  Status enqueue(int batch, std::span<const IoBinding> inputs, std::span<const IoBinding> outputs,
                 void* native_stream);
  Status wait();
  // enqueue() from and to the host staging buffers, then wait().
  Status execute(int batch);

  // Copies `input` (batch samples) in, executes, returns output 0 (batch samples).
  Result<std::vector<float>> run(std::span<const float> input, int batch);

  // Readies every size in engine().run_batches() (largest first, so the workspace is
  // allocated once): each kernel's per-shape state, an eager run and the stream graph,
  // on whatever the arena holds. A server calls it at load so that no request pays for a
  // new shape; without it the first batch of each size does. On devices that run every
  // size as itself (the CPU) it readies max_batch's kernels only (no run): that sizes the
  // workspace, so a server's memory at load is what it will hold under load.
  Status prepare();

  // Stream graphs (CUDA graphs): on devices that have them, the node sequence of a batch
  // size is captured on its second execution and replayed from then on. On by default.
  void set_use_graphs(bool on) { use_graphs_ = on; }
  // Per-node time of the last execute() (inferd build --profile); disables graph replay
  // while on, since a replayed graph has no per-node boundaries.
  void set_profiling(bool on) { profiling_ = on; }
  const std::vector<double>& node_times_ms() const { return node_times_ms_; }
  // Bytes of the device's working memory this context holds (arena + workspace).
  size_t device_bytes() const { return arena_.bytes() + workspace_.bytes(); }

  const Engine& engine() const { return *engine_; }
  // The stream enqueue() runs on: work a caller enqueues here before enqueue() (an image
  // decoded straight into device_input()) is ordered before the batch.
  Stream& stream() { return *stream_; }

 private:
  friend class Engine;
  struct BatchViews {
    std::vector<std::vector<ConstTensorView>> in;
    std::vector<std::vector<TensorView>> out;
    size_t workspace_bytes = 0;
  };
  explicit ExecutionContext(std::shared_ptr<const Engine> engine);
  Status allocate();
  Status bind(int batch);
  Status ensure_workspace(size_t bytes);
  Status enqueue_nodes(int batch);
  Status enqueue_nodes_eagerly(const BatchViews& views);
  ConstTensorView view_of(ir::ValueId id, int batch) const;
  void* arena_at(ir::ValueId id) const;
  size_t io_bytes(ir::ValueId id, int batch) const;

  std::shared_ptr<const Engine> engine_;
  std::unique_ptr<Stream> stream_;
  std::vector<std::unique_ptr<Kernel>> kernels_;
  Buffer arena_, workspace_;
  std::vector<Buffer> host_inputs_, host_outputs_;   // empty when the device works in host memory
  std::vector<IoBinding> staging_in_, staging_out_;  // execute()'s bindings: the host staging
  std::map<int, BatchViews> views_;                  // per batch size seen
  std::map<int, std::unique_ptr<StreamGraph>> graphs_;
  std::map<int, int> eager_runs_;
  std::map<int, int> capture_failures_;  // per batch size: captures that failed
  int bound_batch_ = 0;
  bool use_graphs_ = true;
  bool profiling_ = false;
  std::vector<double> node_times_ms_;
};

}  // namespace inferd
