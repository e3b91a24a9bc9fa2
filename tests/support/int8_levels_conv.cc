// The shared check of support/int8_levels_conv.h.
#include "support/int8_levels_conv.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <string>

#include "backends/reference/reference.h"
#include "core/quantize.h"
#include "support/int8_levels_cases.h"
#include "support/test_util.h"

namespace inferd::test {
namespace {

// The tensor in the device's working memory (a copy unless that is the host's).
struct WorkingCopy {
  Buffer buffer;
  void* data = nullptr;
};

WorkingCopy working_copy(const Device& device, Stream& stream, const Tensor& t) {
  WorkingCopy c;
  c.buffer = device.allocate(t.byte_size(), device.working_memory()).value();
  EXPECT_TRUE(device.copy(c.buffer.data(), t.raw(), t.byte_size(), stream).is_ok());
  EXPECT_TRUE(stream.synchronize().is_ok());
  c.data = c.buffer.data();
  return c;
}

Tensor read_back(const Device& device, Stream& stream, const WorkingCopy& c, DataType dtype, const Shape& shape) {
  Tensor t(dtype, shape);
  EXPECT_TRUE(device.copy(t.raw(), c.data, t.byte_size(), stream).is_ok());
  EXPECT_TRUE(stream.synchronize().is_ok());
  return t;
}

// One kernel of `c` at batches 1, 3, 1 against the reference.
void check_case(const Backend& backend, const LevelsCase& c, const Geometry& geo) {
  const Device& device = backend.device();
  auto stream = device.create_stream().value();
  const int64_t kC = geo.c, kM = geo.m, kH = geo.h;
  const std::string name = std::string(to_string(c.in)) + " -> " + to_string(c.out) + " " + std::to_string(geo.k) +
                           "x" + std::to_string(geo.k) + " " + std::to_string(kC) + "->" + std::to_string(kM);
  LevelsConv conv(c, geo);
  ASSERT_TRUE(backend.supports(conv.graph, conv.node)) << name;
  auto packed = backend.pack(conv.graph, conv.node);
  ASSERT_TRUE(packed.is_ok()) << name << ": " << packed.status().message();
  auto kernel = packed.value()->create_kernel().value();
  const Tensor& w = *conv.graph.value(conv.node.inputs[1]).constant;
  const Tensor& b = *conv.graph.value(conv.node.inputs[2]).constant;
  const WorkingCopy w_copy = working_copy(device, *stream, w), b_copy = working_copy(device, *stream, b);
  for (const int64_t n : {1, 3, 1}) {
    const Tensor x = input_at(c.in, n, geo, static_cast<uint32_t>(n + 10));
    const Shape x_shape{n, kC, kH, kH}, y_shape{n, kM, kH, kH};
    Tensor expected(c.out, {n, kH, kH, kM});
    const WorkingCopy x_copy = working_copy(device, *stream, x);
    const WorkingCopy y_copy = working_copy(device, *stream, Tensor(c.out, {n, kH, kH, kM}));
    const MemoryKind kind = device.working_memory();
    const std::vector<ConstTensorView> in{{x_copy.data, x_shape, nhwc_strides(x_shape), c.in, kind},
                                          {w_copy.data, w.shape(), dense_strides(w.shape()), w.dtype(), kind},
                                          {b_copy.data, b.shape(), dense_strides(b.shape()), b.dtype(), kind}};
    const std::vector<TensorView> out{{y_copy.data, y_shape, nhwc_strides(y_shape), c.out, kind}};
    ASSERT_TRUE(kernel->reshape(in, out).is_ok()) << name;
    auto workspace = device.allocate(kernel->workspace_bytes(), kind).value();
    const Status ran = kernel->enqueue(in, out, EnqueueContext{*stream, workspace.data(), workspace.bytes()});
    ASSERT_TRUE(ran.is_ok()) << name << ": " << ran.message();
    ASSERT_TRUE(stream->synchronize().is_ok()) << name;
    const Tensor y = read_back(device, *stream, y_copy, c.out, {n, kH, kH, kM});
    const std::vector<ConstTensorView> ref_in{{x.raw(), x_shape, nhwc_strides(x_shape), c.in},
                                              {w.raw(), w.shape(), dense_strides(w.shape())},
                                              {b.raw(), b.shape(), dense_strides(b.shape())}};
    const std::vector<TensorView> ref_out{{expected.raw(), y_shape, nhwc_strides(y_shape), c.out}};
    ref::reference_kernel(ir::OpKind::kConv)(conv.node.attrs, ref_in, ref_out);
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

}  // namespace

void check_levels_convolutions(const Backend& backend) {
  for (const Geometry& geo : kGeometries)
    for (const bool unsigned_grid : {true, false}) {
      const DataType levels = unsigned_grid ? DataType::kUint8 : DataType::kInt8;
      for (const LevelsCase c :
           {LevelsCase{levels, levels, unsigned_grid}, LevelsCase{DataType::kFloat32, levels, unsigned_grid},
            LevelsCase{levels, DataType::kFloat32, unsigned_grid}})
        check_case(backend, c, geo);
    }
}

}  // namespace inferd::test
