// Pipeline (the primitives of one shape), the Kernel that caches one Pipeline per
// set of shapes, and the PackedOp that creates such kernels.
#include <map>

#include "backends/cpu/dnnl_common.h"
#include "core/log.h"

namespace inferd::cpu {

dnnl::memory Pipeline::bind_input(size_t index, const dnnl::memory::desc& d, int64_t offset) {
  dnnl::memory m(d, cpu_engine(), DNNL_MEMORY_NONE);
  bound_.push_back({m, false, index, offset});
  return m;
}

dnnl::memory Pipeline::bind_output(size_t index, const dnnl::memory::desc& d, int64_t offset) {
  dnnl::memory m(d, cpu_engine(), DNNL_MEMORY_NONE);
  bound_.push_back({m, true, index, offset});
  return m;
}

dnnl::memory Pipeline::bind_fixed(const dnnl::memory::desc& d, const void* data) {
  return dnnl::memory(d, cpu_engine(), const_cast<void*>(data));
}

dnnl::memory Pipeline::scratch(const dnnl::memory::desc& d) {
  constexpr size_t kAlign = 64;  // a cache line: what oneDNN's kernels are tuned for
  dnnl::memory m(d, cpu_engine(), DNNL_MEMORY_NONE);
  scratch_.push_back({m, workspace_bytes_});
  workspace_bytes_ += (d.get_size() + kAlign - 1) / kAlign * kAlign;
  return m;
}

dnnl::memory Pipeline::weights_as(const PackedTensor& packed, const dnnl::memory::desc& want) {
  dnnl::memory shared = bind_fixed(packed.desc, packed.buffer->data());
  if (want == packed.desc) return shared;
  owned_.emplace_back(want.get_size());
  dnnl::memory repacked(want, cpu_engine(), owned_.back().data());
  dnnl::stream stream(cpu_engine());
  dnnl::reorder(shared, repacked).execute(stream, shared, repacked);
  stream.wait();
  log_debug("onednn_weights_repacked").kv("bytes", want.get_size());
  return repacked;
}

dnnl::memory Pipeline::input_as(size_t index, const ConstTensorView& v, const dnnl::memory::desc& want) {
  dnnl::memory user = bind_input(index, desc_of(v));
  if (user.get_desc() == want) return user;
  dnnl::memory staged = scratch(want);
  add_reorder(user, staged);
  return staged;
}

Pipeline::OutputTarget Pipeline::output_as(size_t index, const ConstTensorView& v, const dnnl::memory::desc& want) {
  dnnl::memory user = bind_output(index, desc_of(v));
  if (user.get_desc() == want) return {user, user};
  return {scratch(want), user};
}

void Pipeline::finish_output(const OutputTarget& t) {
  if (t.compute.get() != t.view.get()) add_reorder(t.compute, t.view);
}

void Pipeline::add(const dnnl::primitive_desc_base& pd, const dnnl::primitive& p,
                   std::vector<std::pair<int, dnnl::memory>> args) {
  const dnnl::memory::desc pad = pd.scratchpad_desc();
  if (pad.get_size() > 0) args.emplace_back(DNNL_ARG_SCRATCHPAD, scratch(pad));
  Step step;
  step.primitive = p;
  for (auto& [arg, mem] : args) {
    step.args.push_back({arg, mem.get()});
    kept_.push_back(mem);
  }
  steps_.push_back(std::move(step));
  describe(pd.impl_info_str());
}

void Pipeline::add_reorder(const dnnl::memory& from, const dnnl::memory& to) {
  const dnnl::reorder::primitive_desc pd(cpu_engine(), from.get_desc(), cpu_engine(), to.get_desc(), make_attr());
  add(pd, dnnl::reorder(pd), {{DNNL_ARG_FROM, from}, {DNNL_ARG_TO, to}});
}

void Pipeline::add_custom(std::string name, CustomStep step) {
  Step s;
  s.custom = std::move(step);
  steps_.push_back(std::move(s));
  describe(name);
}

void Pipeline::skip_last_step_when_aliased(size_t input, size_t output) {
  steps_.back().skip_when_aliased = true;
  steps_.back().alias_input = input;
  steps_.back().alias_output = output;
}

void Pipeline::describe(const std::string& impl) {
  if (!description_.empty()) description_ += " + ";
  description_ += impl;
}

Status Pipeline::run(const dnnl::stream& stream, Inputs in, Outputs out, void* workspace,
                     size_t workspace_bytes) const {
  if (workspace_bytes < workspace_bytes_)
    return failed_precondition(description_ + " needs " + std::to_string(workspace_bytes_) +
                               " bytes of workspace; it was given " + std::to_string(workspace_bytes));
  // The C API: the C++ execute() builds an unordered_map per call.
  for (const Scratch& s : scratch_) {
    if (dnnl_memory_set_data_handle_v2(s.memory.get(), static_cast<char*>(workspace) + s.offset, nullptr) !=
        dnnl_success)
      return internal_error("oneDNN could not bind the workspace to " + description_);
  }
  for (const Bound& b : bound_) {
    // oneDNN takes a non-const handle for every memory; it writes only the outputs. The
    // offset counts elements of the view's type (fp32, or u8/s8 levels).
    const void* data = b.is_output ? out[b.index].data : in[b.index].data;
    const DataType dtype = b.is_output ? out[b.index].dtype : in[b.index].dtype;
    const char* base = static_cast<const char*>(data) + b.offset * static_cast<int64_t>(element_size(dtype));
    if (dnnl_memory_set_data_handle_v2(b.memory.get(), const_cast<char*>(base), nullptr) != dnnl_success) {
      return internal_error("oneDNN could not bind a buffer to " + description_);
    }
  }
  for (const Step& s : steps_) {
    if (s.skip_when_aliased && in[s.alias_input].data == out[s.alias_output].data) continue;
    if (s.custom) {
      s.custom(in, out);
      continue;
    }
    const dnnl_status_t st =
        dnnl_primitive_execute(s.primitive.get(), stream.get(), static_cast<int>(s.args.size()), s.args.data());
    if (st != dnnl_success) {
      return internal_error("oneDNN failed to execute " + description_ + " (dnnl_status " +
                            std::to_string(static_cast<int>(st)) + ")");
    }
  }
  // CPU primitives on the OpenMP runtime finish inside execute; the wait documents
  // (and guarantees) that outputs are complete when run() returns.
  if (dnnl_stream_wait(stream.get()) != dnnl_success)
    return internal_error("oneDNN stream wait failed in " + description_);
  return Status::ok();
}

Status catch_dnnl(const std::string& context, const std::function<void()>& fn) {
  try {
    fn();
    return Status::ok();
  } catch (const dnnl::error& e) {
    return unimplemented(context + ": oneDNN rejected it: " + e.what());
  } catch (const std::exception& e) {
    return internal_error(context + ": " + e.what());
  }
}

namespace {

// Shapes and strides of every view (absent optionals marked): a Pipeline is valid
// for exactly one such key.
std::vector<int64_t> shape_key(Inputs in, Outputs out) {
  std::vector<int64_t> key;
  auto add_views = [&key](const auto& views) {
    for (const auto& v : views) {
      key.push_back(v.data == nullptr ? -1 : static_cast<int64_t>(v.shape.size()));
      key.insert(key.end(), v.shape.begin(), v.shape.end());
      key.insert(key.end(), v.strides.begin(), v.strides.end());
    }
  };
  add_views(in);
  add_views(out);
  return key;
}

class PipelineKernel final : public Kernel {
 public:
  PipelineKernel(std::shared_ptr<const PipelineBuilder> builder, std::string context, int threads, dnnl::stream stream)
      : builder_(std::move(builder)), context_(std::move(context)), threads_(threads), stream_(std::move(stream)) {}

  Status reshape(Inputs in, Outputs out) override {
    apply_thread_count(threads_);
    std::vector<int64_t> key = shape_key(in, out);
    auto it = cache_.find(key);
    if (it == cache_.end()) {
      Pipeline pipeline;
      RETURN_IF_ERROR(catch_dnnl(context_, [&] { pipeline = builder_->build(in, out); }));
      log_debug("cpu_kernel_planned")
          .kv("node", context_)
          .kv("output", to_string(out[0].shape))
          .kv("impl", pipeline.description());
      it = cache_.emplace(std::move(key), std::move(pipeline)).first;
    }
    current_ = &it->second;
    return Status::ok();
  }

  size_t workspace_bytes() const override { return current_ == nullptr ? 0 : current_->workspace_bytes(); }

  Status enqueue(Inputs in, Outputs out, const EnqueueContext& ctx) override {
    apply_thread_count(threads_);
    if (current_ == nullptr) return failed_precondition(context_ + ": enqueued before reshape");
    return current_->run(stream_, in, out, ctx.workspace, ctx.workspace_bytes);
  }

 private:
  std::shared_ptr<const PipelineBuilder> builder_;
  std::string context_;
  int threads_;
  dnnl::stream stream_;
  std::map<std::vector<int64_t>, Pipeline> cache_;
  const Pipeline* current_ = nullptr;
};

class PipelineOp final : public PackedOp {
 public:
  PipelineOp(std::string implementation, std::string context, std::shared_ptr<const PipelineBuilder> builder,
             int threads)
      : implementation_(std::move(implementation)),
        context_(std::move(context)),
        builder_(std::move(builder)),
        threads_(threads) {}

  Result<std::unique_ptr<Kernel>> create_kernel() const override {
    dnnl::stream stream;
    RETURN_IF_ERROR(catch_dnnl(context_, [&] { stream = dnnl::stream(cpu_engine()); }));
    return std::unique_ptr<Kernel>(std::make_unique<PipelineKernel>(builder_, context_, threads_, std::move(stream)));
  }
  std::string_view implementation() const override { return implementation_; }

 private:
  std::string implementation_;
  std::string context_;
  std::shared_ptr<const PipelineBuilder> builder_;
  int threads_;
};

}  // namespace

Result<std::unique_ptr<PackedOp>> make_pipeline_op(std::string implementation, std::string context,
                                                   std::shared_ptr<const PipelineBuilder> builder,
                                                   const CpuBackendOptions& opts) {
  return std::unique_ptr<PackedOp>(
      std::make_unique<PipelineOp>(std::move(implementation), std::move(context), std::move(builder), opts.threads));
}

}  // namespace inferd::cpu
