#include "backends/cpu/dnnl_common.h"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <numeric>
#include <string_view>

#include "ir/activation.h"

namespace inferd::cpu {

const dnnl::engine& cpu_engine() {
  static const dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  return engine;
}

void apply_thread_count(int threads) {
  // libgomp keeps nthreads-var per thread: omp_set_num_threads() in the backend's
  // constructor does not reach the execution contexts' threads, so kernels re-apply it.
  // The check keeps the common case to a thread-local read.
  if (threads > 0 && omp_get_max_threads() != threads) omp_set_num_threads(threads);
}

dnnl::memory::data_type dnnl_data_type(DataType dtype) {
  switch (dtype) {
    case DataType::kUint8: return dnnl::memory::data_type::u8;
    case DataType::kInt8: return dnnl::memory::data_type::s8;
    default: return dnnl::memory::data_type::f32;
  }
}

dnnl::memory::desc desc_of(const Shape& shape, std::span<const int64_t> strides, DataType dtype) {
  const dnnl::memory::dims dims(shape.begin(), shape.end());
  const dnnl::memory::dims st(strides.begin(), strides.end());
  return dnnl::memory::desc(dims, dnnl_data_type(dtype), st);
}

dnnl::memory::desc desc_of(const ConstTensorView& v) {
  return desc_of(v.shape, v.strides, v.dtype);
}

namespace {
// Strides for `shape` with `layout`'s dim order (outermost = largest stride) but no gaps.
std::vector<int64_t> compact_strides(const Shape& shape, const ConstTensorView& layout) {
  std::vector<size_t> order(shape.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return layout.strides[a] > layout.strides[b]; });
  std::vector<int64_t> strides(shape.size());
  int64_t step = 1;
  for (size_t i = order.size(); i-- > 0;) {
    strides[order[i]] = step;
    step *= shape[order[i]];
  }
  return strides;
}
}  // namespace

dnnl::memory::desc compact_desc_of(const ConstTensorView& v) {
  return desc_of(v.shape, compact_strides(v.shape, v), v.dtype);
}

dnnl::memory::desc compact_desc_like(const Shape& shape, const ConstTensorView& layout) {
  return desc_of(shape, compact_strides(shape, layout), layout.dtype);
}

bool is_compact(const ConstTensorView& v) {
  return v.strides == compact_strides(v.shape, v);
}

TensorView representative_view(const ir::Graph& graph, ir::ValueId id, int64_t batch) {
  TensorView view;
  view.shape = graph.value(id).shape;
  view.dtype = graph.value(id).dtype;
  if (!view.shape.empty() && view.shape[0] == kDynamicDim) view.shape[0] = batch;
  // A concat member lives inside its (outermost) concat buffer: use that buffer's strides.
  ir::ValueId root = id;
  while (graph.value(root).alias_of != ir::kNoValue) root = graph.value(root).alias_of;
  Shape root_shape = graph.value(root).shape;
  if (!root_shape.empty() && root_shape[0] == kDynamicDim) root_shape[0] = batch;
  const bool nhwc = graph.value(root).layout == ir::Layout::kNHWC && root_shape.size() == 4;
  view.strides = nhwc ? nhwc_strides(root_shape) : dense_strides(root_shape);
  if (root_shape.size() != view.shape.size()) view.strides = dense_strides(view.shape);
  return view;
}

bool is_reference_impl(const dnnl::primitive_desc_base& pd) {
  return std::string_view(pd.impl_info_str()).find("ref") != std::string_view::npos;
}

dnnl::primitive_attr make_attr(const dnnl::post_ops& ops) {
  dnnl::primitive_attr attr;
  attr.set_post_ops(ops);
  attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
  return attr;
}

// ---- activations ---------------------------------------------------------

float EltwiseStep::apply(float x) const {
  using A = dnnl::algorithm;
  switch (algorithm) {
    case A::eltwise_relu:
      return x > 0.0f ? x : alpha * x;
    case A::eltwise_clip:
      return std::max(alpha, std::min(beta, x));
    case A::eltwise_linear:
      return alpha * x + beta;
    case A::eltwise_logistic:
      return 1.0f / (1.0f + std::exp(-x));
    case A::eltwise_hardswish:
      return x * std::max(0.0f, std::min(1.0f, x / 6.0f + 0.5f));
    default:
      return std::numeric_limits<float>::quiet_NaN();
  }
}

float apply(const Activation& act, float x) {
  for (const EltwiseStep& s : act) x = s.apply(x);
  return x;
}

Result<Activation> dnnl_activation(const ir::Activation& a) {
  using A = dnnl::algorithm;
  using K = ir::Activation::Kind;
  switch (a.kind) {
    case K::kIdentity:
      return Activation{};
    case K::kRelu:
      return Activation{{A::eltwise_relu, 0.0f, 0.0f}};
    case K::kLeakyRelu:
      return Activation{{A::eltwise_relu, a.alpha, 0.0f}};
    case K::kClip:
      return Activation{{A::eltwise_clip, a.min, a.max}};
    case K::kSigmoid:
      return Activation{{A::eltwise_logistic, 0.0f, 0.0f}};
    case K::kTanh:
      return Activation{{A::eltwise_tanh, 0.0f, 0.0f}};
    // oneDNN 2.6 has no hardsigmoid (added in 3.0): alpha*x+beta, then clip to [0,1].
    case K::kHardSigmoid:
      return Activation{{A::eltwise_linear, a.alpha, a.beta}, {A::eltwise_clip, 0.0f, 1.0f}};
    // 2.6's hardswish ignores alpha/beta: x * relu6(x + 3) / 6, which is ONNX's HardSwish.
    case K::kHardSwish:
      return Activation{{A::eltwise_hardswish, 0.0f, 0.0f}};
    // A standalone FakeQuantize runs on the reference kernel; a Conv rounds its output with
    // post-ops of its own (dnnl_quantize.h: OutputRounding).
    case K::kFakeQuantize:
    case K::kFakeQuantizeE4m3:
      break;
  }
  return invalid_argument("activation without a oneDNN equivalent");
}

Result<Activation> dnnl_standalone_activation(ir::OpKind kind, const ir::Attributes& attrs) {
  ASSIGN_OR_RETURN(ir::Activation a, ir::standalone_activation(kind, attrs));
  return dnnl_activation(a);
}

Result<Activation> dnnl_fused_activation(const ir::Attributes& attrs, bool op_owns_alpha_beta) {
  ASSIGN_OR_RETURN(ir::Activation a, ir::fused_activation(attrs, op_owns_alpha_beta));
  return dnnl_activation(a);
}

void append_post_ops(dnnl::post_ops& ops, const Activation& act) {
  for (const EltwiseStep& s : act) ops.append_eltwise(1.0f, s.algorithm, s.alpha, s.beta);
}

// ---- buffers ---------------------------------------------------------------

AlignedBuffer::AlignedBuffer(size_t bytes) : bytes_(bytes) {
  constexpr size_t kAlign = 64;  // a cache line: what oneDNN's kernels are tuned for
  const size_t rounded = std::max<size_t>(kAlign, (bytes + kAlign - 1) / kAlign * kAlign);
  data_.reset(static_cast<float*>(std::aligned_alloc(kAlign, rounded)));
  if (!data_) throw std::bad_alloc();
}

void AlignedBuffer::Free::operator()(float* p) const {
  std::free(p);
}

PackedTensor pack_tensor(const dnnl::memory::desc& src_desc, const void* src, const dnnl::memory::desc& want) {
  auto buffer = std::make_shared<AlignedBuffer>(want.get_size());
  dnnl::memory from(src_desc, cpu_engine(), const_cast<void*>(src));
  dnnl::memory to(want, cpu_engine(), buffer->data());
  dnnl::stream stream(cpu_engine());
  dnnl::reorder(from, to).execute(stream, from, to);
  stream.wait();
  return {want, std::move(buffer)};
}

}  // namespace inferd::cpu
