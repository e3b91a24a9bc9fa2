// inferd public API: Engine (a network optimized for one backend and device, as
// TensorRT's ICudaEngine), ExecutionContext (one batch in flight, as
// IExecutionContext) and Runtime (engines back from serialized plans).
//
// Lifetimes: an Engine is a shared handle: copies refer to the same engine, which lives
// until the last copy and the last ExecutionContext made from it are gone (a context
// keeps its engine alive). An engine holds the weights on its device once, however many
// contexts run it.
//
// Threading:
//  - Engine: immutable; any number of threads may use it (and copies of it) at once,
//    e.g. to create contexts.
//  - ExecutionContext: one thread at a time. For concurrency create one context per
//    thread (or per stream); they share the engine's weights and run independently.
//  - Runtime: stateless functions, safe from any thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "inferd/status.h"

namespace inferd::v1 {

class ExecutionContext;

// An input or output of an engine: dims batch first, -1 where the batch is chosen per run.
struct TensorInfo {
  std::string name;
  std::vector<int64_t> dims;
};

class Engine {
 public:
  Engine();  // empty: isValid() is false
  ~Engine();
  Engine(const Engine&);
  Engine& operator=(const Engine&);
  Engine(Engine&&) noexcept;
  Engine& operator=(Engine&&) noexcept;

  bool isValid() const;
  // The plan: this engine's graph, the backend's build-time choices and the target it
  // was built for. Runtime::deserialize makes the engine again without re-optimizing or
  // re-timing anything, on a device of the same target.
  Result<std::vector<uint8_t>> serialize() const;
  Status save(const std::string& path) const;

  Result<ExecutionContext> createExecutionContext() const;

  int maxBatch() const;
  int numInputs() const;
  int numOutputs() const;
  TensorInfo input(int i) const;
  TensorInfo output(int i) const;
  // Number of float32 values of input/output i at `batch` (its dims with the batch set).
  int64_t inputVolume(int i, int batch) const;
  int64_t outputVolume(int i, int batch) const;
  std::string backend() const;    // "cpu", "cuda"
  std::string device() const;     // "NVIDIA H200", "cpu"
  std::string precision() const;  // "fp32", "fp16"
  // Human-readable summary of the plan: layers, shapes, backend choices (inferd info).
  std::string describe() const;

  struct Impl;  // internal to inferd

 private:
  friend class Builder;
  friend class Runtime;
  explicit Engine(std::shared_ptr<const Impl> impl);
  std::shared_ptr<const Impl> impl_;
};

class ExecutionContext {
 public:
  ~ExecutionContext();
  ExecutionContext(ExecutionContext&&) noexcept;
  ExecutionContext& operator=(ExecutionContext&&) noexcept;
  ExecutionContext(const ExecutionContext&) = delete;
  ExecutionContext& operator=(const ExecutionContext&) = delete;

  // Runs one batch and returns when it is done. inputs[i] holds inputVolume(i, batch)
  // float32 values, outputs[i] room for outputVolume(i, batch); both in host memory.
  Status execute(int batch, const std::vector<const float*>& inputs, const std::vector<float*>& outputs);

  // Enqueues one batch and returns without waiting. Bindings hold float32 values in any
  // memory the engine's device can read and write: host (pinned host is copied faster)
  // or, for a GPU engine, device memory of its GPU. `stream` is a stream of the device's
  // API (a cudaStream_t for a GPU engine) or nullptr: the batch starts after the work
  // `stream` holds and work enqueued on `stream` later starts after the batch, so the
  // caller may chain its own kernels. Bindings must stay valid until the batch is done:
  // synchronize the stream, or call wait(). A CPU engine runs the batch before enqueue
  // returns and accepts only a null stream.
  Status enqueue(int batch, const std::vector<const void*>& inputs, const std::vector<void*>& outputs,
                 void* stream = nullptr);
  // Waits for what this context enqueued; reports an asynchronous failure (a GPU fault).
  Status wait();

  // Prepares every batch size up to maxBatch now (kernels, workspace, CUDA graphs), so that
  // no later run pays for a new size.
  Status prepare();

  // Bytes of device working memory (activations, scratch) this context holds now.
  size_t deviceMemoryBytes() const;
  const Engine& engine() const;

  struct Impl;  // internal to inferd

 private:
  friend class Engine;
  explicit ExecutionContext(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Where an engine runs. backend "" takes the one the plan was built for; "auto" the GPU
// when there is one, else the CPU.
struct RuntimeOptions {
  std::string backend;
  int device = 0;   // GPU index
  int threads = 0;  // CPU threads per kernel, 0: all cores
};

class Runtime {
 public:
  // A plan made by Engine::serialize (or `inferd build`). Fails, saying what to rebuild,
  // when the plan was built by another engine version or for another device.
  static Result<Engine> deserialize(const void* data, size_t size, const RuntimeOptions& options = {});
  static Result<Engine> load(const std::string& planPath, const RuntimeOptions& options = {});
  // The backends compiled into this library ("cpu", "cuda").
  static std::vector<std::string> backends();
};

// The library's version, "MAJOR.MINOR.PATCH" (plans record it).
std::string version();

}  // namespace inferd::v1
