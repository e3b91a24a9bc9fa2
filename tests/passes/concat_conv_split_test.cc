#include "passes/concat_conv_split.h"

#include <gtest/gtest.h>

#include "import/onnx/onnx_importer.h"
#include "passes/conv_activation_fusion.h"
#include "passes/conv_add_fusion.h"
#include "passes/fixtures.h"
#include "passes/pass_manager.h"
#include "support/test_util.h"

namespace inferd::test {
namespace {

using ir::OpKind;

// Runs the fusions the split comes after (so R and the activation sit on the Conv),
// then the split; checks the function is unchanged and returns the split's changes.
std::vector<std::string> fuse_then_split(ir::Graph& g, const passes::PassContext& ctx = test_context()) {
  const ir::Graph before = g;
  run_pass(passes::ConvAddFusion(), g, ctx);
  run_pass(passes::ConvActivationFusion(), g, ctx);
  auto changes = run_pass(passes::ConcatConvSplit(), g, ctx);
  expect_same_function(before, g);
  return changes;
}

const Shape& shape_of(const ir::Graph& g, ir::ValueId id) { return g.value(id).shape; }

TEST(ConcatConvSplit, SplitsATwoInputConcatIntoAChainOfConvs) {
  GraphBuilder b("two_inputs", 21);
  const ir::ValueId x = b.input("x", {1, 4, 6, 6});
  const ir::ValueId e1 = b.conv("expand1", x, 6, 1);
  const ir::ValueId e3 = b.conv("expand3", x, 5, 3, 1, 1);
  b.output(b.relu("relu", b.conv("mix", b.concat("cat", {e1, e3}), 7, 1)));
  ir::Graph g = b.finish();
  const auto changes = fuse_then_split(g);
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_EQ(count_ops(g, OpKind::kConcat), 0u);
  EXPECT_EQ(count_ops(g, OpKind::kConv), 4u);
  const ir::Node* first = find_node(g, "mix_part1");
  const ir::Node* last = find_node(g, "mix");
  ASSERT_NE(first, nullptr);
  ASSERT_NE(last, nullptr);
  // The first Conv: x1 with W[:, 0:6] and the bias, no activation, no residual.
  ASSERT_EQ(first->inputs.size(), 3u);
  EXPECT_EQ(g.value(first->inputs[0]).name, "expand1_out");
  EXPECT_EQ(shape_of(g, first->inputs[1]), (Shape{7, 6, 1, 1}));
  EXPECT_EQ(g.value(first->inputs[2]).name, "mix_b");
  EXPECT_FALSE(first->attrs.has("activation"));
  // The last: x2 with W[:, 6:11], no bias, the first's output as residual, the Relu.
  ASSERT_EQ(last->inputs.size(), 4u);
  EXPECT_EQ(g.value(last->inputs[0]).name, "expand3_out");
  EXPECT_EQ(shape_of(g, last->inputs[1]), (Shape{7, 5, 1, 1}));
  EXPECT_EQ(last->inputs[2], ir::kNoValue);
  EXPECT_EQ(last->inputs[3], first->outputs[0]);
  EXPECT_EQ(last->attrs.get_string("activation", ""), "Relu");
  EXPECT_EQ(g.value(last->outputs[0]).name, "relu_out");  // the output keeps its value
  EXPECT_EQ(g.value(g.outputs[0]).name, "relu_out");
}

TEST(ConcatConvSplit, SplitsAThreeInputConcatWithDynamicBatch) {
  GraphBuilder b("three_inputs", 22);
  const ir::ValueId x1 = b.input("x1", {kDynamicDim, 3, 5, 5});
  const ir::ValueId x2 = b.input("x2", {kDynamicDim, 4, 5, 5});
  const ir::ValueId x3 = b.relu("r3", b.input("x3", {kDynamicDim, 2, 5, 5}));
  b.output(b.relu("relu", b.conv("mix", b.concat("cat", {x1, x2, x3}), 6, 1)));
  ir::Graph g = b.finish();
  ASSERT_EQ(fuse_then_split(g).size(), 1u);
  EXPECT_EQ(count_ops(g, OpKind::kConcat), 0u);
  EXPECT_EQ(count_ops(g, OpKind::kConv), 3u);
  const ir::Node* p1 = find_node(g, "mix_part1");
  const ir::Node* p2 = find_node(g, "mix_part2");
  const ir::Node* last = find_node(g, "mix");
  ASSERT_TRUE(p1 && p2 && last);
  EXPECT_EQ(shape_of(g, p1->inputs[1]), (Shape{6, 3, 1, 1}));
  EXPECT_EQ(shape_of(g, p2->inputs[1]), (Shape{6, 4, 1, 1}));
  EXPECT_EQ(shape_of(g, last->inputs[1]), (Shape{6, 2, 1, 1}));
  ASSERT_EQ(p2->inputs.size(), 4u);
  EXPECT_EQ(p2->inputs[3], p1->outputs[0]);
  EXPECT_EQ(last->inputs[3], p2->outputs[0]);
  EXPECT_FALSE(p2->attrs.has("activation"));
  EXPECT_EQ(shape_of(g, p2->outputs[0]), (Shape{kDynamicDim, 6, 5, 5}));
}

TEST(ConcatConvSplit, KeepsAResidualAlreadyOnTheConv) {
  GraphBuilder b("residual", 23);
  const ir::ValueId x1 = b.input("x1", {2, 3, 4, 4});
  const ir::ValueId x2 = b.input("x2", {2, 5, 4, 4});
  const ir::ValueId r = b.input("r", {2, 6, 4, 4});
  const ir::ValueId mix = b.conv("mix", b.concat("cat", {x1, x2}), 6, 1);
  b.output(b.relu("relu", b.add("add", mix, r)));
  ir::Graph g = b.finish();
  ASSERT_EQ(fuse_then_split(g).size(), 1u);
  const ir::Node* first = find_node(g, "mix_part1");
  const ir::Node* last = find_node(g, "mix");
  ASSERT_TRUE(first && last);
  ASSERT_EQ(first->inputs.size(), 4u);
  EXPECT_EQ(g.value(first->inputs[3]).name, "r");  // R is added once, by the first
  EXPECT_EQ(last->inputs[3], first->outputs[0]);
  EXPECT_EQ(last->attrs.get_string("activation", ""), "Relu");
  EXPECT_EQ(count_ops(g, OpKind::kAdd), 0u);
}

TEST(ConcatConvSplit, SplitsAStridedPointwiseConvWithoutBias) {
  GraphBuilder b("strided", 24);
  const ir::ValueId x1 = b.relu("r1", b.input("x1", {1, 4, 7, 7}));
  const ir::ValueId x2 = b.relu("r2", b.input("x2", {1, 3, 7, 7}));
  b.output(b.conv("mix", b.concat("cat", {x1, x2}), 5, 1, /*stride=*/2, 0, /*bias=*/false));
  ir::Graph g = b.finish();
  ASSERT_EQ(fuse_then_split(g).size(), 1u);
  const ir::Node* first = find_node(g, "mix_part1");
  ASSERT_NE(first, nullptr);
  EXPECT_EQ(first->inputs.size(), 2u);  // neither bias nor residual
  EXPECT_EQ(shape_of(g, first->outputs[0]), (Shape{1, 5, 4, 4}));
  EXPECT_EQ(count_ops(g, OpKind::kConcat), 0u);
}

TEST(ConcatConvSplit, LeavesConcatsAndConvsThatDoNotQualify) {
  GraphBuilder b("left_alone", 25);
  const ir::ValueId x1 = b.input("x1", {1, 4, 6, 6});
  const ir::ValueId x2 = b.input("x2", {1, 4, 6, 6});
  // Two readers: the Concat must stay for the second one.
  const ir::ValueId shared = b.concat("cat_shared", {x1, x2});
  b.output(b.conv("mix_shared", shared, 3, 1));
  b.output(b.relu("relu_shared", shared));
  // A 3x3 reader, a grouped 1x1 reader, a padded 1x1 reader.
  b.output(b.conv("mix3x3", b.concat("cat_3x3", {x1, x2}), 3, 3, 1, 1));
  b.output(b.conv("mix_grouped", b.concat("cat_grouped", {x1, x2}), 4, 1, 1, 0, true, /*group=*/2));
  b.output(b.conv("mix_padded", b.concat("cat_padded", {x1, x2}), 3, 1, 1, /*pad=*/1));
  // A Concat that is also a graph output.
  const ir::ValueId out = b.concat("cat_output", {x1, x2});
  b.output(b.conv("mix_output", out, 3, 1));
  b.output(out);
  // A Concat along another axis.
  b.output(b.conv("mix_axis2", b.concat("cat_axis2", {x1, x2}, 2), 3, 1));
  ir::Graph g = b.finish();
  EXPECT_TRUE(fuse_then_split(g).empty());
  EXPECT_EQ(count_ops(g, OpKind::kConcat), 6u);
  EXPECT_EQ(count_ops(g, OpKind::kConv), 6u);
}

TEST(ConcatConvSplit, LeavesTheConvWhenTheBackendRejectsTheChain) {
  GraphBuilder b("unsupported", 26);
  const ir::ValueId x1 = b.input("x1", {1, 4, 6, 6});
  const ir::ValueId x2 = b.input("x2", {1, 2, 6, 6});
  b.output(b.conv("mix", b.concat("cat", {x1, x2}), 3, 1));
  ir::Graph g = b.finish();
  BackendAnswers no;
  no.fuse = false;
  EXPECT_TRUE(run_pass(passes::ConcatConvSplit(), g, test_context(no)).empty());
  EXPECT_EQ(count_ops(g, OpKind::kConcat), 1u);
  EXPECT_EQ(g.value_count(), 6u);  // x1, x2, cat, W, B, mix: no leftover weight slices
}

TEST(ConcatConvSplit, SqueezeNetHasNoConcatLeftBeforeAPointwiseConv) {
  // The repository's model, byte-identical to the assets' squeezenet1.1_fp32_dynbatch_opset13.onnx:
  // the test runs from a bare clone too.
  const std::string path = source_dir() + "/models/squeezenet/1/model.onnx";
  auto imported = import_onnx(path);
  ASSERT_TRUE(imported.is_ok()) << imported.status().message();
  ir::Graph g = *imported;
  auto reports = passes::optimize(g, test_context());
  ASSERT_TRUE(reports.is_ok()) << reports.status().message();
  expect_shapes_valid(g);
  size_t splits = 0;
  for (const auto& r : *reports)
    if (r.pass == "concat_conv_split") splits += r.changes.size();  // runs twice (again after INT8 folding)
  // fire2, fire4, fire6, fire7, fire8 into the next squeeze; fire9 into conv10. The
  // Concats of fire3 and fire5 feed a MaxPool and stay.
  EXPECT_EQ(splits, 6u);
  EXPECT_EQ(count_ops(g, OpKind::kConcat), 2u);
  for (const auto& n : g.nodes()) {
    if (n.op != OpKind::kConcat) continue;
    for (size_t reader : g.consumers(n.outputs[0])) {
      const ir::Node& r = g.nodes()[reader];
      const bool pointwise_conv = r.op == OpKind::kConv && g.value(r.inputs[1]).shape[2] == 1;
      EXPECT_FALSE(pointwise_conv) << n.name << " feeds " << r.name;
    }
  }
  expect_same_function(*imported, g, 1e-4f, /*relative=*/true);
}

}  // namespace
}  // namespace inferd::test
