#include "ir/printer.h"

#include <gtest/gtest.h>

#include "graph_fixture.h"
#include "ir/shape_inference.h"

namespace inferd {
namespace {

using ir::OpKind;
using test::attrs;
using test::GraphFixture;
using Ints = std::vector<int64_t>;

TEST(Printer, OneLinePerNodeWithHeader) {
  GraphFixture f;
  f.g.name = "tiny";
  auto x = f.input("x", {kDynamicDim, 3, 8, 8});
  auto conv = f.node(OpKind::kConv, {x, f.weight("w", {4, 3, 3, 3}), f.weight("b", {4})},
                     attrs({{"strides", Ints{1, 1}}, {"pads", Ints{1, 1, 1, 1}}, {"dilations", Ints{1, 1}},
                            {"group", int64_t{1}}, {"activation", std::string("Relu")}}),
                     "conv1");
  auto leaky = f.node(OpKind::kLeakyRelu, {conv}, attrs({{"alpha", 0.1f}}), "act");
  auto shape = f.node(OpKind::kShape, {leaky}, {}, "s");
  f.g.outputs = {leaky, shape};
  f.g.nodes()[1].name = "leaky_node";
  ASSERT_TRUE(ir::infer_shapes(f.g).is_ok());
  EXPECT_EQ(ir::print_graph(f.g),
            "graph tiny\n"
            "inputs: %x[N,3,8,8]\n"
            "outputs: %act[N,4,8,8], %s[4]:int64\n"
            "%conv1[N,4,8,8] = Conv(%x[N,3,8,8], %w[4x3x3x3], %b[4]) {activation=Relu, dilations=[1,1], group=1, "
            "pads=[1,1,1,1], strides=[1,1]}\n"
            "%act[N,4,8,8] = LeakyRelu(%conv1[N,4,8,8]) {alpha=0.1}  # leaky_node\n"
            "%s[4]:int64 = Shape(%act[N,4,8,8])\n");
}

TEST(Printer, LayoutAliasAndAbsentInputs) {
  GraphFixture f;
  auto x = f.input("x", {1, 2, 4, 4});
  auto gemm_in = f.input("a", {1, 8});
  auto gemm = f.node(OpKind::kGemm, {gemm_in, f.weight("bw", {8, 2}), ir::kNoValue}, {}, "fc");
  auto part = f.node(OpKind::kRelu, {x}, {}, "part");
  auto cat = f.node(OpKind::kConcat, {part, x}, attrs({{"axis", int64_t{1}}}), "cat");
  ASSERT_TRUE(ir::infer_shapes(f.g).is_ok());
  f.g.value(part).alias_of = cat;
  f.g.value(part).alias_channel_offset = 0;
  f.g.value(x).layout = ir::Layout::kNHWC;
  EXPECT_EQ(ir::print_value(f.g, part), "%part[1,2,4,4]@%cat+0");
  EXPECT_EQ(ir::print_value(f.g, x), "%x[1,2,4,4]:nhwc");
  const std::string text = ir::print_graph(f.g);
  EXPECT_NE(text.find("%fc[1,2] = Gemm(%a[1,8], %bw[8x2], -)\n"), std::string::npos) << text;
  (void)gemm;
}

}  // namespace
}  // namespace inferd
