// time_node (backends/api/node_timing.h) on the CPU backend: a layer timed alone, in its
// float and INT8 versions, and the errors it must report rather than time.
#include "backends/api/node_timing.h"

#include <gtest/gtest.h>

#include <cmath>

#include "backends/cpu/cpu_backend.h"
#include "support/delegating_backend.h"
#include "support/test_util.h"

namespace inferd::test {
namespace {

using ir::OpKind;

// x [1, 16, 14, 14] -> 3x3 Conv (32 outputs, bias, pad 1) -> y; `int8` adds the INT8 input
// attributes quantized_layer_folding sets.
ir::Graph conv_graph(bool int8) {
  ir::Graph g;
  ir::Value x, y;
  x.name = "x";
  x.shape = {1, 16, 14, 14};
  y.name = "y";
  y.shape = {1, 32, 14, 14};
  ir::Node n;
  n.name = "conv";
  n.op = OpKind::kConv;
  n.inputs = {g.add_value(x), g.add_constant("w", random_tensor({32, 16, 3, 3}, 1)),
              g.add_constant("b", random_tensor({32}, 2))};
  n.outputs = {g.add_value(y)};
  n.attrs.set("kernel_shape", std::vector<int64_t>{3, 3});
  n.attrs.set("pads", std::vector<int64_t>{1, 1, 1, 1});
  if (int8) {
    n.attrs.set("input_scale", 1.0f / 127);
    n.attrs.set("input_qmin", int64_t{-128});
    n.attrs.set("input_qmax", int64_t{127});
  }
  g.inputs = {n.inputs[0]};
  g.outputs = {n.outputs[0]};
  g.add_node(std::move(n));
  return g;
}

TEST(NodeTiming, TimesAConvolutionInItsFloatAndInt8Versions) {
  const auto backend = cpu::make_cpu_backend();
  for (bool int8 : {false, true}) {
    const ir::Graph g = conv_graph(int8);
    for (int batch : {1, 4}) {
      NodeTimingOptions options;
      options.batch = batch;
      options.runs = 3;
      const Result<double> ms = time_node(*backend, g, g.nodes().front(), options);
      ASSERT_TRUE(ms.is_ok()) << ms.status().message();
      EXPECT_TRUE(std::isfinite(ms.value()) && ms.value() > 0) << ms.value();
    }
  }
}

TEST(NodeTiming, TheGraphItCameFromIsLeftAsItWas) {
  const auto backend = cpu::make_cpu_backend();
  const ir::Graph g = conv_graph(false);
  ASSERT_TRUE(time_node(*backend, g, g.nodes().front()).is_ok());
  EXPECT_EQ(g.value(g.nodes().front().inputs[0]).shape, (Shape{1, 16, 14, 14}));
  EXPECT_EQ(g.value(g.nodes().front().inputs[0]).layout, ir::Layout::kNCHW);
  EXPECT_EQ(g.value_count(), 4u);
}

TEST(NodeTiming, WhatCannotBeTimedIsAnErrorThatSaysWhy) {
  const auto backend = cpu::make_cpu_backend();
  ir::Graph g = conv_graph(false);
  NodeTimingOptions zero;
  zero.batch = 0;
  const Result<double> no_batch = time_node(*backend, g, g.nodes().front(), zero);
  ASSERT_FALSE(no_batch.is_ok());
  EXPECT_EQ(no_batch.status().code(), StatusCode::kInvalidArgument);

  ir::Node asymmetric = g.nodes().front();  // a grid the INT8 convolution refuses
  asymmetric.attrs.set("input_scale", -1.0f);
  const Result<double> refused = time_node(*backend, g, asymmetric);
  ASSERT_FALSE(refused.is_ok());
  EXPECT_NE(refused.status().message().find("conv"), std::string::npos) << refused.status().message();

  g.value(g.nodes().front().inputs[0]).dtype = DataType::kInt64;
  const Result<double> integers = time_node(*backend, g, g.nodes().front());
  ASSERT_FALSE(integers.is_ok());
  EXPECT_NE(integers.status().message().find("fp32 activations"), std::string::npos) << integers.status().message();
}

// The CPU backend, saying it stores activations in fp16 at "fp16", with kernels that record
// the dtypes of the views they are given (and compute nothing).
class HalfStoringBackend final : public DelegatingBackend {
 public:
  using DelegatingBackend::DelegatingBackend;
  Result<DataType> activation_dtype(std::string_view precision) const override {
    if (precision == "fp16") return DataType::kFloat16;
    return inner().activation_dtype(precision);
  }
  Result<std::unique_ptr<PackedOp>> pack(const ir::Graph&, const ir::Node&, const PackOptions&) const override {
    return std::unique_ptr<PackedOp>(new RecordingOp(&seen));
  }
  mutable std::vector<DataType> seen;  // every view's dtype at reshape, inputs then outputs

 private:
  class RecordingKernel final : public Kernel {
   public:
    explicit RecordingKernel(std::vector<DataType>* seen) : seen_(seen) {}
    Status reshape(std::span<const ConstTensorView> inputs, std::span<const TensorView> outputs) override {
      for (const auto& v : inputs) seen_->push_back(v.dtype);
      for (const auto& v : outputs) seen_->push_back(v.dtype);
      return Status::ok();
    }
    Status enqueue(std::span<const ConstTensorView>, std::span<const TensorView>, const EnqueueContext&) override {
      return Status::ok();
    }

   private:
    std::vector<DataType>* seen_;
  };
  class RecordingOp final : public PackedOp {
   public:
    explicit RecordingOp(std::vector<DataType>* seen) : seen_(seen) {}
    Result<std::unique_ptr<Kernel>> create_kernel() const override {
      return std::unique_ptr<Kernel>(new RecordingKernel(seen_));
    }
    std::string_view implementation() const override { return "recording"; }

   private:
    std::vector<DataType>* seen_;
  };
};

// A layer is timed on activations of the dtype the plan will store them in at the build's
// precision (fp16 on a GPU for an fp16 plan), not on the fp32 of the graph the passes see;
// constants stay as they are.
TEST(NodeTiming, ActivationsAreInThePlansDtypeAtThePrecision) {
  const HalfStoringBackend backend(cpu::make_cpu_backend());
  const ir::Graph g = conv_graph(false);
  NodeTimingOptions options;
  options.runs = 1;
  options.precision = "fp16";
  ASSERT_TRUE(time_node(backend, g, g.nodes().front(), options).is_ok());
  EXPECT_EQ(backend.seen,
            (std::vector<DataType>{DataType::kFloat16, DataType::kFloat32, DataType::kFloat32, DataType::kFloat16}));
  backend.seen.clear();
  options.precision = "fp32";
  ASSERT_TRUE(time_node(backend, g, g.nodes().front(), options).is_ok());
  EXPECT_EQ(backend.seen, (std::vector<DataType>(4, DataType::kFloat32)));
  // A precision the backend does not store activations in fails with its reason.
  options.precision = "fp16";
  EXPECT_FALSE(time_node(*cpu::make_cpu_backend(), g, g.nodes().front(), options).is_ok());
}

}  // namespace
}  // namespace inferd::test
