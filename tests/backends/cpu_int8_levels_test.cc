// The CPU backend's INT8 convolution reading and writing u8/s8 levels (int8_storage) against
// the reference kernel on the same views: every combination of a levels or fp32 input with
// a levels or fp32 output, unsigned and signed grids, NHWC as the planner lays them out,
// batch 1 and 3 on one kernel.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>

#include "backends/cpu/cpu_backend.h"
#include "backends/cpu/cpu_device.h"
#include "backends/reference/reference.h"
#include "core/quantize.h"
#include "support/test_util.h"

namespace inferd::test {
namespace {

using ir::OpKind;

struct LevelsCase {
  DataType in = DataType::kFloat32, out = DataType::kFloat32;
  bool unsigned_grid = true;
};

// The convolution's geometry: a 3x3 over few channels, and a 1x1 over as many as ResNet-50's
// first bottlenecks (oneDNN picks other kernels for each).
struct Geometry {
  int64_t c, m, h, k;
};
constexpr Geometry kGeometries[] = {{16, 24, 7, 3}, {64, 64, 14, 1}, {64, 256, 14, 1}};
constexpr float kInScale = 0.02f, kOutScale = 0.05f;

// x [N, C, H, H] -> KxK INT8 Conv (same padding, bias, ReLU on the unsigned grid) -> y [N, M, H, H].
struct LevelsConv {
  ir::Graph graph;
  ir::Node node;

  LevelsConv(const LevelsCase& c, const Geometry& geo) {
    const int64_t kC = geo.c, kM = geo.m, kH = geo.h, pad = geo.k / 2;
    const int64_t qmin = c.unsigned_grid ? 0 : -128, qmax = c.unsigned_grid ? 255 : 127;
    const int64_t taps = kC * geo.k * geo.k;
    Tensor w = random_tensor({kM, kC, geo.k, geo.k}, 5);
    const std::vector<float> scales = int8_axis_scales(w.data<float>(), w.size(), kM, taps);
    for (int64_t i = 0; i < w.size(); ++i) {
      const float s = scales[static_cast<size_t>(i / taps)];
      w.data<float>()[i] = quantized_level(w.data<float>()[i], s, -127, 127) * s;
    }
    ir::Value x, y;
    x.name = "x";
    x.shape = {kDynamicDim, kC, kH, kH};
    x.dtype = c.in;
    x.layout = ir::Layout::kNHWC;
    y.name = "y";
    y.shape = {kDynamicDim, kM, kH, kH};
    y.dtype = c.out;
    y.layout = ir::Layout::kNHWC;
    node.name = "conv";
    node.op = OpKind::kConv;
    node.inputs = {graph.add_value(x), graph.add_constant("w", w), graph.add_constant("b", random_tensor({kM}, 6))};
    node.outputs = {graph.add_value(y)};
    node.attrs.set("kernel_shape", std::vector<int64_t>{geo.k, geo.k});
    node.attrs.set("pads", std::vector<int64_t>{pad, pad, pad, pad});
    node.attrs.set("input_scale", kInScale);
    node.attrs.set("input_qmin", qmin);
    node.attrs.set("input_qmax", qmax);
    node.attrs.set("weight_scales", scales);
    if (c.unsigned_grid) node.attrs.set("activation", std::string("Relu"));
    if (c.out != DataType::kFloat32 || c.unsigned_grid) {  // a rounded output; levels when stored so
      node.attrs.set("output_scale", kOutScale);
      node.attrs.set("output_zero_point", int64_t{0});
      node.attrs.set("output_qmin", qmin);
      node.attrs.set("output_qmax", qmax);
      if (c.out != DataType::kFloat32) node.attrs.set("output_levels", int64_t{1});
    }
    graph.add_node(node);
  }
};

// An activation of `dtype` at batch n: levels across the grid, or fp32 values around it.
Tensor input_at(DataType dtype, int64_t n, const Geometry& geo, uint32_t seed) {
  Tensor t(dtype, {n, geo.h, geo.h, geo.c});  // NHWC storage
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> level(dtype == DataType::kUint8 ? 0 : -128, dtype == DataType::kUint8 ? 255 : 127);
  std::uniform_real_distribution<float> value(-3.0f, 3.0f);
  for (int64_t i = 0; i < t.size(); ++i) {
    if (dtype == DataType::kUint8) t.data<uint8_t>()[i] = static_cast<uint8_t>(level(rng));
    else if (dtype == DataType::kInt8) t.data<int8_t>()[i] = static_cast<int8_t>(level(rng));
    else t.data<float>()[i] = value(rng);
  }
  return t;
}

float element(const Tensor& t, int64_t i, float level_scale) {
  if (t.dtype() == DataType::kUint8) return t.data<uint8_t>()[i] * level_scale;
  if (t.dtype() == DataType::kInt8) return t.data<int8_t>()[i] * level_scale;
  return t.data<float>()[i];
}

TEST(CpuInt8Levels, ConvolutionsReadAndWriteLevelsAsTheReferenceDoes) {
  const auto backend = cpu::make_cpu_backend();
  const cpu::CpuDevice device;
  auto stream = device.create_stream().value();
  for (const Geometry& geo : kGeometries)
  for (const bool unsigned_grid : {true, false}) {
    const int64_t kC = geo.c, kM = geo.m, kH = geo.h;
    const DataType levels = unsigned_grid ? DataType::kUint8 : DataType::kInt8;
    for (const LevelsCase c : {LevelsCase{levels, levels, unsigned_grid}, LevelsCase{DataType::kFloat32, levels, unsigned_grid},
                               LevelsCase{levels, DataType::kFloat32, unsigned_grid}}) {
      const std::string name = std::string(to_string(c.in)) + " -> " + to_string(c.out) + " " +
                               std::to_string(geo.k) + "x" + std::to_string(geo.k) + " " + std::to_string(kC) +
                               "->" + std::to_string(kM);
      LevelsConv conv(c, geo);
      ASSERT_TRUE(backend->supports(conv.graph, conv.node)) << name;
      auto packed = backend->pack(conv.graph, conv.node);
      ASSERT_TRUE(packed.is_ok()) << name << ": " << packed.status().message();
      auto kernel = packed.value()->create_kernel().value();
      for (const int64_t n : {1, 3, 1}) {
        const Tensor x = input_at(c.in, n, geo, static_cast<uint32_t>(n + 10));
        Tensor y(c.out, {n, kH, kH, kM}), expected(c.out, {n, kH, kH, kM});
        const Shape x_shape{n, kC, kH, kH}, y_shape{n, kM, kH, kH};
        const Tensor& w = *conv.graph.value(conv.node.inputs[1]).constant;
        const Tensor& b = *conv.graph.value(conv.node.inputs[2]).constant;
        const std::vector<ConstTensorView> in{{x.raw(), x_shape, nhwc_strides(x_shape), c.in},
                                              {w.raw(), w.shape(), dense_strides(w.shape())},
                                              {b.raw(), b.shape(), dense_strides(b.shape())}};
        const std::vector<TensorView> out{{y.raw(), y_shape, nhwc_strides(y_shape), c.out}},
            ref_out{{expected.raw(), y_shape, nhwc_strides(y_shape), c.out}};
        ASSERT_TRUE(kernel->reshape(in, out).is_ok()) << name;
        auto workspace = device.allocate(kernel->workspace_bytes(), MemoryKind::kHost).value();
        const Status ran = kernel->enqueue(in, out, EnqueueContext{*stream, workspace.data(), workspace.bytes()});
        ASSERT_TRUE(ran.is_ok()) << name << ": " << ran.message();
        ref::reference_kernel(OpKind::kConv)(conv.node.attrs, in, ref_out);
        // One grid step off where the kernel's float sum reached a rounding boundary from the
        // other side, on at most 2 % of the elements; nothing else.
        int64_t off_by_a_step = 0;
        for (int64_t i = 0; i < y.size(); ++i) {
          const float got = element(y, i, kOutScale), want = element(expected, i, kOutScale);
          const float diff = std::fabs(got - want);
          if (diff <= 1e-4f * std::max(1.0f, std::fabs(want))) continue;
          ASSERT_LE(diff, kOutScale * 1.001f) << name << " batch " << n << " element " << i;
          ++off_by_a_step;
        }
        EXPECT_LE(off_by_a_step, y.size() / 50) << name << " batch " << n;
      }
    }
  }
}

// Max pools and channel Concats between INT8 convolutions move the levels as they are
// (int8_storage): the same bytes as the reference kernels, batch 1 and 3, NHWC.
struct LevelsMover {
  ir::Graph graph;
  ir::Node node;
  std::vector<Shape> in_shapes;  // [N, C, H, W] at batch 1
  Shape out_shape;
};

ir::ValueId levels_value(ir::Graph& g, const std::string& name, Shape shape, DataType dtype) {
  ir::Value v;
  v.name = name;
  v.shape = std::move(shape);
  v.shape[0] = kDynamicDim;
  v.dtype = dtype;
  v.layout = ir::Layout::kNHWC;
  return g.add_value(v);
}

LevelsMover levels_max_pool(DataType dtype) {
  LevelsMover m;
  m.in_shapes = {{1, 24, 13, 13}};
  m.out_shape = {1, 24, 7, 7};
  m.node.name = "pool";
  m.node.op = OpKind::kMaxPool;
  m.node.attrs.set("kernel_shape", std::vector<int64_t>{3, 3});
  m.node.attrs.set("strides", std::vector<int64_t>{2, 2});
  m.node.attrs.set("pads", std::vector<int64_t>{1, 1, 1, 1});
  m.node.inputs = {levels_value(m.graph, "x", m.in_shapes[0], dtype)};
  m.node.outputs = {levels_value(m.graph, "y", m.out_shape, dtype)};
  m.graph.add_node(m.node);
  return m;
}

LevelsMover levels_concat(DataType dtype) {
  LevelsMover m;
  m.in_shapes = {{1, 16, 5, 5}, {1, 48, 5, 5}};
  m.out_shape = {1, 64, 5, 5};
  m.node.name = "cat";
  m.node.op = OpKind::kConcat;
  m.node.attrs.set("axis", int64_t{1});
  m.node.inputs = {levels_value(m.graph, "a", m.in_shapes[0], dtype), levels_value(m.graph, "b", m.in_shapes[1], dtype)};
  m.node.outputs = {levels_value(m.graph, "y", m.out_shape, dtype)};
  m.graph.add_node(m.node);
  return m;
}

Shape at_batch(Shape s, int64_t n) {
  s[0] = n;
  return s;
}

TEST(CpuInt8Levels, MaxPoolsAndConcatsMoveLevelsAsTheReferenceDoes) {
  const auto backend = cpu::make_cpu_backend();
  const cpu::CpuDevice device;
  auto stream = device.create_stream().value();
  for (const DataType dtype : {DataType::kUint8, DataType::kInt8})
  for (LevelsMover m : {levels_max_pool(dtype), levels_concat(dtype)}) {
    const std::string name = m.node.name + " " + to_string(dtype);
    ASSERT_TRUE(backend->supports(m.graph, m.node)) << name;
    auto packed = backend->pack(m.graph, m.node);
    ASSERT_TRUE(packed.is_ok()) << name << ": " << packed.status().message();
    auto kernel = packed.value()->create_kernel().value();
    for (const int64_t n : {1, 3}) {
      std::vector<Tensor> xs;
      std::vector<ConstTensorView> in;
      for (size_t i = 0; i < m.in_shapes.size(); ++i) {
        const Shape shape = at_batch(m.in_shapes[i], n);
        xs.push_back(input_at(dtype, n, Geometry{shape[1], 0, shape[2], 0}, static_cast<uint32_t>(20 + i + n)));
      }
      for (size_t i = 0; i < xs.size(); ++i) {
        const Shape shape = at_batch(m.in_shapes[i], n);
        in.emplace_back(xs[i].raw(), shape, nhwc_strides(shape), dtype);
      }
      const Shape y_shape = at_batch(m.out_shape, n);
      Tensor y(dtype, y_shape), expected(dtype, y_shape);
      const std::vector<TensorView> out{{y.raw(), y_shape, nhwc_strides(y_shape), dtype}},
          ref_out{{expected.raw(), y_shape, nhwc_strides(y_shape), dtype}};
      ASSERT_TRUE(kernel->reshape(in, out).is_ok()) << name;
      auto workspace = device.allocate(kernel->workspace_bytes(), MemoryKind::kHost).value();
      const Status ran = kernel->enqueue(in, out, EnqueueContext{*stream, workspace.data(), workspace.bytes()});
      ASSERT_TRUE(ran.is_ok()) << name << ": " << ran.message();
      ref::reference_kernel(m.node.op)(m.node.attrs, in, ref_out);
      ASSERT_EQ(std::memcmp(y.raw(), expected.raw(), y.byte_size()), 0) << name << " batch " << n;
    }
  }
}

}  // namespace
}  // namespace inferd::test
