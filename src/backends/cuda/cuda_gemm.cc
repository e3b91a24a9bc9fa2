// Gemm: Y = act(alpha * A * B' + beta * C) with constant B and C.
//   M <= 4 where tuning (or, untuned, the default) says so: our GEMV (cuda_gemv.h), which
//     streams W once with bias and activation fused;
//   otherwise cuBLASLt, with the BIAS / RELU / RELU_BIAS epilogues covering a per-column C
//     and ReLU; a full matrix C goes in as cuBLASLt's C (beta folded in at pack); any other
//     activation runs afterwards as our epilogue kernel, in place.
// W is packed once as [N, K] row-major in the activation dtype (both paths read it);
// alpha stays a scalar of the call, so no rounding of W * alpha in fp16/bf16.
// Both paths take A and Y as row-major rows (any row stride >= the row, so a channel slice
// of a wider buffer runs in place). Other layouts (column-major, NHWC-permuted 2-D views)
// and, for cuBLASLt, misaligned ones go through dense buffers in the workspace: A copied
// in before, Y copied out after (or written by the epilogue when one runs anyway).
#include "backends/cuda/cuda_gemm.h"

#include <memory>
#include <string>

#include "backends/cuda/cuda_epilogue.h"
#include "backends/cuda/cuda_gemv.h"
#include "backends/cuda/cuda_kernels.h"
#include "backends/cuda/cuda_ops.h"
#include "backends/cuda/cuda_weights.h"

namespace inferd::cuda {
namespace {

struct GemmPacked {
  int device = 0;
  GemmSpec spec;
  std::vector<GemmChoice> choices;  // empty: GEMV for M <= 4, cuBLASLt's heuristic otherwise
  DeviceBuffer weights;             // [N, K]
  DeviceBuffer c;                   // beta * C: [N] bias or [M0, N] matrix; empty without C
  std::string implementation;
};

bool aligned(const void* p) {
  return reinterpret_cast<uintptr_t>(p) % kGemmAlignment == 0;
}

// Sub-buffers of the workspace start 256 bytes apart (what cudaMalloc gives the base), so
// a staged A or Y is as aligned as any tensor cuBLASLt and the GEMV's vector loads meet.
constexpr size_t kStageAlignment = 256;
size_t align_up(size_t bytes) {
  return (bytes + kStageAlignment - 1) / kStageAlignment * kStageAlignment;
}

// The row stride with which `v` [rows, cols] can be used in place as row-major rows (unit
// column stride, rows at least `cols` apart: a channel slice of a wider buffer is), or 0
// when it cannot (column-major, ...). Strides of size-1 dims do not matter: a single row
// (batch 1) is reported with stride `cols` whatever its layout.
template <typename View>
int64_t row_stride(const View& v, int64_t cols) {
  const bool unit_cols = v.shape[1] <= 1 || v.strides[1] == 1;
  const int64_t ld = v.shape[0] <= 1 ? cols : v.strides[0];
  return unit_cols && ld >= cols ? ld : 0;
}

// A or Y when the GEMV / cuBLASLt cannot use it where it is: it goes through a dense
// [M, cols] buffer at `offset` in the workspace (A copied in before, Y copied out after),
// with both views bound at reshape so that enqueue only sets pointers.
struct Staging {
  bool on = false;
  size_t offset = 0;
  ConstDeviceTensor from;
  DeviceTensor to;
};

class GemmKernel final : public Kernel {
 public:
  explicit GemmKernel(std::shared_ptr<const GemmPacked> p) : p_(std::move(p)) {}
  Status init() {
    const bool bias = p_->spec.c_kind == GemmSpec::CKind::kBias;
    return init_lt_matmul(mm_, p_->spec, bias ? p_->c.data() : nullptr);
  }
  Status reshape(std::span<const ConstTensorView> inputs, std::span<const TensorView> outputs) override;
  size_t workspace_bytes() const override { return workspace_; }
  Status enqueue(std::span<const ConstTensorView> inputs, std::span<const TensorView> outputs,
                 const EnqueueContext& ctx) override;

 private:
  Status check_views(std::span<const ConstTensorView> inputs, std::span<const TensorView> outputs) const;
  void plan_staging(const ConstTensorView& a, const TensorView& y);
  void place_staging(int64_t m);
  Status choose_lt_algo(const GemmChoice* choice);
  Status run_gemv(const void* a, void* y, int64_t m, cudaStream_t stream) const;
  Status run_lt(const void* a, void* d, const TensorView& y, const EnqueueContext& ctx) const;

  std::shared_ptr<const GemmPacked> p_;
  LtMatmul mm_;
  // Set by reshape().
  bool use_gemv_ = false;
  cublasLtMatmulAlgo_t algo_ = {};
  size_t lt_workspace_ = 0;    // cuBLASLt's share, at the start of the workspace
  size_t workspace_ = 0;       // in all: cuBLASLt's share and the staging buffers
  int64_t lda_ = 0, ldy_ = 0;  // row strides of the A the GEMM reads and the D it writes
  Staging stage_a_, stage_y_;
};

Status GemmKernel::check_views(std::span<const ConstTensorView> inputs, std::span<const TensorView> outputs) const {
  const GemmSpec& s = p_->spec;
  if (inputs.empty() || outputs.empty()) return internal_error("Gemm kernel given too few views");
  // Any strides: views the GEMM cannot use in place are staged (plan_staging).
  const auto ok = [&](const auto& v, int64_t cols) {
    return v.data != nullptr && v.memory == MemoryKind::kDevice && v.dtype == s.dtype && v.shape.size() == 2 &&
           v.strides.size() == 2 && v.shape[1] == cols;
  };
  if (!ok(inputs[0], s.k) || !ok(outputs[0], s.n) || inputs[0].shape[0] != outputs[0].shape[0])
    return internal_error(std::string("Gemm expects ") + to_string(s.dtype) + " device matrices A [M, " +
                          std::to_string(s.k) + "] and Y [M, " + std::to_string(s.n) + "]");
  if (s.c_kind == GemmSpec::CKind::kMatrix && inputs[0].shape[0] != s.c_rows)
    return invalid_argument("C has " + std::to_string(s.c_rows) + " rows, so the batch must be " +
                            std::to_string(s.c_rows) + ", not " + std::to_string(inputs[0].shape[0]));
  return Status::ok();
}

// Row-major A and Y (dense or a wider buffer's rows) are used in place, as before; others,
// and for cuBLASLt (whose algorithms are chosen for kGemmAlignment) misaligned ones, are
// staged. The GEMV takes any address (it falls back to scalar loads).
void GemmKernel::plan_staging(const ConstTensorView& a, const TensorView& y) {
  const GemmSpec& s = p_->spec;
  const int64_t m = a.shape[0];
  lda_ = row_stride(a, s.k);
  ldy_ = row_stride(y, s.n);
  stage_a_.on = lda_ == 0 || (!use_gemv_ && !aligned(a.data));
  stage_y_.on = ldy_ == 0 || (!use_gemv_ && !aligned(y.data));
  const Shape a_shape{m, s.k}, y_shape{m, s.n};
  if (stage_a_.on) {
    lda_ = s.k;
    to_device_tensor(a, &stage_a_.from);  // 2-D with 2 strides (check_views): cannot fail
    to_device_tensor(TensorView(nullptr, a_shape, dense_strides(a_shape), s.dtype, MemoryKind::kDevice), &stage_a_.to);
  }
  if (stage_y_.on) {
    ldy_ = s.n;
    to_device_tensor(ConstTensorView(nullptr, y_shape, dense_strides(y_shape), s.dtype, MemoryKind::kDevice),
                     &stage_y_.from);
    to_device_tensor(y, &stage_y_.to);
  }
}

// The workspace: cuBLASLt's share first (as before staging existed), then staged A and Y.
void GemmKernel::place_staging(int64_t m) {
  const GemmSpec& s = p_->spec;
  const size_t element = element_size(s.dtype);
  workspace_ = lt_workspace_;
  if (stage_a_.on) {
    stage_a_.offset = align_up(workspace_);
    workspace_ = stage_a_.offset + static_cast<size_t>(m * s.k) * element;
  }
  if (stage_y_.on) {
    stage_y_.offset = align_up(workspace_);
    workspace_ = stage_y_.offset + static_cast<size_t>(m * s.n) * element;
  }
}

Status GemmKernel::reshape(std::span<const ConstTensorView> inputs, std::span<const TensorView> outputs) {
  RETURN_IF_ERROR(check_views(inputs, outputs));
  const int64_t m = inputs[0].shape[0];
  const GemmChoice* choice = choice_for_batch(p_->choices, m);
  use_gemv_ = m <= kGemvMaxRows && (!choice || choice->kind == GemmChoice::Kind::kGemv);
  plan_staging(inputs[0], outputs[0]);
  lt_workspace_ = 0;
  if (!use_gemv_) {
    RETURN_IF_ERROR(set_lt_shapes(mm_, p_->spec, m, lda_, ldy_));
    RETURN_IF_ERROR(choose_lt_algo(choice && choice->kind == GemmChoice::Kind::kCublasLt ? choice : nullptr));
  }
  place_staging(m);
  return Status::ok();
}

// The tuned algorithm when cuBLASLt still accepts it for this M, else its first proposal.
Status GemmKernel::choose_lt_algo(const GemmChoice* choice) {
  ASSIGN_OR_RETURN(LtHandle handle, LtHandle::acquire(p_->device));
  if (choice) {
    cublasLtMatmulHeuristicResult_t check = {};
    if (cublasLtMatmulAlgoCheck(handle.get(), mm_.op, mm_.w, mm_.a, mm_.c, mm_.d, &choice->algo, &check) ==
            CUBLAS_STATUS_SUCCESS &&
        check.workspaceSize <= kGemmWorkspaceCap) {
      algo_ = choice->algo;
      lt_workspace_ = check.workspaceSize;
      return Status::ok();
    }
  }
  ASSIGN_OR_RETURN(auto proposals, lt_heuristics(handle.get(), mm_, 1));
  algo_ = proposals[0].algo;
  lt_workspace_ = proposals[0].workspaceSize;
  return Status::ok();
}

Status GemmKernel::run_gemv(const void* a, void* y, int64_t m, cudaStream_t stream) const {
  const GemmSpec& s = p_->spec;
  GemvArgs g;
  g.dtype = s.dtype;
  g.m = static_cast<int>(m);
  g.n = s.n;
  g.k = s.k;
  g.w = p_->weights.data();
  g.a = a;
  g.lda = lda_;
  g.bias = s.c_kind == GemmSpec::CKind::kBias ? p_->c.data() : nullptr;
  g.c = s.c_kind == GemmSpec::CKind::kMatrix ? p_->c.data() : nullptr;
  g.ldc = s.n;
  g.y = y;
  g.ldy = ldy_;
  g.alpha = s.alpha;
  g.act = s.act;
  return launch_gemv(g, stream);
}

// cuBLASLt into D (Y itself, or Y's staging buffer), then any activation it cannot fuse
// as our epilogue, which reads D and writes Y through Y's own strides: in place when D is
// Y, and otherwise it is the copy out of the staging buffer as well.
Status GemmKernel::run_lt(const void* a, void* d, const TensorView& y, const EnqueueContext& ctx) const {
  const CudaStream& stream = cuda_stream(ctx);
  if (!aligned(a) || !aligned(d))
    return internal_error("Gemm needs A and Y aligned to " + std::to_string(kGemmAlignment) +
                          " bytes (the views moved since reshape)");
  const GemmSpec& s = p_->spec;
  const float alpha = s.alpha, beta = s.c_kind == GemmSpec::CKind::kMatrix ? 1.0f : 0.0f;
  const void* c = s.c_kind == GemmSpec::CKind::kMatrix ? p_->c.data() : d;
  CUBLAS_RETURN_IF_ERROR(cublasLtMatmul(stream.cublaslt(), mm_.op, &alpha, p_->weights.data(), mm_.w, a, mm_.a, &beta,
                                        c, mm_.c, d, mm_.d, &algo_, ctx.workspace, lt_workspace_, stream.get()));
  if (lt_fuses_activation(s)) return Status::ok();
  // Sigmoid, Clip(a, b), ...: D viewed as [M, N, 1, 1].
  EpilogueArgs e;
  e.dtype = s.dtype;
  e.dims[0] = y.shape[0];
  e.dims[1] = y.shape[1];
  e.t = d;
  e.t_strides[0] = ldy_;
  e.t_strides[1] = 1;
  e.y = y.data;
  e.y_strides[0] = y.strides[0];
  e.y_strides[1] = y.strides[1];
  e.act = s.act;
  e.channels_last = false;
  return launch_epilogue(e, stream.get());
}

Status GemmKernel::enqueue(std::span<const ConstTensorView> inputs, std::span<const TensorView> outputs,
                           const EnqueueContext& ctx) {
  const cudaStream_t stream = cuda_stream(ctx).get();
  const TensorView& y = outputs[0];
  if (ctx.workspace_bytes < workspace_ || (workspace_ > 0 && ctx.workspace == nullptr))
    return internal_error("Gemm needs " + std::to_string(workspace_) + " bytes of workspace");
  char* workspace = static_cast<char*>(ctx.workspace);
  const void* a = inputs[0].data;
  if (stage_a_.on) {
    stage_a_.from.data = a;
    stage_a_.to.data = workspace + stage_a_.offset;
    CUDA_RETURN_IF_ERROR(launch_copy(stage_a_.from, stage_a_.to, stream));
    a = stage_a_.to.data;
  }
  void* d = stage_y_.on ? workspace + stage_y_.offset : y.data;
  if (use_gemv_) {
    RETURN_IF_ERROR(run_gemv(a, d, y.shape[0], stream));
  } else {
    RETURN_IF_ERROR(run_lt(a, d, y, ctx));
    if (!lt_fuses_activation(p_->spec)) return Status::ok();  // the epilogue wrote Y
  }
  if (!stage_y_.on) return Status::ok();
  stage_y_.from.data = d;
  stage_y_.to.data = y.data;
  CUDA_RETURN_IF_ERROR(launch_copy(stage_y_.from, stage_y_.to, stream));
  return Status::ok();
}

class GemmOp final : public PackedOp {
 public:
  explicit GemmOp(std::shared_ptr<const GemmPacked> p) : p_(std::move(p)) {}
  Result<std::unique_ptr<Kernel>> create_kernel() const override {
    auto kernel = std::make_unique<GemmKernel>(p_);
    RETURN_IF_ERROR(kernel->init());
    return std::unique_ptr<Kernel>(std::move(kernel));
  }
  std::string_view implementation() const override { return p_->implementation; }

 private:
  std::shared_ptr<const GemmPacked> p_;
};

// B as W [N, K] row-major: B is [N, K] already with transB, else [K, N].
std::vector<float> weight_rows(const Tensor& b, bool trans_b) {
  const std::span<const float> src = b.floats();
  if (trans_b) return {src.begin(), src.end()};
  const int64_t k = b.shape()[0], n = b.shape()[1];
  std::vector<float> rows(src.size());
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < k; ++j) rows[static_cast<size_t>(i * k + j)] = src[static_cast<size_t>(j * n + i)];
  return rows;
}

std::string implementation_name(std::span<const GemmChoice> choices) {
  bool gemv = choices.empty(), lt = choices.empty();
  for (const GemmChoice& c : choices) (c.kind == GemmChoice::Kind::kGemv ? gemv : lt) = true;
  if (gemv && lt) return "cublaslt:gemm+cuda:gemv";
  return gemv ? "cuda:gemv" : "cublaslt:gemm";
}

Result<std::unique_ptr<PackedOp>> pack_gemm_impl(const CudaOpEnv& env, const ir::Graph& graph, const ir::Node& node,
                                                 const PackOptions& options) {
  auto p = std::make_shared<GemmPacked>();
  p->device = env.device;
  ASSIGN_OR_RETURN(p->spec, gemm_spec(graph, node, options.precision));
  ASSIGN_OR_RETURN(p->choices, decode_gemm_choices(p->spec, options.choices));
  CUDA_RETURN_IF_ERROR(cudaSetDevice(env.device));
  const bool trans_b = node.attrs.get_int("transB", 0) != 0;
  ASSIGN_OR_RETURN(p->weights,
                   upload_weights(weight_rows(*graph.value(node.inputs[1]).constant, trans_b), p->spec.dtype));
  if (p->spec.c_kind != GemmSpec::CKind::kNone) {
    const std::vector<float> c = scaled_c(p->spec, *graph.value(node.inputs[2]).constant);
    ASSIGN_OR_RETURN(p->c, upload_weights(c, p->spec.dtype));
  }
  p->implementation = implementation_name(p->choices);
  return std::unique_ptr<PackedOp>(std::make_unique<GemmOp>(std::move(p)));
}

}  // namespace

bool supports_gemm(const ir::Graph& graph, const ir::Node& node) {
  return node.op == ir::OpKind::kGemm && gemm_spec(graph, node, "fp32").is_ok();
}

Result<std::unique_ptr<PackedOp>> pack_gemm(const CudaOpEnv& env, const ir::Graph& graph, const ir::Node& node,
                                            const PackOptions& options) {
  Result<std::unique_ptr<PackedOp>> op = pack_gemm_impl(env, graph, node, options);
  if (!op.is_ok()) return op.status().with_context(ir::describe(graph, node));
  return op;
}

}  // namespace inferd::cuda
