// Which quantized convolutions cuDNN's graph API runs on this GPU, how fast, and whether
// their answers are right (issue 16's design question, asked before any GPU INT8 code is
// written): per ResNet-50 layer shape and per storage type, the fused graph
//   conv(X, W) -> T (virtual fp32) * scale[k] + bias[k] -> ReLU -> Y
// that an INT8/FP8 layer needs (scale = the input's scale x the weight's per-channel scale
// / the output's scale), built by the CUDA backend's own graph code (ConvOpGraph with
// explicit ConvGraphTypes, its heuristic filter, execution plans and variant packs), so the
// probe checks what the backend will run. For each: how many engine choices the heuristics
// offer that the backend would take, how many finalize, the fastest's
// time and tera-operations per second, and on a small layer the largest difference from a
// host reference of the same integers. One JSON line per (layer, type) on stdout.
// "u8-128>s8" is what the backend runs for uint8 levels (a ReLU's output on the CPU's grid):
// the int8 engines on the levels shifted by -128, padded explicitly (Types::shifted).
//   bench_cudnn_quant_probe [--batch 256] [--iterations 20] [--configs 8]
#include <cuda_fp16.h>
#include <cuda_fp8.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "backends/cuda/cuda_common.h"
#include "backends/cuda/cuda_conv_graph.h"

namespace inferd::cuda {
namespace {

struct Layer {
  const char* name;
  int c, hw, k, rs, stride;
};
// ResNet-50's distinct convolution kinds (input channels, input size, outputs, kernel, stride).
constexpr Layer kLayers[] = {
    {"res2_3x3", 64, 56, 64, 3, 1},    {"res2_1x1_up", 64, 56, 256, 1, 1}, {"res3_3x3", 128, 28, 128, 3, 1},
    {"res4_1x1_down", 1024, 14, 256, 1, 1}, {"res5_3x3", 512, 7, 512, 3, 1}, {"res5_1x1_up", 512, 7, 2048, 1, 1},
};

// One storage variant: its name and the graph's types (X, W, Y, compute; the bias and the
// scale are fp32 in every variant). `shifted`: X holds uint8 levels stored as int8 (q - 128),
// as cuda_conv_int8.cc stores them (cuDNN has no engine for uint8 input on sm_90): padded
// explicitly with -128 (the level of 0) and convolved without padding, so that the shift's
// contribution, 128 x the sum of each output channel's weights, is one correction per
// channel folded into the bias (backends/api/int8_conv_constants.h).
struct Types {
  const char* name;
  cudnnDataType_t x, w, y, compute;
  bool shifted = false;
  ConvGraphTypes graph() const {
    ConvGraphTypes t;
    t.x = x, t.w = w, t.y = y, t.compute = compute;
    t.bias = CUDNN_DATA_FLOAT;
    t.scale = true;
    return t;
  }
};
constexpr Types kTypes[] = {
    {"fp16", CUDNN_DATA_HALF, CUDNN_DATA_HALF, CUDNN_DATA_HALF, CUDNN_DATA_FLOAT},
    {"s8>s8", CUDNN_DATA_INT8, CUDNN_DATA_INT8, CUDNN_DATA_INT8, CUDNN_DATA_INT32},
    {"s8>f16", CUDNN_DATA_INT8, CUDNN_DATA_INT8, CUDNN_DATA_HALF, CUDNN_DATA_INT32},
    {"u8>u8", CUDNN_DATA_UINT8, CUDNN_DATA_INT8, CUDNN_DATA_UINT8, CUDNN_DATA_INT32},
    {"e4m3>e4m3", CUDNN_DATA_FP8_E4M3, CUDNN_DATA_FP8_E4M3, CUDNN_DATA_FP8_E4M3, CUDNN_DATA_FLOAT},
    {"e4m3>f16", CUDNN_DATA_FP8_E4M3, CUDNN_DATA_FP8_E4M3, CUDNN_DATA_HALF, CUDNN_DATA_FLOAT},
    {"u8-128>s8", CUDNN_DATA_INT8, CUDNN_DATA_INT8, CUDNN_DATA_INT8, CUDNN_DATA_INT32, true},
};

size_t element_bytes(cudnnDataType_t t) { return t == CUDNN_DATA_HALF ? 2 : (t == CUDNN_DATA_FLOAT ? 4 : 1); }

// Small integers every type holds exactly (|v| <= 8; u8 takes 0..16), as stored bytes.
void encode(cudnnDataType_t t, const std::vector<int>& v, std::vector<unsigned char>& out) {
  out.resize(v.size() * element_bytes(t));
  for (size_t i = 0; i < v.size(); ++i) {
    if (t == CUDNN_DATA_HALF) {
      const __half h = __float2half(static_cast<float>(v[i]));
      std::memcpy(&out[2 * i], &h, 2);
    } else if (t == CUDNN_DATA_FP8_E4M3) {
      const __nv_fp8_e4m3 f(static_cast<float>(v[i]));
      std::memcpy(&out[i], &f, 1);
    } else {
      out[i] = static_cast<unsigned char>(static_cast<signed char>(v[i]));
    }
  }
}
float decode(cudnnDataType_t t, const unsigned char* p) {
  if (t == CUDNN_DATA_HALF) {
    __half h;
    std::memcpy(&h, p, 2);
    return __half2float(h);
  }
  if (t == CUDNN_DATA_FP8_E4M3) {
    __nv_fp8_e4m3 f;
    std::memcpy(&f, p, 1);
    return static_cast<float>(f);
  }
  if (t == CUDNN_DATA_UINT8) return static_cast<float>(*p);
  return static_cast<float>(static_cast<signed char>(*p));
}

// The layer as the CUDA backend describes a convolution: NHWC, bias, ReLU.
ConvSpec layer_spec(const Layer& l) {
  ConvSpec s;
  s.stride_h = s.stride_w = l.stride;
  s.pad_h = s.pad_w = l.rs / 2;
  s.out_channels = l.k;
  s.in_per_group = s.input_channels = l.c;
  s.kernel_h = s.kernel_w = l.rs;
  s.dtype = DataType::kFloat16;  // what the engine filter reads: not strict fp32
  s.channels_last = true;
  s.has_bias = true;
  s.act.kind = ir::Activation::Kind::kRelu;
  return s;
}

GraphTensorLayout nhwc(int64_t n, int64_t c, int64_t h, int64_t w) {
  return GraphTensorLayout{{n, c, h, w}, {c * h * w, 1, w * c, c}};
}

ConvGraphShape layer_shape(const Layer& l, int n, const Types& t) {
  const int64_t out_hw = (l.hw + 2 * (l.rs / 2) - l.rs) / l.stride + 1;
  const int64_t in_hw = l.hw + (t.shifted ? 2 * (l.rs / 2) : 0);  // the shifted input is padded explicitly
  ConvGraphShape shape;
  shape.x = nhwc(n, l.c, in_hw, in_hw);
  shape.y = nhwc(n, l.k, out_hw, out_hw);
  shape.types = t.graph();
  return shape;
}

struct Buffers {
  void *x = nullptr, *w = nullptr, *scale = nullptr, *bias = nullptr, *y = nullptr, *workspace = nullptr;
  size_t y_bytes = 0, workspace_bytes = 0;
};

// The plan of `choice`, or why not; runs it `iterations` times and returns ms per run.
Result<double> time_plan(cudnnHandle_t handle, const std::shared_ptr<const ConvOpGraph>& graph,
                         const GraphEngineChoice& choice, Buffers& b, int iterations) {
  ASSIGN_OR_RETURN(std::unique_ptr<ConvExecutionPlan> plan, ConvExecutionPlan::build(handle, graph, choice));
  if (plan->workspace_bytes() > (size_t{1} << 30)) return unimplemented("workspace over 1 GiB");
  if (plan->workspace_bytes() > b.workspace_bytes) {
    if (b.workspace) cudaFree(b.workspace);
    b.workspace = nullptr;
    b.workspace_bytes = 0;
    CUDA_RETURN_IF_ERROR(cudaMalloc(&b.workspace, plan->workspace_bytes()));
    b.workspace_bytes = plan->workspace_bytes();
  }
  VariantPackCache packs;
  GraphPointers p;
  p.x = b.x, p.w = b.w, p.bias = b.bias, p.y = b.y, p.scale = b.scale;
  p.workspace = plan->workspace_bytes() > 0 ? b.workspace : nullptr;
  ASSIGN_OR_RETURN(cudnnBackendDescriptor_t pack, packs.find_or_build(*graph, p));
  RETURN_IF_ERROR(execute_plan(handle, *plan, pack));  // warm-up (and the checked run)
  CUDA_RETURN_IF_ERROR(cudaDeviceSynchronize());
  cudaEvent_t start, stop;
  cudaEventCreate(&start);
  cudaEventCreate(&stop);
  cudaEventRecord(start);
  for (int i = 0; i < iterations; ++i) RETURN_IF_ERROR(execute_plan(handle, *plan, pack));
  cudaEventRecord(stop);
  CUDA_RETURN_IF_ERROR(cudaEventSynchronize(stop));
  float ms = 0;
  cudaEventElapsedTime(&ms, start, stop);
  cudaEventDestroy(start);
  cudaEventDestroy(stop);
  return static_cast<double>(ms) / iterations;
}

// The layer's integers: X (0..16 for u8, else -8..8), W (-8..8), per-channel scale and bias.
struct HostData {
  std::vector<int> x, w;
  std::vector<float> scale, bias;
};
HostData make_data(const Layer& l, int n, bool unsigned_x, std::mt19937& rng) {
  HostData d;
  std::uniform_int_distribution<int> sx(unsigned_x ? 0 : -8, unsigned_x ? 16 : 8), sw(-8, 8);
  d.x.resize(static_cast<size_t>(n) * l.c * l.hw * l.hw);
  d.w.resize(static_cast<size_t>(l.k) * l.c * l.rs * l.rs);
  for (int& v : d.x) v = sx(rng);
  for (int& v : d.w) v = sw(rng);
  const float base = 1.0f / std::sqrt(static_cast<float>(l.c * l.rs * l.rs));
  for (int k = 0; k < l.k; ++k) {
    d.scale.push_back(base * (0.5f + 0.5f * static_cast<float>(k % 7) / 7.0f));
    d.bias.push_back(0.5f * static_cast<float>(k % 11 - 5));
  }
  return d;
}

// What the graph should write at NHWC output index (nn, k, oy, ox), before rounding to Y's type.
float reference(const Layer& l, const HostData& d, int nn, int k, int oy, int ox) {
  const int pad = l.rs / 2;
  long long acc = 0;
  for (int r = 0; r < l.rs; ++r)
    for (int s = 0; s < l.rs; ++s) {
      const int iy = oy * l.stride - pad + r, ix = ox * l.stride - pad + s;
      if (iy < 0 || ix < 0 || iy >= l.hw || ix >= l.hw) continue;
      const size_t xo = ((static_cast<size_t>(nn) * l.hw + iy) * l.hw + ix) * l.c;
      const size_t wo = ((static_cast<size_t>(k) * l.rs + r) * l.rs + s) * l.c;
      for (int c = 0; c < l.c; ++c) acc += static_cast<long long>(d.x[xo + c]) * d.w[wo + c];
    }
  return std::max(0.0f, static_cast<float>(acc) * d.scale[k] + d.bias[k]);
}

// What a shifted layer (Types::shifted) reads: the levels minus 128, NHWC, padded with -128
// (the level of 0) by the layer's padding; and the bias plus scale[k] x 128 x the sum of
// output channel k's weights.
std::vector<int> shifted_padded_input(const Layer& l, int n, const HostData& d) {
  const int pad = l.rs / 2, hw = l.hw + 2 * pad;
  std::vector<int> out(static_cast<size_t>(n) * hw * hw * l.c, -128);
  for (int nn = 0; nn < n; ++nn)
    for (int y = 0; y < l.hw; ++y)
      for (int x = 0; x < l.hw; ++x)
        for (int c = 0; c < l.c; ++c)
          out[((static_cast<size_t>(nn) * hw + y + pad) * hw + x + pad) * l.c + c] =
              d.x[((static_cast<size_t>(nn) * l.hw + y) * l.hw + x) * l.c + c] - 128;
  return out;
}
std::vector<float> shifted_bias(const Layer& l, const HostData& d) {
  std::vector<float> bias = d.bias;
  const size_t per_channel = static_cast<size_t>(l.c) * l.rs * l.rs;
  for (int k = 0; k < l.k; ++k) {
    long long sum = 0;
    for (size_t i = 0; i < per_channel; ++i) sum += d.w[k * per_channel + i];
    bias[static_cast<size_t>(k)] += d.scale[static_cast<size_t>(k)] * 128.0f * static_cast<float>(sum);
  }
  return bias;
}

// Largest error at `samples` random outputs, relative to what Y's type can hold: integers
// count in units (1 = one rounding step), fp16 and e4m3 relative to the value.
double check(const Layer& l, const HostData& d, const Types& t, int n, const void* y, std::mt19937& rng) {
  const int out_hw = (l.hw + 2 * (l.rs / 2) - l.rs) / l.stride + 1;
  const size_t eb = element_bytes(t.y);
  double worst = 0;
  for (int i = 0; i < 256; ++i) {
    const int nn = static_cast<int>(rng() % n), k = static_cast<int>(rng() % l.k);
    const int oy = static_cast<int>(rng() % out_hw), ox = static_cast<int>(rng() % out_hw);
    const size_t index = ((static_cast<size_t>(nn) * out_hw + oy) * out_hw + ox) * l.k + k;
    unsigned char bytes[2] = {0, 0};
    cudaMemcpy(bytes, static_cast<const char*>(y) + index * eb, eb, cudaMemcpyDeviceToHost);
    const float got = decode(t.y, bytes), want = reference(l, d, nn, k, oy, ox);
    double err;
    if (t.y == CUDNN_DATA_INT8 || t.y == CUDNN_DATA_UINT8)
      err = std::fabs(got - std::min(want, t.y == CUDNN_DATA_INT8 ? 127.0f : 255.0f));
    else
      err = std::fabs(got - std::min(want, t.y == CUDNN_DATA_FP8_E4M3 ? 448.0f : 65504.0f)) / std::max(1.0f, want);
    worst = std::max(worst, err);
  }
  return worst;
}

Status upload(void* dst, const std::vector<unsigned char>& bytes) {
  return cuda_status(cudaMemcpy(dst, bytes.data(), bytes.size(), cudaMemcpyHostToDevice), "cudaMemcpy");
}

// One line: the layer at one storage type.
void probe(cudnnHandle_t handle, const Layer& l, const Types& t, int n, int iterations, int max_configs, Buffers& b,
           std::mt19937& rng) {
  const int out_hw = (l.hw + 2 * (l.rs / 2) - l.rs) / l.stride + 1;
  const double ops = 2.0 * n * l.k * l.c * l.rs * l.rs * out_hw * out_hw;
  std::printf("{\"layer\":\"%s\",\"types\":\"%s\",\"batch\":%d", l.name, t.name, n);
  const HostData d = make_data(l, n, t.x == CUDNN_DATA_UINT8 || t.shifted, rng);
  std::vector<unsigned char> bytes;
  encode(t.x, t.shifted ? shifted_padded_input(l, n, d) : d.x, bytes);
  Status s = upload(b.x, bytes);
  encode(t.w, d.w, bytes);
  if (s.is_ok()) s = upload(b.w, bytes);
  if (s.is_ok()) s = cuda_status(cudaMemcpy(b.scale, d.scale.data(), d.scale.size() * 4, cudaMemcpyHostToDevice), "scale");
  const std::vector<float> bias = t.shifted ? shifted_bias(l, d) : d.bias;
  if (s.is_ok()) s = cuda_status(cudaMemcpy(b.bias, bias.data(), bias.size() * 4, cudaMemcpyHostToDevice), "bias");
  ConvSpec spec = layer_spec(l);
  if (t.shifted) spec.pad_h = spec.pad_w = 0;  // padded explicitly
  Result<std::shared_ptr<const ConvOpGraph>> g =
      s.is_ok() ? ConvOpGraph::build(handle, spec, layer_shape(l, n, t)) : Result<std::shared_ptr<const ConvOpGraph>>(s);
  Result<std::vector<GraphEngineChoice>> choices =
      g.is_ok() ? heuristic_engine_choices(**g, spec, 64) : Result<std::vector<GraphEngineChoice>>(g.status());
  if (!choices.is_ok()) {
    std::printf(",\"error\":\"%s\"}\n", choices.status().message().c_str());
    return;
  }
  // The heuristics' choices the backend would take (numerical and behaviour notes allowed).
  const int offered = static_cast<int>(choices->size());
  int finalized = 0;
  double best = 0, worst_error = 0;
  int64_t best_engine = -1;
  std::string last_error;
  for (size_t i = 0; i < choices->size() && finalized < max_configs; ++i) {
    cudaMemset(b.y, 0x55, b.y_bytes);  // an engine that writes nothing fails the check
    Result<double> ms = time_plan(handle, *g, (*choices)[i], b, iterations);
    if (!ms.is_ok()) {
      last_error = ms.status().message();
      continue;
    }
    ++finalized;
    worst_error = std::max(worst_error, check(l, d, t, n, b.y, rng));
    if (best == 0 || *ms < best) best = *ms, best_engine = (*choices)[i].engine;
  }
  std::printf(",\"offered\":%d,\"finalized\":%d", offered, finalized);
  if (finalized > 0)
    std::printf(",\"best_ms\":%.4f,\"tops\":%.1f,\"engine\":%lld,\"max_error\":%.4g", best, ops / (best * 1e-3) / 1e12,
                static_cast<long long>(best_engine), worst_error);
  if (!last_error.empty()) {
    for (char& c : last_error)
      if (c == '"' || c == '\\' || c == '\n') c = '\'';
    std::printf(",\"last_refusal\":\"%s\"", last_error.c_str());
  }
  std::printf("}\n");
  std::fflush(stdout);
}

int run(int argc, char** argv) {
  int n = 256, iterations = 20, max_configs = 8;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    const int v = std::atoi(argv[i + 1]);
    if (flag == "--batch") n = v;
    else if (flag == "--iterations") iterations = v;
    else if (flag == "--configs") max_configs = v;
    else {
      std::fprintf(stderr, "usage: bench_cudnn_quant_probe [--batch N] [--iterations N] [--configs N]\n");
      return 2;
    }
  }
  cudnnHandle_t handle = nullptr;
  if (cudnnCreate(&handle) != CUDNN_STATUS_SUCCESS) {
    std::fprintf(stderr, "cudnnCreate failed (no GPU?)\n");
    return 1;
  }
  cudaDeviceProp prop{};
  cudaGetDeviceProperties(&prop, 0);
  std::printf("{\"gpu\":\"%s\",\"sm\":%d%d,\"cudnn\":%zu}\n", prop.name, prop.major, prop.minor, cudnnGetVersion());
  std::mt19937 rng(7);
  for (const Layer& l : kLayers) {
    const int out_hw = (l.hw + 2 * (l.rs / 2) - l.rs) / l.stride + 1;
    Buffers b;
    b.y_bytes = static_cast<size_t>(n) * l.k * out_hw * out_hw * 2;
    const size_t x_bytes = static_cast<size_t>(n) * l.c * l.hw * l.hw * 2, w_bytes = size_t{2} * l.k * l.c * l.rs * l.rs;
    if (cudaMalloc(&b.x, x_bytes) != cudaSuccess || cudaMalloc(&b.w, w_bytes) != cudaSuccess ||
        cudaMalloc(&b.scale, l.k * 4) != cudaSuccess || cudaMalloc(&b.bias, size_t{4} * l.k) != cudaSuccess ||
        cudaMalloc(&b.y, b.y_bytes) != cudaSuccess) {
      std::fprintf(stderr, "out of GPU memory at %s\n", l.name);
      return 1;
    }
    for (const Types& t : kTypes) probe(handle, l, t, n, iterations, max_configs, b, rng);
    for (void* p : {b.x, b.w, b.scale, b.bias, b.y, b.workspace}) cudaFree(p);
  }
  cudnnDestroy(handle);
  return 0;
}

}  // namespace
}  // namespace inferd::cuda

int main(int argc, char** argv) { return inferd::cuda::run(argc, argv); }
