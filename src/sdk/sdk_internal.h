// What the public API's classes hold (their pimpl'd state) and the conversions between
// the public types (include/inferd/) and the engine's own. Only src/sdk includes this.
#pragma once

#include <exception>
#include <memory>
#include <new>
#include <string>
#include <vector>

#include "core/status.h"
#include "inferd/network.h"
#include "inferd/runtime.h"
#include "inferd/status.h"
#include "ir/graph.h"
#include "runtime/engine.h"

namespace inferd::v1 {

// The engine's Status as the API's (the codes are the same list).
Status to_public(const inferd::Status& s);

template <typename T>
Status status_of(const inferd::Result<T>& r) {
  return to_public(r.status());
}

// The exception barrier. The API promises errors as Status, never exceptions (status.h),
// but the code under it can throw: std::bad_alloc from any allocation, the standard
// library's and oneDNN's own exceptions. Each public entry point that reaches that code
// runs its body through here: an exception comes back as a Status naming `call` (out of
// memory is the caller's resource limit; anything else is inferd's bug). `body` returns
// Status or Result<T>.
template <typename Body>
auto exception_barrier(const char* call, Body&& body) -> decltype(body()) {
  try {
    return body();
  } catch (const std::bad_alloc&) {
    return Status(StatusCode::kResourceExhausted, std::string(call) + ": out of memory");
  } catch (const std::exception& e) {
    return Status(StatusCode::kInternal, std::string(call) + ": internal error: exception: " + e.what());
  } catch (...) {
    return Status(StatusCode::kInternal, std::string(call) + ": internal error: exception of unknown type");
  }
}

struct NetworkDefinition::Impl {
  ir::Graph graph;
  Status error;       // the first mistake; ok while there is none
  uint64_t tag = 0;   // which network a Tensor belongs to (unique per process)
  int layers = 0;

  // Records the first error, prefixed with the network's name; returns kNoValue.
  ir::ValueId fail(const std::string& message, StatusCode code = StatusCode::kInvalidArgument);
  ir::ValueId fail_layer(const std::string& layer, const std::string& message);
  // `requested`, or "<kind>_<n>" when empty; unique among the network's values.
  std::string layer_name(const std::string& requested, const std::string& kind) const;
  // A constant of `shape` from the caller's weights, checked to hold exactly that many.
  ir::ValueId weights(const std::string& layer, const std::string& what, Weights w, Shape shape);
  // Adds node `name` of `op` writing one new value named `name`, infers its shape; on a
  // shape error the node is taken back and the error recorded.
  ir::ValueId add_layer(const std::string& name, ir::OpKind op, std::vector<ir::ValueId> inputs,
                        ir::Attributes attrs = {});
  const Shape& shape(ir::ValueId id) const { return graph.value(id).shape; }
  // What Convolution and Deconvolution check alike: an NCHW input, outputs and input
  // channels that divide into `groups`, and `geometry_ok` (else `geometry_error`).
  bool check_grouped_window(const std::string& layer, ir::ValueId x, int64_t outputs, int64_t groups,
                            bool geometry_ok, const std::string& geometry_error);
  // {x, kernel weights of `kernel_shape`, the bias of `outputs` when given}; empty after an error.
  std::vector<ir::ValueId> weighted_inputs(const std::string& layer, ir::ValueId x, Weights kernel, Shape kernel_shape,
                                           Weights bias, int64_t outputs);
  // `x` as [N, rest]: x itself when it already has rank 2.
  ir::ValueId flattened(const std::string& layer, ir::ValueId x);
};

struct Engine::Impl {
  std::shared_ptr<const inferd::Engine> engine;
  // An Engine handle around an engine that is ready (a nested class may use Engine's
  // private constructor).
  static Engine wrap(std::shared_ptr<const inferd::Engine> engine);
};

struct ExecutionContext::Impl {
  Engine engine;  // keeps the engine alive as long as the context
  std::unique_ptr<inferd::ExecutionContext> context;
  std::vector<IoBinding> inputs, outputs;  // reused by every run: no allocation per batch
};

}  // namespace inferd::v1
