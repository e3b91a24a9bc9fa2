// inferd public API: the build phase. A NetworkDefinition (network.h, parsers.h) is
// optimized for one backend and device (fusions, layouts, precision, per-layer algorithm
// choices timed on the device) into an Engine (runtime.h).
//
// Threading: Builder holds no state; buildEngine may run on several threads at once on
// different networks. Building reads the network and leaves it unchanged.
#pragma once

#include <cstddef>
#include <string>

#include "inferd/network.h"
#include "inferd/runtime.h"
#include "inferd/status.h"

namespace inferd::v1 {

enum class Precision {
  kFP32,
  kFP16,  // activations and weights in half precision where the backend has kernels (GPU)
};

struct BuilderConfig {
  // The largest batch a run may have (inputs with a -1 batch); a fixed batch wins.
  int maxBatch = 1;
  Precision precision = Precision::kFP32;
  std::string backend = "cpu";  // "cpu", "cuda", or "auto" (the GPU when there is one)
  int device = 0;               // GPU index
  int threads = 0;              // CPU threads per kernel, 0: all cores
  // Upper bound on an execution context's device working memory (activations and
  // scratch) at maxBatch, in bytes; 0: no bound. buildEngine fails naming what the
  // engine needs when it is more.
  size_t maxWorkspaceBytes = 0;
};

class Builder {
 public:
  // Fails on a network with errors (its first), a backend that is not compiled in or has
  // no device, or a layer the backend cannot run (named).
  static Result<Engine> buildEngine(const NetworkDefinition& network, const BuilderConfig& config);
};

}  // namespace inferd::v1
