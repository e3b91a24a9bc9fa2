// What the Gemm family derives from a node before it touches the device: validation
// (the reasons supports_gemm says no), cuBLASLt descriptors and the tuning blob.
#include <limits>
#include <map>
#include <string>

#include "backends/cuda/cuda_epilogue.h"
#include "backends/cuda/cuda_gemm.h"

namespace inferd::cuda {
namespace {

bool has_input(const ir::Node& node, size_t i) {
  return node.inputs.size() > i && node.inputs[i] != ir::kNoValue;
}

// C of `shape` as bias or matrix for Y [*, n] (unidirectional broadcast), or why not.
Status classify_c(const Shape& shape, int64_t n, GemmSpec& s) {
  const int64_t count = element_count(shape);
  if (count == 1 || (shape.size() == 1 && shape[0] == n) || (shape.size() == 2 && shape[0] == 1 && shape[1] == n)) {
    s.c_kind = GemmSpec::CKind::kBias;
    return Status::ok();
  }
  if (shape.size() == 2 && shape[0] > 0 && (shape[1] == n || shape[1] == 1)) {
    s.c_kind = GemmSpec::CKind::kMatrix;
    s.c_rows = shape[0];
    return Status::ok();
  }
  return invalid_argument("C " + to_string(shape) + " does not broadcast to [M, " + std::to_string(n) + "]");
}

}  // namespace

Result<GemmSpec> gemm_spec(const ir::Graph& graph, const ir::Node& node, std::string_view precision) {
  if (node.outputs.empty() || !has_input(node, 0) || !has_input(node, 1))
    return invalid_argument("Gemm needs inputs A and B and an output");
  const ir::Value& a = graph.value(node.inputs[0]);
  const ir::Value& b = graph.value(node.inputs[1]);
  const ir::Value& y = graph.value(node.outputs[0]);
  if (a.shape.size() != 2 || y.shape.size() != 2) return unimplemented("only 2-D Gemm runs on CUDA");
  const bool float_type =
      y.dtype == DataType::kFloat32 || y.dtype == DataType::kFloat16 || y.dtype == DataType::kBFloat16;
  if (!float_type || a.dtype != y.dtype)
    return unimplemented(std::string("activations of type ") + to_string(a.dtype) + " -> " + to_string(y.dtype));
  // A is the activation with the batch in dim 0: A^T would put the batch in K.
  if (node.attrs.get_int("transA", 0) != 0) return unimplemented("transA (the batch must be A's rows)");
  if (node.attrs.has("input_scale")) return unimplemented("no INT8 GEMMs on CUDA yet (an input_scale attribute)");
  if (!b.is_constant() || b.dtype != DataType::kFloat32 || b.shape.size() != 2)
    return unimplemented("B must be a constant fp32 matrix");
  GemmSpec s;
  const bool trans_b = node.attrs.get_int("transB", 0) != 0;
  s.k = trans_b ? b.shape[1] : b.shape[0];
  s.n = trans_b ? b.shape[0] : b.shape[1];
  if (a.shape[1] != s.k || y.shape[1] != s.n)
    return invalid_argument("A " + to_string(a.shape) + " and B " + to_string(b.shape) +
                            (trans_b ? " (transposed)" : "") + " do not make Y " + to_string(y.shape));
  if (s.n <= 0 || s.k <= 0 || s.n > std::numeric_limits<int32_t>::max() || s.k > std::numeric_limits<int32_t>::max())
    return unimplemented("Gemm dimensions beyond 32 bits");
  if (has_input(node, 2)) {
    const ir::Value& c = graph.value(node.inputs[2]);
    if (!c.is_constant() || c.dtype != DataType::kFloat32) return unimplemented("C must be a constant fp32 tensor");
    RETURN_IF_ERROR(classify_c(c.shape, s.n, s));
  }
  ASSIGN_OR_RETURN(ir::Activation act, ir::fused_activation(node.attrs, /*op_owns_alpha_beta=*/true));
  s.act = simplify_activation(act);
  s.dtype = y.dtype;
  s.strict_fp32 = y.dtype == DataType::kFloat32 && precision == "fp32";
  s.alpha = node.attrs.get_float("alpha", 1.0f);
  s.beta = node.attrs.get_float("beta", 1.0f);
  return s;
}

std::vector<float> scaled_c(const GemmSpec& s, const Tensor& c) {
  const std::span<const float> v = c.floats();
  const int64_t rows = s.c_kind == GemmSpec::CKind::kMatrix ? s.c_rows : 1;
  const bool per_column = v.size() != 1 && c.shape().back() == s.n;  // else one value per row (or a scalar)
  std::vector<float> out(static_cast<size_t>(rows * s.n));
  for (int64_t i = 0; i < rows; ++i)
    for (int64_t j = 0; j < s.n; ++j) {
      const size_t src = v.size() == 1 ? 0 : static_cast<size_t>(per_column ? i * s.n + j : i);
      out[static_cast<size_t>(i * s.n + j)] = s.beta * v[src];
    }
  return out;
}

bool lt_fuses_activation(const GemmSpec& s) {
  return s.act.kind == ir::Activation::Kind::kIdentity || s.act.kind == ir::Activation::Kind::kRelu;
}

LtMatmul::~LtMatmul() {
  if (op) cublasLtMatmulDescDestroy(op);
  for (cublasLtMatrixLayout_t l : {w, a, c, d})
    if (l) cublasLtMatrixLayoutDestroy(l);
}

Status init_lt_matmul(LtMatmul& mm, const GemmSpec& s, const void* bias) {
  const cublasComputeType_t compute =
      s.dtype == DataType::kFloat32 && !s.strict_fp32 ? CUBLAS_COMPUTE_32F_FAST_TF32 : CUBLAS_COMPUTE_32F;
  CUBLAS_RETURN_IF_ERROR(cublasLtMatmulDescCreate(&mm.op, compute, CUDA_R_32F));
  const cublasOperation_t trans = CUBLAS_OP_T, no_trans = CUBLAS_OP_N;
  CUBLAS_RETURN_IF_ERROR(cublasLtMatmulDescSetAttribute(mm.op, CUBLASLT_MATMUL_DESC_TRANSA, &trans, sizeof trans));
  CUBLAS_RETURN_IF_ERROR(
      cublasLtMatmulDescSetAttribute(mm.op, CUBLASLT_MATMUL_DESC_TRANSB, &no_trans, sizeof no_trans));
  const bool relu = s.act.kind == ir::Activation::Kind::kRelu;
  cublasLtEpilogue_t epilogue = relu ? CUBLASLT_EPILOGUE_RELU : CUBLASLT_EPILOGUE_DEFAULT;
  if (s.c_kind == GemmSpec::CKind::kBias) {
    epilogue = relu ? CUBLASLT_EPILOGUE_RELU_BIAS : CUBLASLT_EPILOGUE_BIAS;
    // The bias is stored in the output type, cuBLASLt's default bias type for fp16/bf16/fp32.
    CUBLAS_RETURN_IF_ERROR(
        cublasLtMatmulDescSetAttribute(mm.op, CUBLASLT_MATMUL_DESC_BIAS_POINTER, &bias, sizeof bias));
  }
  CUBLAS_RETURN_IF_ERROR(
      cublasLtMatmulDescSetAttribute(mm.op, CUBLASLT_MATMUL_DESC_EPILOGUE, &epilogue, sizeof epilogue));
  return Status::ok();
}

Status set_lt_shapes(LtMatmul& mm, const GemmSpec& s, int64_t m, int64_t lda, int64_t ldy) {
  ASSIGN_OR_RETURN(const cudaDataType_t type, cuda_data_type(s.dtype));
  for (cublasLtMatrixLayout_t l : {mm.w, mm.a, mm.c, mm.d})
    if (l) cublasLtMatrixLayoutDestroy(l);
  mm.w = mm.a = mm.c = mm.d = nullptr;
  const auto u = [](int64_t v) { return static_cast<uint64_t>(v); };
  CUBLAS_RETURN_IF_ERROR(cublasLtMatrixLayoutCreate(&mm.w, type, u(s.k), u(s.n), s.k));
  CUBLAS_RETURN_IF_ERROR(cublasLtMatrixLayoutCreate(&mm.a, type, u(s.k), u(m), lda));
  CUBLAS_RETURN_IF_ERROR(cublasLtMatrixLayoutCreate(&mm.d, type, u(s.n), u(m), ldy));
  const int64_t ldc = s.c_kind == GemmSpec::CKind::kMatrix ? s.n : ldy;
  CUBLAS_RETURN_IF_ERROR(cublasLtMatrixLayoutCreate(&mm.c, type, u(s.n), u(m), ldc));
  return Status::ok();
}

Result<std::vector<cublasLtMatmulHeuristicResult_t>> lt_heuristics(cublasLtHandle_t handle, const LtMatmul& mm,
                                                                   int count) {
  cublasLtMatmulPreference_t pref = nullptr;
  CUBLAS_RETURN_IF_ERROR(cublasLtMatmulPreferenceCreate(&pref));
  std::vector<cublasLtMatmulHeuristicResult_t> results(static_cast<size_t>(count));
  int returned = 0;
  const size_t cap = kGemmWorkspaceCap;
  const uint32_t align = kGemmAlignment;
  cublasStatus_t st =
      cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &cap, sizeof cap);
  for (auto attr : {CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_A_BYTES, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_B_BYTES,
                    CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_C_BYTES, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_D_BYTES})
    if (st == CUBLAS_STATUS_SUCCESS) st = cublasLtMatmulPreferenceSetAttribute(pref, attr, &align, sizeof align);
  if (st == CUBLAS_STATUS_SUCCESS)
    st = cublasLtMatmulAlgoGetHeuristic(handle, mm.op, mm.w, mm.a, mm.c, mm.d, pref, count, results.data(), &returned);
  cublasLtMatmulPreferenceDestroy(pref);
  CUBLAS_RETURN_IF_ERROR(st);
  results.resize(static_cast<size_t>(returned));
  std::erase_if(results, [](const auto& r) { return r.state != CUBLAS_STATUS_SUCCESS; });
  if (results.empty()) return unimplemented("cuBLASLt proposes no algorithm for this Gemm");
  return results;
}

Result<LtHandle> LtHandle::acquire(int device) {
  static std::mutex mutex;
  static std::map<int, cublasLtHandle_t> handles;  // deliberately never destroyed
  std::unique_lock<std::mutex> lock(mutex);
  cublasLtHandle_t& handle = handles[device];
  if (!handle) {
    int previous = 0;
    CUDA_RETURN_IF_ERROR(cudaGetDevice(&previous));
    CUDA_RETURN_IF_ERROR(cudaSetDevice(device));
    const cublasStatus_t created = cublasLtCreate(&handle);
    CUDA_RETURN_IF_ERROR(cudaSetDevice(previous));
    if (created != CUBLAS_STATUS_SUCCESS) {
      handle = nullptr;
      return cublas_status(created, "cublasLtCreate");
    }
  }
  return LtHandle(std::move(lock), handle);
}

// ---- blob -------------------------------------------------------------------------------

namespace {
constexpr uint8_t kGemmBlobVersion = 1;
constexpr size_t kGemmHeaderBytes = 12, kGemmEntryBytes = 80;

void put_le(std::vector<uint8_t>& out, uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) out.push_back(static_cast<uint8_t>(v >> (8 * i)));
}
uint64_t get_le(const uint8_t* p, int bytes) {
  uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) v |= static_cast<uint64_t>(p[i]) << (8 * i);
  return v;
}
}  // namespace

std::vector<uint8_t> encode_gemm_choices(const GemmSpec& s, std::span<const GemmChoice> choices) {
  std::vector<uint8_t> out{kGemmBlobVersion, static_cast<uint8_t>(choices.size()), 0, 0};
  put_le(out, static_cast<uint64_t>(s.n), 4);
  put_le(out, static_cast<uint64_t>(s.k), 4);
  for (const GemmChoice& c : choices) {
    put_le(out, static_cast<uint32_t>(c.batch), 4);
    put_le(out, static_cast<uint64_t>(c.kind), 1);
    put_le(out, 0, 3);
    put_le(out, c.workspace, 8);
    for (uint64_t word : c.algo.data) put_le(out, word, 8);
  }
  return out;
}

Result<std::vector<GemmChoice>> decode_gemm_choices(const GemmSpec& s, std::span<const uint8_t> blob) {
  std::vector<GemmChoice> choices;
  if (blob.empty()) return choices;
  const auto bad = [](const std::string& why) {
    return data_loss("malformed Gemm tuning choices in the plan: " + why);
  };
  if (blob[0] != kGemmBlobVersion) return bad("version " + std::to_string(blob[0]) + ", expected 1 (rebuild the plan)");
  if (blob.size() < kGemmHeaderBytes || blob.size() != kGemmHeaderBytes + kGemmEntryBytes * blob[1])
    return bad(std::to_string(blob.size()) + " bytes do not hold the entries announced");
  if (get_le(&blob[4], 4) != static_cast<uint64_t>(s.n) || get_le(&blob[8], 4) != static_cast<uint64_t>(s.k))
    return bad("tuned for another shape than N " + std::to_string(s.n) + ", K " + std::to_string(s.k));
  for (size_t i = 0; i < blob[1]; ++i) {
    const uint8_t* p = blob.data() + kGemmHeaderBytes + kGemmEntryBytes * i;
    GemmChoice c;
    c.batch = static_cast<int32_t>(get_le(p, 4));
    if (c.batch <= 0 || (!choices.empty() && c.batch <= choices.back().batch))
      return bad("batches must be positive and ascending");
    if (p[4] > 1 || get_le(p + 5, 3) != 0) return bad("entry " + std::to_string(i) + " has an unknown kind");
    c.kind = static_cast<GemmChoice::Kind>(p[4]);
    c.workspace = get_le(p + 8, 8);
    for (int w = 0; w < 8; ++w) c.algo.data[w] = get_le(p + 16 + 8 * w, 8);
    choices.push_back(c);
  }
  return choices;
}

const GemmChoice* choice_for_batch(std::span<const GemmChoice> choices, int64_t batch) {
  for (const GemmChoice& c : choices)
    if (c.batch >= batch) return &c;
  return choices.empty() ? nullptr : &choices.back();
}

}  // namespace inferd::cuda
