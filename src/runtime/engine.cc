#include "runtime/engine.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>

#include "core/log.h"

namespace inferd {
namespace {

std::vector<Binding> bindings(const ir::Graph& g, const std::vector<ir::ValueId>& ids) {
  std::vector<Binding> out;
  for (auto id : ids) out.push_back({g.value(id).name, g.value(id).shape, g.value(id).dtype});
  return out;
}

Status check_batch_axis(const ir::Graph& g, uint32_t max_batch) {
  for (auto id : g.inputs) {
    const auto& s = g.value(id).shape;
    if (s.empty()) return unimplemented("input '" + g.value(id).name + "' is a scalar");
    if (s[0] != kDynamicDim && s[0] != static_cast<int64_t>(max_batch))
      return invalid_argument("input '" + g.value(id).name + "' has batch " + std::to_string(s[0]) +
                              " but the plan's max batch is " + std::to_string(max_batch));
  }
  return Status::ok();
}

// Every execution context allocates (and touches) the whole activation arena, sized for
// max_batch. A plan that needs more than the machine's memory (a hostile or mis-sized
// model: one huge dim) is refused here, naming the size, instead of being left to the
// allocator, which with overcommit may say yes and let the first batch be OOM-killed.
// On a GPU the device's free memory is the bound.
Status check_arena_fits(const MemoryPlan& memory, uint32_t max_batch, const Device& device) {
  if (device.working_memory() == MemoryKind::kDevice) {
    auto info = device.memory_info();
    if (!info.is_ok() || static_cast<uint64_t>(memory.arena_bytes) <= info->free_bytes) return Status::ok();
    return resource_exhausted("the plan needs a " + std::to_string(memory.arena_bytes) +
                              "-byte activation arena at max batch " + std::to_string(max_batch) + ", more than the " +
                              std::to_string(info->free_bytes) + " bytes free on " + device.name() +
                              ": build it with a smaller max batch");
  }
  const long pages = sysconf(_SC_PHYS_PAGES), page_size = sysconf(_SC_PAGE_SIZE);
  if (pages <= 0 || page_size <= 0) return Status::ok();  // unknown: let the allocator decide
  const uint64_t physical = static_cast<uint64_t>(pages) * static_cast<uint64_t>(page_size);
  if (static_cast<uint64_t>(memory.arena_bytes) <= physical) return Status::ok();
  return resource_exhausted("the plan needs a " + std::to_string(memory.arena_bytes) +
                            "-byte activation arena at max batch " + std::to_string(max_batch) +
                            ", more than this machine's " + std::to_string(physical) +
                            " bytes of memory: build it with a smaller max batch or input size");
}

// The plan's header against the backend and device it is about to run on: a plan built
// for another backend, GPU architecture or library version is refused with what to do.
Status check_plan_fits_backend(const PlanHeader& h, const Backend& backend) {
  if (h.backend != backend.name())
    return failed_precondition("plan built for the " + h.backend + " backend; this engine uses " +
                               std::string(backend.name()) + ": rebuild it with `inferd build --backend " +
                               std::string(backend.name()) + "`");
  return backend.device().check_plan_target(h.target);
}

std::vector<int> run_batches_for(const ir::Graph& g, uint32_t max_batch, const Device& device) {
  std::vector<int> sizes;
  if (!device.pads_batches() || !ir::samples_independent(g)) return sizes;
  for (uint32_t b = 1; b < max_batch; b *= 2) sizes.push_back(static_cast<int>(b));
  sizes.push_back(static_cast<int>(max_batch));
  return sizes;
}

}  // namespace

int Engine::run_batch(int batch) const {
  const auto it = std::lower_bound(run_batches_.begin(), run_batches_.end(), batch);
  return it == run_batches_.end() ? batch : *it;
}

Result<std::shared_ptr<const Engine>> Engine::create(Plan plan, std::shared_ptr<const Backend> backend) {
  const auto start = std::chrono::steady_clock::now();
  std::shared_ptr<Engine> engine(new Engine());
  engine->plan_ = std::move(plan);
  engine->backend_ = std::move(backend);
  const auto& g = engine->plan_.graph;
  const Backend& be = *engine->backend_;
  RETURN_IF_ERROR(check_plan_fits_backend(engine->plan_.header, be));
  RETURN_IF_ERROR(check_batch_axis(g, engine->plan_.header.max_batch));
  engine->memory_ =
      plan_memory(g, engine->plan_.header.max_batch,
                  [&be](const ir::Graph& gr, const ir::Node& n, size_t k) { return be.may_overwrite_input(gr, n, k); });
  RETURN_IF_ERROR(check_arena_fits(engine->memory_, engine->plan_.header.max_batch, be.device()));
  const auto& choices = engine->plan_.node_choices;
  for (size_t i = 0; i < g.nodes().size(); ++i) {
    const auto& node = g.nodes()[i];
    if (!be.supports(g, node))
      return unimplemented(describe(g, node) + ": not supported by the " + std::string(be.name()) + " backend");
    PackOptions options;
    options.precision = engine->plan_.header.precision;
    if (i < choices.size()) options.choices = choices[i];
    auto packed = be.pack(g, node, options);
    if (!packed.is_ok()) return packed.status().with_context(describe(g, node));
    engine->ops_.push_back(std::move(packed).value());
  }
  engine->run_batches_ = run_batches_for(g, engine->plan_.header.max_batch, be.device());
  engine->inputs_ = bindings(g, g.inputs);
  engine->outputs_ = bindings(g, g.outputs);
  const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  auto created = log_info("engine_created");
  created.kv("graph", g.name)
      .kv("nodes", g.nodes().size())
      .kv("device", be.device().name())
      .kv("arena_bytes", engine->memory_.arena_bytes)
      .kv("ms", ms);
  // On a GPU, what the device has left once the weights are packed: each context adds its
  // arena (arena_bytes) and a workspace.
  if (auto info = be.device().memory_info(); info.is_ok())
    created.kv("device_free_bytes", info->free_bytes).kv("device_total_bytes", info->total_bytes);
  return std::shared_ptr<const Engine>(std::move(engine));
}

Result<std::unique_ptr<ExecutionContext>> Engine::create_context() const {
  std::unique_ptr<ExecutionContext> ctx(new ExecutionContext(shared_from_this()));
  RETURN_IF_ERROR(ctx->allocate());
  for (size_t i = 0; i < ops_.size(); ++i) {
    auto kernel = ops_[i]->create_kernel();
    if (!kernel.is_ok()) return kernel.status().with_context(describe(graph(), graph().nodes()[i]));
    ctx->kernels_.push_back(std::move(kernel).value());
  }
  return ctx;
}

}  // namespace inferd
