// output_quantization_fusion: a FakeQuantize reading a Conv's private output becomes the
// Conv's output_* attributes and computes the same function on the reference kernels;
// everything it must not fuse stays as it was.
#include "passes/output_quantization_fusion.h"

#include <gtest/gtest.h>

#include "passes/conv_activation_fusion.h"
#include "passes/fixtures.h"
#include "support/test_util.h"

namespace inferd::test {
namespace {

using ir::OpKind;

// x -> conv a -> relu -> qa (uint8) -> depthwise conv d -> qd (int8, zero point 3) -> y.
ir::Graph quantized_chain() {
  GraphBuilder b("quantized_chain");
  const ir::ValueId x = b.input("x", {1, 4, 6, 6});
  const ir::ValueId r = b.relu("r", b.conv("a", x, 8, 3, 1, 1));
  const ir::ValueId qa = b.node(OpKind::kFakeQuantize, "qa", {r}, test::fake_quantize_attrs(0.01f, 0, 0, 255));
  const ir::ValueId d = b.conv("d", qa, 8, 3, 1, 1, true, /*group=*/8);
  b.output(b.node(OpKind::kFakeQuantize, "qd", {d}, test::fake_quantize_attrs(0.02f, 3, -128, 127)));
  return b.finish();
}

TEST(OutputQuantizationFusion, FoldsTheRoundingIntoTheConvolutionWritingIt) {
  ir::Graph g = quantized_chain();
  const ir::Graph before = g;
  run_pass(passes::ConvActivationFusion(), g, test_context());
  EXPECT_EQ(run_pass(passes::OutputQuantizationFusion(), g, test_context()).size(), 2u);
  EXPECT_EQ(count_ops(g, OpKind::kFakeQuantize), 0u);
  const ir::Node* a = find_node(g, "a");
  const ir::Node* d = find_node(g, "d");
  ASSERT_TRUE(a && d);
  EXPECT_EQ(a->attrs.get_string("activation", ""), "Relu");  // the rounding comes after it
  EXPECT_FLOAT_EQ(a->attrs.get_float("output_scale", 0), 0.01f);
  EXPECT_EQ(a->attrs.get_int("output_qmin", -1), 0);
  EXPECT_EQ(a->attrs.get_int("output_qmax", -1), 255);
  EXPECT_EQ(d->attrs.get_int("output_zero_point", 0), 3);
  EXPECT_EQ(d->attrs.get_int("output_qmin", 0), -128);
  EXPECT_EQ(g.outputs[0], d->outputs[0]);  // d now writes the graph output qd wrote
  // The reference conv rounds exactly as the FakeQuantize did: the same values.
  expect_same_function(before, g, 1e-6f, /*relative=*/true);
}

TEST(OutputQuantizationFusion, LeavesARoundingItCannotOwn) {
  {  // the backend says no: nothing changes
    ir::Graph g = quantized_chain();
    BackendAnswers no;
    no.fuse = false;
    EXPECT_TRUE(run_pass(passes::OutputQuantizationFusion(), g, test_context(no)).empty());
  }
  GraphBuilder b("unfusable");
  const ir::ValueId x = b.input("x", {1, 4, 6, 6});
  // The Conv's output has another reader, which wants it unrounded.
  const ir::ValueId shared = b.conv("shared", x, 4, 1);
  b.output(b.node(OpKind::kFakeQuantize, "q_shared", {shared}, test::fake_quantize_attrs(0.01f, 0, -128, 127)));
  b.output(b.relu("other_reader", shared));
  // The Conv's output is a graph output too.
  const ir::ValueId visible = b.conv("visible", x, 4, 1);
  b.output(visible);
  b.output(b.node(OpKind::kFakeQuantize, "q_visible", {visible}, test::fake_quantize_attrs(0.01f, 0, -128, 127)));
  // No Conv behind the FakeQuantize: a graph input, a Relu.
  b.output(b.node(OpKind::kFakeQuantize, "q_input", {x}, test::fake_quantize_attrs(0.01f, 0, -128, 127)));
  b.output(b.node(OpKind::kFakeQuantize, "q_relu", {b.relu("relu", x)}, test::fake_quantize_attrs(0.01f, 0, 0, 255)));
  ir::Graph g = b.finish();
  EXPECT_TRUE(run_pass(passes::OutputQuantizationFusion(), g, test_context()).empty());
  EXPECT_EQ(count_ops(g, OpKind::kFakeQuantize), 4u);
}

// x -> conv p -> v; v read by FakeQuantize q (-> float conv f) and by conv i, an INT8 layer
// quantizing v onto `i_grid` itself.
ir::Graph with_int8_sibling(float i_scale, int64_t i_qmin) {
  GraphBuilder b("sibling");
  const ir::ValueId x = b.input("x", {1, 4, 6, 6});
  const ir::ValueId v = b.conv("p", x, 8, 3, 1, 1);
  b.output(b.conv("f", b.node(OpKind::kFakeQuantize, "q", {v}, test::fake_quantize_attrs(0.02f, 0, -128, 127)), 4, 1));
  b.output(b.conv("i", v, 4, 3, 1, 1));
  ir::Graph g = b.finish();
  for (ir::Node& n : g.nodes())
    if (n.name == "i") {
      n.attrs.set("input_scale", i_scale);
      n.attrs.set("input_qmin", i_qmin);
      n.attrs.set("input_qmax", int64_t{127});
    }
  return g;
}

// The FakeQuantize left for a float reader becomes the rounding of the convolution writing
// its input even where an INT8 layer reads that input too, if that layer quantizes onto the
// same grid: it then reads rounded values, which it rounds to the same levels.
TEST(OutputQuantizationFusion, AnInt8SiblingOnTheSameGridReadsTheRoundedValues) {
  ir::Graph g = with_int8_sibling(0.02f, -128);
  const ir::Graph before = g;
  ASSERT_EQ(run_pass(passes::OutputQuantizationFusion(), g, test_context()).size(), 1u);
  EXPECT_EQ(count_ops(g, OpKind::kFakeQuantize), 0u);
  const ir::Node* p = find_node(g, "p");
  EXPECT_FLOAT_EQ(p->attrs.get_float("output_scale", 0), 0.02f);
  EXPECT_EQ(find_node(g, "i")->inputs[0], p->outputs[0]);
  EXPECT_EQ(find_node(g, "f")->inputs[0], p->outputs[0]);
  expect_same_function(before, g, 1e-6f, /*relative=*/true);
  // Another grid (scale or range): that layer needs the unrounded values.
  for (ir::Graph h : {with_int8_sibling(0.03f, -128), with_int8_sibling(0.02f, -127)}) {
    EXPECT_TRUE(run_pass(passes::OutputQuantizationFusion(), h, test_context()).empty());
    EXPECT_EQ(count_ops(h, OpKind::kFakeQuantize), 1u);
  }
}

}  // namespace
}  // namespace inferd::test
