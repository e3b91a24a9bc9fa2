// Builder, Engine, ExecutionContext and Runtime: thin handles over the engine's own
// builder (src/builder) and runtime (src/runtime); the API adds argument checks and
// nothing that could drift from what `inferd build` and `inferd serve` do.
#include <cstring>

#include "backends/api/registry.h"
#include "builder/builder.h"
#include "core/version.h"
#include "inferd/builder.h"
#include "plan/plan.h"
#include "sdk/sdk_internal.h"

namespace inferd::v1 {
namespace {

Result<std::shared_ptr<const inferd::Backend>> backend_for(const std::string& name, int device, int threads) {
  BackendOptions options;
  options.device = device;
  options.threads = threads;
  auto backend = create_backend(name, options);
  if (!backend.is_ok()) return status_of(backend);
  return std::move(backend).value();
}

Result<Engine> engine_from(inferd::Plan plan, std::shared_ptr<const inferd::Backend> backend) {
  auto engine = inferd::Engine::create(std::move(plan), std::move(backend));
  if (!engine.is_ok()) return status_of(engine);
  return Engine::Impl::wrap(std::move(engine).value());
}

// The device working memory a context of `engine` holds once every batch size is ready.
Status check_workspace(const Engine& engine, size_t limit) {
  auto context = engine.createExecutionContext();
  if (!context.isOk()) return context.status();
  if (Status s = context->prepare(); !s.isOk()) return s;
  const size_t bytes = context->deviceMemoryBytes();
  if (bytes <= limit) return Status::success();
  return {StatusCode::kResourceExhausted,
          "an execution context needs " + std::to_string(bytes) + " bytes of device working memory at batch " +
              std::to_string(engine.maxBatch()) + "; BuilderConfig::maxWorkspaceBytes allows " +
              std::to_string(limit)};
}

}  // namespace

Status to_public(const inferd::Status& s) {
  return {static_cast<StatusCode>(static_cast<int>(s.code())), s.message()};
}

std::string version() { return kEngineVersion; }

// --- Builder ----------------------------------------------------------------------------

Result<Engine> Builder::buildEngine(const NetworkDefinition& network, const BuilderConfig& config) {
  return exception_barrier("Builder::buildEngine", [&]() -> Result<Engine> {
    const auto& net = network.impl();
    if (!net.error.isOk()) return net.error;
    if (net.graph.inputs.empty() || net.graph.outputs.empty())
      return Status(StatusCode::kInvalidArgument,
                    "network '" + net.graph.name + "' needs at least one input and one marked output");
    auto backend = backend_for(config.backend, config.device, config.threads);
    if (!backend.isOk()) return backend.status();
    ir::Graph graph = net.graph;  // building leaves the network as it was
    graph.compact();              // values of layers that failed and were taken back
    if (inferd::Status s = graph.sort_topologically(); !s.is_ok()) return to_public(s);
    BuildOptions options(config.maxBatch, config.precision == Precision::kFP16 ? "fp16" : "fp32");
    auto built = optimize_graph(std::move(graph), *backend.value(), options);
    if (!built.is_ok()) return to_public(built.status().with_context("network '" + net.graph.name + "'"));
    auto engine = engine_from(std::move(built).value().plan, backend.value());
    if (!engine.isOk() || config.maxWorkspaceBytes == 0) return engine;
    if (Status s = check_workspace(engine.value(), config.maxWorkspaceBytes); !s.isOk()) return s;
    return engine;
  });
}

// --- Engine -----------------------------------------------------------------------------

Engine Engine::Impl::wrap(std::shared_ptr<const inferd::Engine> engine) {
  auto impl = std::make_shared<Impl>();
  impl->engine = std::move(engine);
  return Engine(std::move(impl));
}

Engine::Engine() = default;
Engine::Engine(std::shared_ptr<const Impl> impl) : impl_(std::move(impl)) {}
Engine::~Engine() = default;
Engine::Engine(const Engine&) = default;
Engine& Engine::operator=(const Engine&) = default;
Engine::Engine(Engine&&) noexcept = default;
Engine& Engine::operator=(Engine&&) noexcept = default;

bool Engine::isValid() const { return impl_ != nullptr; }

Result<std::vector<uint8_t>> Engine::serialize() const {
  return exception_barrier("Engine::serialize", [&]() -> Result<std::vector<uint8_t>> {
    if (!impl_) return Status(StatusCode::kFailedPrecondition, "serialize: the engine is empty");
    return serialize_plan(impl_->engine->plan());
  });
}

Status Engine::save(const std::string& path) const {
  return exception_barrier("Engine::save", [&]() -> Status {
    if (!impl_) return {StatusCode::kFailedPrecondition, "save: the engine is empty"};
    return to_public(save_plan(impl_->engine->plan(), path));
  });
}

Result<ExecutionContext> Engine::createExecutionContext() const {
  return exception_barrier("Engine::createExecutionContext", [&]() -> Result<ExecutionContext> {
    if (!impl_) return Status(StatusCode::kFailedPrecondition, "createExecutionContext: the engine is empty");
    auto context = impl_->engine->create_context();
    if (!context.is_ok()) return status_of(context);
    auto impl = std::make_unique<ExecutionContext::Impl>();
    impl->engine = *this;
    impl->context = std::move(context).value();
    impl->inputs.resize(impl_->engine->inputs().size());
    impl->outputs.resize(impl_->engine->outputs().size());
    return ExecutionContext(std::move(impl));
  });
}

int Engine::maxBatch() const { return impl_ ? impl_->engine->max_batch() : 0; }
int Engine::numInputs() const { return impl_ ? static_cast<int>(impl_->engine->inputs().size()) : 0; }
int Engine::numOutputs() const { return impl_ ? static_cast<int>(impl_->engine->outputs().size()) : 0; }

TensorInfo Engine::input(int i) const {
  if (i < 0 || i >= numInputs()) return {};
  const Binding& b = impl_->engine->inputs()[static_cast<size_t>(i)];
  return {b.name, b.shape};
}

TensorInfo Engine::output(int i) const {
  if (i < 0 || i >= numOutputs()) return {};
  const Binding& b = impl_->engine->outputs()[static_cast<size_t>(i)];
  return {b.name, b.shape};
}

namespace {
int64_t volume_at(std::vector<int64_t> dims, int batch) {
  if (dims.empty()) return 0;
  if (dims[0] == kDynamicDim) dims[0] = batch;
  return element_count(dims);
}
}  // namespace

int64_t Engine::inputVolume(int i, int batch) const { return volume_at(input(i).dims, batch); }
int64_t Engine::outputVolume(int i, int batch) const { return volume_at(output(i).dims, batch); }
std::string Engine::backend() const { return impl_ ? impl_->engine->plan().header.backend : ""; }
std::string Engine::device() const { return impl_ ? impl_->engine->device().name() : ""; }
std::string Engine::precision() const { return impl_ ? impl_->engine->plan().header.precision : ""; }
std::string Engine::describe() const { return impl_ ? describe_plan(impl_->engine->plan()) : "(empty engine)"; }

// --- Runtime ----------------------------------------------------------------------------

Result<Engine> Runtime::deserialize(const void* data, size_t size, const RuntimeOptions& options) {
  return exception_barrier("Runtime::deserialize", [&]() -> Result<Engine> {
    if (data == nullptr && size != 0) return Status(StatusCode::kInvalidArgument, "deserialize: no bytes");
    auto plan = deserialize_plan({static_cast<const uint8_t*>(data), size}, "plan in memory");
    if (!plan.is_ok()) return status_of(plan);
    const std::string name = options.backend.empty() ? plan.value().header.backend : options.backend;
    auto backend = backend_for(name, options.device, options.threads);
    if (!backend.isOk()) return backend.status();
    return engine_from(std::move(plan).value(), backend.value());
  });
}

Result<Engine> Runtime::load(const std::string& planPath, const RuntimeOptions& options) {
  return exception_barrier("Runtime::load", [&]() -> Result<Engine> {
    auto plan = load_plan(planPath);
    if (!plan.is_ok()) return status_of(plan);
    const std::string name = options.backend.empty() ? plan.value().header.backend : options.backend;
    auto backend = backend_for(name, options.device, options.threads);
    if (!backend.isOk()) return backend.status();
    return engine_from(std::move(plan).value(), backend.value());
  });
}

std::vector<std::string> Runtime::backends() { return registered_backends(); }

}  // namespace inferd::v1
