// Plans the fuzzer (tests/fuzz/plan_load_fuzzer.cc) found the reader accepting although
// the builder never writes them: each must be refused as corrupt, naming what is wrong.
#include <gtest/gtest.h>

#include <algorithm>

#include "core/version.h"
#include "plan/plan.h"
#include "support/test_util.h"

namespace inferd {
namespace {

ir::ValueId add_activation(ir::Graph& g, const std::string& name, const Shape& shape) {
  ir::Value v;
  v.name = name;
  v.shape = shape;
  return g.add_value(std::move(v));
}

ir::Node& add_node(ir::Graph& g, const std::string& name, ir::OpKind op, std::vector<ir::ValueId> inputs,
                   ir::ValueId output) {
  ir::Node n;
  n.name = name;
  n.op = op;
  n.inputs = std::move(inputs);
  n.outputs = {output};
  return g.add_node(std::move(n));
}

Plan empty_plan() {
  Plan plan;
  plan.header.engine_version = kEngineVersion;
  plan.header.target = "x86_64";
  plan.header.max_batch = 32;
  return plan;
}

// x -> Relu -> y: x of `shape`, y stored as `y_shape` (default: the same).
std::vector<uint8_t> relu_plan(const Shape& shape, const Shape& y_shape = {}) {
  Plan plan = empty_plan();
  ir::Graph& g = plan.graph;
  const ir::ValueId x = add_activation(g, "x", shape);
  const ir::ValueId y = add_activation(g, "y", y_shape.empty() ? shape : y_shape);
  add_node(g, "relu", ir::OpKind::kRelu, {x}, y);
  g.inputs = {x};
  g.outputs = {y};
  return serialize_plan(plan);
}

// x [N,4,5,5] -> Conv (3x3 weights, seeded random) -> y [N,4,3,3]; `edit` breaks it.
template <typename Edit>
std::vector<uint8_t> conv_plan(Edit edit) {
  Plan plan = empty_plan();
  ir::Graph& g = plan.graph;
  const ir::ValueId x = add_activation(g, "x", {kDynamicDim, 4, 5, 5});
  const ir::ValueId w = g.add_constant("w", test::random_tensor({4, 4, 3, 3}, 5));
  const ir::ValueId y = add_activation(g, "y", {kDynamicDim, 4, 3, 3});
  ir::Node& conv = add_node(g, "c1", ir::OpKind::kConv, {x, w}, y);
  conv.attrs.set("strides", std::vector<int64_t>{1, 1});
  conv.attrs.set("pads", std::vector<int64_t>{0, 0, 0, 0});
  conv.attrs.set("dilations", std::vector<int64_t>{1, 1});
  conv.attrs.set("group", int64_t{1});
  g.inputs = {x};
  g.outputs = {y};
  edit(g);
  return serialize_plan(plan);
}

std::string load_error(const std::vector<uint8_t>& bytes) {
  auto loaded = deserialize_plan(bytes, "bad.plan");
  if (loaded.is_ok()) return "(loaded)";
  EXPECT_EQ(loaded.status().code(), StatusCode::kDataLoss) << loaded.status().message();
  return loaded.status().message();
}

TEST(PlanRegression, ValidPlansStillLoad) {
  auto loaded = deserialize_plan(relu_plan({kDynamicDim, 3, 17, 5}), "ok.plan");
  ASSERT_TRUE(loaded.is_ok()) << loaded.status().message();
  EXPECT_EQ(loaded->graph.value(0).shape, (Shape{kDynamicDim, 3, 17, 5}));
  EXPECT_EQ(load_error(conv_plan([](ir::Graph&) {})), "(loaded)");
}

// Fuzzer: UBSan signed overflow in the CPU backend's Conv packing (dnnl_conv.cc), which
// trusted the plan's attributes; the importer never lets such a group through.
TEST(PlanRegression, ConvWithAnInvalidGroupIsCorrupt) {
  const auto bytes = conv_plan([](ir::Graph& g) { g.nodes()[0].attrs.set("group", int64_t{-3314649325744685055}); });
  EXPECT_EQ(load_error(bytes), "bad.plan: corrupt plan: node 'c1' (Conv): group -3314649325744685055 is invalid");
}

// Fuzzer: a Conv output stored as [N,8,33554435,3] where its inputs give [N,8,3,3]; the
// arena was sized from the stored shape (103 GB: ASan out-of-memory), and kernels bound
// to such shapes read and write outside their buffers.
TEST(PlanRegression, OutputShapeTheInputsDoNotGiveIsCorrupt) {
  EXPECT_EQ(load_error(relu_plan({kDynamicDim, 3, 4, 4}, {kDynamicDim, 3, 4, 40})),
            "bad.plan: corrupt plan: node 'relu' (Relu) stores 'y' as float32[N,3,4,40] but its inputs give "
            "float32[N,3,4,4]");
}

TEST(PlanRegression, ReadBeforeWriteIsCorrupt) {
  const auto bytes = conv_plan([](ir::Graph& g) {
    const ir::ValueId z = add_activation(g, "z", {kDynamicDim, 4, 3, 3});
    add_node(g, "r", ir::OpKind::kRelu, {z}, g.outputs[0]);
    g.nodes()[0].outputs = {z};
    std::rotate(g.nodes().begin(), g.nodes().end() - 1, g.nodes().end());  // r, which reads z, before the Conv
  });
  EXPECT_EQ(load_error(bytes), "bad.plan: corrupt plan: node 'r' (Relu) reads 'z' before any node writes it");
}

// An alias into itself made the memory planner's alias walk loop for ever (a hang at
// load); an alias past its target's channels made views point outside the arena.
TEST(PlanRegression, AliasCycleOrOutsideItsTargetIsCorrupt) {
  EXPECT_EQ(load_error(conv_plan([](ir::Graph& g) { g.value(g.outputs[0]).alias_of = g.outputs[0]; })),
            "bad.plan: corrupt plan: 'y' aliased into 'y': only a computed value may live inside another, which "
            "lives in none");
  const auto past_the_end = conv_plan([](ir::Graph& g) {
    const ir::ValueId big = add_activation(g, "big", {kDynamicDim, 6, 3, 3});
    g.value(g.outputs[0]).alias_of = big;
    g.value(g.outputs[0]).alias_channel_offset = 3;  // channels 3..6 of 6
  });
  EXPECT_EQ(load_error(past_the_end), "bad.plan: corrupt plan: 'y' aliased into 'big': channels 3+4 are outside its 6");
}

// Every dim within 2^31 but 2^33 elements per sample: at max batch 32 a 1 TiB arena,
// which the server tried to allocate (fuzzer: AddressSanitizer out-of-memory in
// ExecutionContext's aligned_alloc). With 8 such dims the byte count overflowed int64.
TEST(PlanRegression, ValueOverTwoToThe31ElementsPerSampleIsCorrupt) {
  auto loaded = deserialize_plan(relu_plan({kDynamicDim, 65536, 65536, 2}), "huge.plan");
  ASSERT_FALSE(loaded.is_ok());
  EXPECT_EQ(loaded.status().code(), StatusCode::kDataLoss);
  EXPECT_EQ(loaded.status().message(), "huge.plan: corrupt plan: 'x' has more than 2^31 elements per sample");
}

// Only dim 0 is ever the batch; a dynamic dim elsewhere was counted as max_batch.
TEST(PlanRegression, DynamicDimOutsideTheBatchAxisIsCorrupt) {
  auto loaded = deserialize_plan(relu_plan({1, 3, kDynamicDim, 5}), "dyn.plan");
  ASSERT_FALSE(loaded.is_ok());
  EXPECT_EQ(loaded.status().code(), StatusCode::kDataLoss);
  EXPECT_EQ(loaded.status().message(), "dyn.plan: corrupt plan: bad dim -1 at 2 in 'x'");
}

}  // namespace
}  // namespace inferd
