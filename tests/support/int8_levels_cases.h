// The INT8 convolutions over u8/s8 levels that the CPU and CUDA backends' level tests share
// (support/int8_levels_conv.h) and the level movers' inputs.
#pragma once

#include <random>

#include "core/quantize.h"
#include "ir/graph.h"
#include "support/test_util.h"

namespace inferd::test {

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
    node.op = ir::OpKind::kConv;
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
inline Tensor input_at(DataType dtype, int64_t n, const Geometry& geo, uint32_t seed) {
  Tensor t(dtype, {n, geo.h, geo.h, geo.c});  // NHWC storage
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> level(dtype == DataType::kUint8 ? 0 : -128, dtype == DataType::kUint8 ? 255 : 127);
  std::uniform_real_distribution<float> value(-3.0f, 3.0f);
  for (int64_t i = 0; i < t.size(); ++i) {
    if (dtype == DataType::kUint8)
      t.data<uint8_t>()[i] = static_cast<uint8_t>(level(rng));
    else if (dtype == DataType::kInt8)
      t.data<int8_t>()[i] = static_cast<int8_t>(level(rng));
    else
      t.data<float>()[i] = value(rng);
  }
  return t;
}

inline float element(const Tensor& t, int64_t i, float level_scale) {
  if (t.dtype() == DataType::kUint8) return t.data<uint8_t>()[i] * level_scale;
  if (t.dtype() == DataType::kInt8) return t.data<int8_t>()[i] * level_scale;
  return t.data<float>()[i];
}

}  // namespace inferd::test
