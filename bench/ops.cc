// bench_ops: times single CPU-backend kernels, to back the backend's choices with
// numbers (quoted where the choices are made: cpu_backend.cc, dnnl_gemv.h):
//   - layout: convolutions of ResNet-50 (the 3x3 64->64 at 56x56 and the 1x1s of
//     each stage) in NCHW vs NHWC, through make_cpu_backend() exactly as an engine
//     runs them;
//   - batch-1 Gemm: the backend's GEMV (on oneDNN's packed weights, and on plain
//     rows) vs oneDNN's inner product at M = 1 (plain and blocked weights) on
//     AlexNet's fc6 (9216 -> 4096) and a ResNet head (2048 -> 1000), plus batch 8,
//     where the weights format matters.
// Each figure is the median of --runs timed runs after two warm-up runs.
//
// Usage: bench_ops [--runs N] [--threads T] [--verbose]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <dnnl.hpp>
#include <functional>
#include <string>
#include <vector>

#include "backends/cpu/cpu_backend.h"
#include "backends/cpu/cpu_device.h"
#include "backends/cpu/dnnl_gemv.h"
#include "core/log.h"
#include "core/tensor.h"
#include "ir/graph.h"

namespace {

using inferd::Shape;
using inferd::TensorView;

struct Options {
  int runs = 20;
  int threads = 0;
  bool verbose = false;
};

double median_ms(int runs, const std::function<void()>& fn) {
  fn();
  fn();
  std::vector<double> ms;
  for (int i = 0; i < runs; ++i) {
    const auto start = std::chrono::steady_clock::now();
    fn();
    ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count());
  }
  std::nth_element(ms.begin(), ms.begin() + runs / 2, ms.end());
  return ms[static_cast<size_t>(runs / 2)];
}

std::vector<float> random_floats(int64_t n, unsigned seed) {
  std::vector<float> v(static_cast<size_t>(n));
  for (float& x : v) {
    seed = seed * 1664525u + 1013904223u;
    x = static_cast<float>(seed >> 8) / 16777216.0f - 0.5f;
  }
  return v;
}

// One node over activations in `layout`, packed, planned and run like an engine does.
class NodeRunner {
 public:
  NodeRunner(const inferd::Backend& backend, inferd::ir::Graph graph, inferd::ir::Layout layout) {
    graph_ = std::move(graph);
    const inferd::ir::Node& node = graph_.nodes().front();
    auto packed = backend.pack(graph_, node);
    if (!packed.is_ok()) fail(packed.status().message());
    op_ = std::move(packed).value();
    auto kernel = op_->create_kernel();
    if (!kernel.is_ok()) fail(kernel.status().message());
    kernel_ = std::move(kernel).value();
    for (inferd::ir::ValueId id : node.inputs) in_.push_back(view(id, layout));  // read-only copies of views
    for (inferd::ir::ValueId id : node.outputs) out_.push_back(view(id, layout));
    const inferd::Status s = kernel_->reshape(in_, out_);
    if (!s.is_ok()) fail(s.message());
  }
  void run() {
    const inferd::Status s = kernel_->enqueue(in_, out_, inferd::EnqueueContext{*stream_});
    if (!s.is_ok()) fail(s.message());
  }
  std::string_view implementation() const { return op_->implementation(); }

 private:
  [[noreturn]] static void fail(const std::string& message) {
    std::fprintf(stderr, "bench_ops: %s\n", message.c_str());
    std::exit(1);
  }
  TensorView view(inferd::ir::ValueId id, inferd::ir::Layout layout) {
    const inferd::ir::Value& v = graph_.value(id);
    if (v.is_constant()) {
      auto& t = const_cast<inferd::Tensor&>(*v.constant);
      return {t.data<float>(), t.shape(), inferd::dense_strides(t.shape())};
    }
    buffers_.push_back(random_floats(inferd::element_count(v.shape), static_cast<unsigned>(id) + 1));
    const bool nhwc = layout == inferd::ir::Layout::kNHWC && v.shape.size() == 4;
    return {buffers_.back().data(), v.shape, nhwc ? inferd::nhwc_strides(v.shape) : inferd::dense_strides(v.shape)};
  }

  inferd::ir::Graph graph_;
  std::unique_ptr<inferd::PackedOp> op_;
  std::unique_ptr<inferd::Kernel> kernel_;
  std::vector<std::vector<float>> buffers_;  // moving a vector keeps its heap block: views stay valid
  std::vector<inferd::ConstTensorView> in_;
  std::vector<TensorView> out_;
  std::unique_ptr<inferd::Stream> stream_ = inferd::cpu::CpuDevice().create_stream().value();
};

inferd::ir::ValueId add_activation(inferd::ir::Graph& g, Shape shape, inferd::ir::Layout layout) {
  inferd::ir::Value v;
  v.name = "act" + std::to_string(g.value_count());
  v.shape = std::move(shape);
  v.layout = layout;
  return g.add_value(std::move(v));
}

inferd::ir::Graph conv_graph(int64_t c, int64_t o, int64_t hw, int64_t k, int64_t stride, inferd::ir::Layout layout) {
  inferd::ir::Graph g;
  inferd::ir::Node node;
  node.name = "conv";
  node.op = inferd::ir::OpKind::kConv;
  const int64_t pad = k / 2, out_hw = (hw + 2 * pad - k) / stride + 1;
  node.attrs.set("strides", std::vector<int64_t>{stride, stride});
  node.attrs.set("pads", std::vector<int64_t>{pad, pad, pad, pad});
  node.attrs.set("activation", std::string("Relu"));
  node.inputs = {add_activation(g, {1, c, hw, hw}, layout),
                 g.add_constant("w", inferd::Tensor::from_floats({o, c, k, k}, random_floats(o * c * k * k, 7))),
                 g.add_constant("b", inferd::Tensor::from_floats({o}, random_floats(o, 8)))};
  node.outputs = {add_activation(g, {1, o, out_hw, out_hw}, layout)};
  g.add_node(std::move(node));
  return g;
}

void bench_layouts(const inferd::Backend& backend, const Options& opts) {
  struct Conv {
    const char* name;
    int64_t c, o, hw, k, stride;
  };
  const Conv convs[] = {
      {"3x3 64->64 56x56", 64, 64, 56, 3, 1},       {"1x1 64->256 56x56", 64, 256, 56, 1, 1},
      {"1x1 256->64 56x56", 256, 64, 56, 1, 1},     {"1x1 256->512 s2 56x56", 256, 512, 56, 1, 2},
      {"1x1 512->128 28x28", 512, 128, 28, 1, 1},   {"1x1 128->512 28x28", 128, 512, 28, 1, 1},
      {"1x1 1024->256 14x14", 1024, 256, 14, 1, 1}, {"1x1 256->1024 14x14", 256, 1024, 14, 1, 1},
      {"1x1 2048->512 7x7", 2048, 512, 7, 1, 1},    {"1x1 512->2048 7x7", 512, 2048, 7, 1, 1},
  };
  std::printf("\n| conv (batch 1, fused ReLU) | NCHW ms | NHWC ms | NCHW/NHWC |\n|---|---|---|---|\n");
  for (const Conv& c : convs) {
    double ms[2];
    for (int i = 0; i < 2; ++i) {
      const auto layout = i == 0 ? inferd::ir::Layout::kNCHW : inferd::ir::Layout::kNHWC;
      NodeRunner runner(backend, conv_graph(c.c, c.o, c.hw, c.k, c.stride, layout), layout);
      ms[i] = median_ms(opts.runs, [&] { runner.run(); });
    }
    std::printf("| %s | %.3f | %.3f | %.2f |\n", c.name, ms[0], ms[1], ms[0] / ms[1]);
  }
}

inferd::ir::Graph gemm_graph(int64_t m, int64_t k, int64_t n) {
  inferd::ir::Graph g;
  inferd::ir::Node node;
  node.name = "fc";
  node.op = inferd::ir::OpKind::kGemm;
  node.attrs.set("transB", int64_t{1});
  node.inputs = {add_activation(g, {m, k}, inferd::ir::Layout::kNCHW),
                 g.add_constant("w", inferd::Tensor::from_floats({n, k}, random_floats(n * k, 7))),
                 g.add_constant("b", inferd::Tensor::from_floats({n}, random_floats(n, 8)))};
  node.outputs = {add_activation(g, {m, n}, inferd::ir::Layout::kNCHW)};
  g.add_node(std::move(node));
  return g;
}

// oneDNN's inner product alone, weights in `tag` (oi = the plain [N, K] rows).
double onednn_inner_product_ms(int64_t m, int64_t k, int64_t n, dnnl::memory::format_tag tag, int runs) {
  using dnnl::memory;
  const dnnl::engine eng(dnnl::engine::kind::cpu, 0);
  dnnl::stream stream(eng);
  const memory::desc src({m, k}, memory::data_type::f32, memory::format_tag::nc);
  const memory::desc bias({n}, memory::data_type::f32, memory::format_tag::x);
  const memory::desc dst({m, n}, memory::data_type::f32, memory::format_tag::nc);
  const memory::desc weights({n, k}, memory::data_type::f32, tag);
  const dnnl::inner_product_forward::primitive_desc pd({dnnl::prop_kind::forward_inference, src, weights, bias, dst},
                                                       eng);
  std::vector<float> x = random_floats(m * k, 1), w = random_floats(n * k, 2), b = random_floats(n, 3), y(m * n);
  memory plain({{n, k}, memory::data_type::f32, memory::format_tag::oi}, eng, w.data());
  memory packed(pd.weights_desc(), eng);
  dnnl::reorder(plain, packed).execute(stream, plain, packed);
  memory xs(src, eng, x.data()), bs(bias, eng, b.data()), ys(dst, eng, y.data());
  const dnnl::inner_product_forward ip(pd);
  return median_ms(runs, [&] {
    ip.execute(stream, {{DNNL_ARG_SRC, xs}, {DNNL_ARG_WEIGHTS, packed}, {DNNL_ARG_BIAS, bs}, {DNNL_ARG_DST, ys}});
    stream.wait();
  });
}

// The GEMV over plain row-major [N, K] weights (the layout before oneDNN packs them).
double rows_gemv_ms(int64_t k, int64_t n, int runs) {
  std::vector<float> w = random_floats(n * k, 2), x = random_floats(k, 1), b = random_floats(n, 3), y(n);
  inferd::cpu::GemvLayout rows;
  rows.n = n;
  rows.k = k;
  return median_ms(runs, [&] { inferd::cpu::gemv(rows, w.data(), x.data(), b.data(), {}, y.data(), 1); });
}

void bench_gemm(const inferd::Backend& backend, const Options& opts) {
  std::printf(
      "\n| Gemm K->N | M | backend ms (impl) | GEMV plain rows ms | oneDNN IP plain oi ms | "
      "oneDNN IP blocked (any) ms |\n|---|---|---|---|---|---|\n");
  const std::pair<int64_t, int64_t> shapes[] = {{9216, 4096}, {2048, 1000}};
  for (const auto& [k, n] : shapes) {
    for (int64_t m : {int64_t{1}, int64_t{8}}) {
      NodeRunner runner(backend, gemm_graph(m, k, n), inferd::ir::Layout::kNCHW);
      const double ours = median_ms(opts.runs, [&] { runner.run(); });
      const double plain = onednn_inner_product_ms(m, k, n, dnnl::memory::format_tag::oi, opts.runs);
      const double blocked = onednn_inner_product_ms(m, k, n, dnnl::memory::format_tag::any, opts.runs);
      char rows[32] = "-";
      if (m == 1) std::snprintf(rows, sizeof rows, "%.3f", rows_gemv_ms(k, n, opts.runs));
      std::printf("| %lld->%lld | %lld | %.3f (%s) | %s | %.3f | %.3f |\n", static_cast<long long>(k),
                  static_cast<long long>(n), static_cast<long long>(m), ours,
                  m == 1 ? "gemv on packed weights" : "oneDNN IP", rows, plain, blocked);
    }
  }
}

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--runs" && i + 1 < argc)
      o.runs = std::max(1, std::atoi(argv[++i]));
    else if (arg == "--threads" && i + 1 < argc)
      o.threads = std::atoi(argv[++i]);
    else if (arg == "--verbose")
      o.verbose = true;
    else {
      std::fprintf(stderr, "usage: bench_ops [--runs N] [--threads T] [--verbose]\n");
      std::exit(2);
    }
  }
  return o;
}

}  // namespace

int main(int argc, char** argv) {
  const Options opts = parse(argc, argv);
  if (opts.verbose) inferd::set_log_level(inferd::LogLevel::kDebug);  // oneDNN implementation per kernel
  const auto backend = inferd::cpu::make_cpu_backend({.threads = opts.threads});
  std::printf("bench_ops: median of %d runs, threads=%d (0 = all cores)\n", opts.runs, opts.threads);
  bench_layouts(*backend, opts);
  bench_gemm(*backend, opts);
  return 0;
}
