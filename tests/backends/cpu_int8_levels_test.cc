// The CPU backend's INT8 convolution reading and writing u8/s8 levels (int8_storage) against
// the reference kernel (support/int8_levels_conv.h), and its max pools and Concats moving
// levels.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>

#include "backends/cpu/cpu_backend.h"
#include "backends/cpu/cpu_device.h"
#include "backends/reference/reference.h"
#include "core/quantize.h"
#include "support/int8_levels_cases.h"
#include "support/int8_levels_conv.h"
#include "support/test_util.h"

namespace inferd::test {
namespace {

using ir::OpKind;

TEST(CpuInt8Levels, ConvolutionsReadAndWriteLevelsAsTheReferenceDoes) {
  check_levels_convolutions(*cpu::make_cpu_backend());
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
