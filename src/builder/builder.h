// The build phase (as TensorRT's IBuilder): model file -> import -> optimize for a
// backend -> Plan. Sits above import/, passes/ and runtime/ (a folder DESIGN.md's
// table did not name: both the CLI and the server's model repository build plans).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/status.h"
#include "passes/pass_manager.h"
#include "plan/plan.h"
#include "runtime/kernel.h"

namespace inferd {

struct BuildOptions {
  int max_batch = 32;  // for models with a dynamic batch; fixed-batch models keep theirs
  std::string precision = "fp32";
};

struct BuildResult {
  Plan plan;
  size_t imported_nodes = 0;
  std::vector<passes::PassReport> passes;
  double import_ms = 0, optimize_ms = 0;
};

Result<BuildResult> build_plan(const std::string& model_path, const Backend& backend, const BuildOptions& options);

// The same, from a graph already in memory (tests, other importers).
Result<BuildResult> optimize_graph(ir::Graph graph, const Backend& backend, const BuildOptions& options);

// Loads a .plan, or builds one from a model file (ONNX), whichever `path` is.
Result<Plan> load_or_build(const std::string& path, const Backend& backend, const BuildOptions& options);

// The PassContext that makes the optimizer ask `backend` (and fold float
// constants with the reference kernels).
passes::PassContext pass_context_for(const Backend& backend);

}  // namespace inferd
