// What every oneDNN-backed kernel of the CPU backend shares: the engine, memory
// descriptors built straight from TensorViews (dims + strides, so NHWC tensors and
// channel slices need no copies), the fused-activation -> eltwise mapping, and a
// Pipeline: the primitives of one shape, bound once at reshape and run with the
// pointers of each call.
//
// Internal to src/backends/cpu/dnnl_*.cc and cpu_backend.cc.
#pragma once

#include <cstddef>
#include <dnnl.hpp>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "backends/api/backend.h"
#include "backends/cpu/cpu_backend.h"
#include "core/status.h"
#include "ir/graph.h"

namespace inferd::cpu {

using Inputs = std::span<const ConstTensorView>;
using Outputs = std::span<const TensorView>;

// The one CPU engine of the process (oneDNN engines are thread-safe and cheap to share).
const dnnl::engine& cpu_engine();

// Sets this thread's OpenMP team size to `threads` (0 = leave the default, all cores).
// OpenMP keeps the size per thread, so every thread that runs kernels must call it.
void apply_thread_count(int threads);

// oneDNN descriptors of a view: logical dims in NCHW order, physical strides as given,
// the view's element type (fp32; u8/s8 for the INT8 levels between INT8 convolutions).
dnnl::memory::data_type dnnl_data_type(DataType dtype);
dnnl::memory::desc desc_of(const Shape& shape, std::span<const int64_t> strides,
                           DataType dtype = DataType::kFloat32);
dnnl::memory::desc desc_of(const ConstTensorView& v);
// The same dim order as `v` with no gaps (a channel slice becomes its own dense tensor).
dnnl::memory::desc compact_desc_of(const ConstTensorView& v);
// A compact descriptor of `shape` with the dim order of `layout` (same rank).
dnnl::memory::desc compact_desc_like(const Shape& shape, const ConstTensorView& layout);
bool is_compact(const ConstTensorView& v);
// The strides of a graph value as the planner will lay it out (layout and concat alias
// honoured), with a dynamic batch taken as `batch`. Used to pack for the likely layout.
TensorView representative_view(const ir::Graph& graph, ir::ValueId id, int64_t batch);

// oneDNN's naive implementations are named "ref:any", "lrn_ref:any", ...; an
// optimized one is preferred even at the cost of staging views through copies.
bool is_reference_impl(const dnnl::primitive_desc_base& pd);

// One elementwise step of an activation (HardSigmoid takes two: linear, then clip).
struct EltwiseStep {
  dnnl::algorithm algorithm;
  float alpha = 0;
  float beta = 0;
  float apply(float x) const;  // for kernels outside oneDNN (GEMV)
};
using Activation = std::vector<EltwiseStep>;  // empty = identity

// The standalone activation op `kind` (Relu, Clip, ...) and the fused activation of
// Conv/Gemm as oneDNN eltwise steps; the attributes are decoded by ir/activation.h.
Result<Activation> dnnl_standalone_activation(ir::OpKind kind, const ir::Attributes& attrs);
Result<Activation> dnnl_fused_activation(const ir::Attributes& attrs, bool op_owns_alpha_beta);
float apply(const Activation& act, float x);
void append_post_ops(dnnl::post_ops& ops, const Activation& act);

// 64-byte aligned float storage, owned by a PackedOp (weights) or a Pipeline (scratch).
class AlignedBuffer {
 public:
  AlignedBuffer() = default;
  explicit AlignedBuffer(size_t bytes);
  float* data() const { return data_.get(); }
  size_t bytes() const { return bytes_; }

 private:
  struct Free {
    void operator()(float* p) const;
  };
  std::unique_ptr<float[], Free> data_;
  size_t bytes_ = 0;
};

// Weights reordered into the layout a primitive asked for; immutable once packed.
struct PackedTensor {
  dnnl::memory::desc desc;
  std::shared_ptr<const AlignedBuffer> buffer;
};
// Reorders `src` (described by `src_desc`) into a new buffer of layout `want`.
PackedTensor pack_tensor(const dnnl::memory::desc& src_desc, const void* src, const dnnl::memory::desc& want);

// The primitives that compute one node for one set of shapes. Memories bound to
// node inputs/outputs get their pointers at each run(); so do scratch buffers and
// scratchpads, placed in the execution context's workspace (kernels run one after another,
// so every node and every batch size shares one workspace: memory is the largest node's
// need, not the sum over nodes and shapes). run() allocates nothing.
class Pipeline {
 public:
  using CustomStep = std::function<void(Inputs, Outputs)>;

  dnnl::memory bind_input(size_t index, const dnnl::memory::desc& d, int64_t offset = 0);
  dnnl::memory bind_output(size_t index, const dnnl::memory::desc& d, int64_t offset = 0);
  dnnl::memory bind_fixed(const dnnl::memory::desc& d, const void* data);  // packed weights
  // A temporary of layout `d` in the workspace, valid during one run().
  dnnl::memory scratch(const dnnl::memory::desc& d);
  // Packed weights as a primitive wants them: the shared buffer itself, or (when this
  // shape's primitive asks for another format) a copy re-packed now into a buffer
  // owned by this Pipeline.
  dnnl::memory weights_as(const PackedTensor& packed, const dnnl::memory::desc& want);

  // The input as `want` asks: the view itself, or a compact copy made before the next step.
  dnnl::memory input_as(size_t index, const ConstTensorView& v, const dnnl::memory::desc& want);
  // Where a primitive should write output `index`; finish_output() copies a staged
  // result into the view once the primitive has been added.
  struct OutputTarget {
    dnnl::memory compute, view;
  };
  OutputTarget output_as(size_t index, const ConstTensorView& v, const dnnl::memory::desc& want);
  void finish_output(const OutputTarget& t);

  // `args` without the scratchpad: one is allocated when `pd` needs it.
  void add(const dnnl::primitive_desc_base& pd, const dnnl::primitive& p,
           std::vector<std::pair<int, dnnl::memory>> args);
  void add_reorder(const dnnl::memory& from, const dnnl::memory& to);
  void add_custom(std::string name, CustomStep step);
  // The last step is skipped at run() when input `input` and output `output` are
  // one buffer (a residual already written where the convolution accumulates).
  void skip_last_step_when_aliased(size_t input, size_t output);

  // Fails, naming the primitives, if oneDNN reported an error or `workspace` is smaller
  // than workspace_bytes().
  Status run(const dnnl::stream& stream, Inputs in, Outputs out, void* workspace, size_t workspace_bytes) const;
  // The workspace run() needs for this shape's scratch and scratchpads.
  size_t workspace_bytes() const { return workspace_bytes_; }
  // The implementations chosen, e.g. "reorder:simple:any + brgconv:avx512_core".
  const std::string& description() const { return description_; }

 private:
  struct Bound {
    dnnl::memory memory;
    bool is_output;
    size_t index;
    int64_t offset;
  };
  struct Step {
    dnnl::primitive primitive;  // empty for custom steps
    std::vector<dnnl_exec_arg_t> args;
    CustomStep custom;
    bool skip_when_aliased = false;
    size_t alias_input = 0, alias_output = 0;
  };
  void describe(const std::string& impl);

  struct Scratch {
    dnnl::memory memory;
    size_t offset;  // into the workspace
  };
  std::vector<Bound> bound_;
  std::vector<Scratch> scratch_;
  size_t workspace_bytes_ = 0;
  std::vector<dnnl::memory> kept_;  // memories referenced by steps' raw args
  std::vector<AlignedBuffer> owned_;  // weights re-packed for this shape's primitives
  std::vector<Step> steps_;
  std::string description_;
};

// The primitive descriptor `make(src_desc, dst_desc)` for views x and y. oneDNN
// 2.6 runs strided views (channel slices) and mixed layouts (NCHW in, NHWC out) on
// its naive "ref" implementation; then, in order, compact copies of both, x copied
// into y's layout, or dense row-major copies of both are tried (the Pipeline stages
// the copies), and the first optimized implementation wins.
template <typename MakePd>
auto choose_pd(const ConstTensorView& x, const ConstTensorView& y, MakePd make) {
  auto pd = make(desc_of(x), desc_of(y));
  if (!is_reference_impl(pd)) return pd;
  const dnnl::memory::desc candidates[][2] = {
      {compact_desc_of(x), compact_desc_of(y)},
      {compact_desc_like(x.shape, y), compact_desc_of(y)},
      {desc_of(x.shape, dense_strides(x.shape), x.dtype), desc_of(y.shape, dense_strides(y.shape), y.dtype)},
  };
  for (const auto& [src, dst] : candidates) {
    auto staged = make(src, dst);
    if (!is_reference_impl(staged)) return staged;
  }
  return pd;
}

// Adds `pd`'s primitive reading input 0 and writing output 0 (staged as pd asks).
template <typename Primitive, typename Pd>
void add_unary(Pipeline& pl, const ConstTensorView& x, const ConstTensorView& y, const Pd& pd) {
  const dnnl::memory src = pl.input_as(0, x, pd.src_desc());
  const Pipeline::OutputTarget dst = pl.output_as(0, y, pd.dst_desc());
  pl.add(pd, Primitive(pd), {{DNNL_ARG_SRC, src}, {DNNL_ARG_DST, dst.compute}});
  pl.finish_output(dst);
}

// A primitive_attr with a user scratchpad (owned by the Pipeline) and `ops`.
dnnl::primitive_attr make_attr(const dnnl::post_ops& ops = {});

// Builds a Pipeline for the shapes of one reshape(); immutable, shared by the
// kernels of every execution context. May throw dnnl::error (caught by DnnlKernel).
class PipelineBuilder {
 public:
  virtual ~PipelineBuilder() = default;
  virtual Pipeline build(Inputs in, Outputs out) const = 0;
};

// A PackedOp whose kernels run Pipelines, cached per distinct set of shapes/strides.
Result<std::unique_ptr<PackedOp>> make_pipeline_op(std::string implementation, std::string context,
                                                   std::shared_ptr<const PipelineBuilder> builder,
                                                   const CpuBackendOptions& opts);

// Runs `fn` (which may throw dnnl::error) and turns a oneDNN error into a Status
// naming `context` ("node 'conv1' (Conv)").
Status catch_dnnl(const std::string& context, const std::function<void()>& fn);

}  // namespace inferd::cpu
