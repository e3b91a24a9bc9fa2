#include "passes/fixtures.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "backends/api/backend.h"
#include "backends/reference/reference.h"
#include "ir/shape_inference.h"
#include "support/reference_run.h"
#include "support/test_util.h"

namespace inferd::test {

using ir::OpKind;
using ir::ValueId;

GraphBuilder::GraphBuilder(std::string name, uint32_t seed) : seed_(seed) {
  g_.name = std::move(name);
}

ValueId GraphBuilder::input(const std::string& name, Shape shape) {
  ir::Value v;
  v.name = name;
  v.shape = std::move(shape);
  const ValueId id = g_.add_value(std::move(v));
  g_.inputs.push_back(id);
  return id;
}

ValueId GraphBuilder::weight(const std::string& name, Shape shape, float lo, float hi) {
  return g_.add_constant(name, random_tensor(shape, seed_++, lo, hi));
}

ValueId GraphBuilder::ints(const std::string& name, std::vector<int64_t> values, bool scalar) {
  Shape shape = scalar ? Shape{} : Shape{static_cast<int64_t>(values.size())};
  return g_.add_constant(name, Tensor::from_int64s(shape, values));
}

ValueId GraphBuilder::node(OpKind op, const std::string& name, std::vector<ValueId> inputs, ir::Attributes attrs) {
  ir::Value out;
  out.name = name + "_out";
  const ValueId out_id = g_.add_value(std::move(out));
  ir::Node& n = g_.add_node({name, op, std::move(inputs), {out_id}, std::move(attrs)});
  const Status s = ir::infer_node_shapes(g_, n);
  EXPECT_TRUE(s.is_ok()) << "fixture " << g_.name << ": " << s.message();
  return out_id;
}

ValueId GraphBuilder::conv(const std::string& name, ValueId x, int64_t out_channels, int64_t k, int64_t stride,
                           int64_t pad, bool bias, int64_t group) {
  const int64_t in_channels = g_.value(x).shape[1];
  const float bound = 1.0f / std::sqrt(static_cast<float>(in_channels / group * k * k));
  std::vector<ValueId> inputs{x, weight(name + "_w", {out_channels, in_channels / group, k, k}, -bound, bound)};
  if (bias) inputs.push_back(weight(name + "_b", {out_channels}));
  ir::Attributes a;
  a.set("strides", std::vector<int64_t>{stride, stride});
  a.set("pads", std::vector<int64_t>{pad, pad, pad, pad});
  a.set("dilations", std::vector<int64_t>{1, 1});
  a.set("group", group);
  return node(OpKind::kConv, name, std::move(inputs), std::move(a));
}

ValueId GraphBuilder::batchnorm(const std::string& name, ValueId x, int64_t channels) {
  const Shape c{channels};
  std::vector<ValueId> inputs{x, weight(name + "_gamma", c, 0.5f, 1.5f), weight(name + "_beta", c),
                              weight(name + "_mean", c), weight(name + "_var", c, 0.5f, 1.5f)};
  ir::Attributes a;
  a.set("epsilon", 1e-5f);
  return node(OpKind::kBatchNormalization, name, std::move(inputs), std::move(a));
}

ValueId GraphBuilder::concat(const std::string& name, std::vector<ValueId> xs, int64_t axis) {
  ir::Attributes a;
  a.set("axis", axis);
  return node(OpKind::kConcat, name, std::move(xs), std::move(a));
}

ValueId GraphBuilder::gemm(const std::string& name, ValueId a, int64_t k, int64_t n, bool trans_b, bool bias) {
  const float bound = 1.0f / std::sqrt(static_cast<float>(k));
  std::vector<ValueId> inputs{a, weight(name + "_w", trans_b ? Shape{n, k} : Shape{k, n}, -bound, bound)};
  if (bias) inputs.push_back(weight(name + "_c", {n}));
  ir::Attributes at;
  at.set("alpha", 1.0f);
  at.set("beta", 1.0f);
  at.set("transA", int64_t{0});
  at.set("transB", int64_t{trans_b ? 1 : 0});
  return node(OpKind::kGemm, name, std::move(inputs), std::move(at));
}

ValueId GraphBuilder::max_pool(const std::string& name, ValueId x, int64_t k, int64_t stride, int64_t pad) {
  ir::Attributes a;
  a.set("kernel_shape", std::vector<int64_t>{k, k});
  a.set("strides", std::vector<int64_t>{stride, stride});
  a.set("pads", std::vector<int64_t>{pad, pad, pad, pad});
  a.set("ceil_mode", int64_t{0});
  a.set("count_include_pad", int64_t{0});
  return node(OpKind::kMaxPool, name, {x}, std::move(a));
}

// --- fixtures ---------------------------------------------------------------

ir::Graph conv_bn_relu_chain() {
  GraphBuilder b("conv_bn_relu_chain", 11);
  const ValueId x = b.input("x", {2, 3, 8, 8});
  const ValueId bn0 = b.batchnorm("bn0", x, 3);
  const ValueId c1 = b.conv("conv1", bn0, 8, 3, 1, 1);
  const ValueId r1 = b.relu("relu1", b.batchnorm("bn1", c1, 8));
  const ValueId c2 = b.conv("conv2", r1, 8, 1, 1, 0, /*bias=*/false);
  ir::Attributes clip;
  clip.set("min", 0.0f);
  clip.set("max", 0.5f);
  b.output(b.node(OpKind::kClip, "clip2", {b.batchnorm("bn2", c2, 8)}, clip));
  const ValueId c3 = b.conv("conv3", r1, 4, 1);
  b.output(b.batchnorm("bn3", c3, 4));
  b.output(c3);
  return b.finish();
}

ir::Graph gemm_bn_graph() {
  GraphBuilder b("gemm_bn_graph", 12);
  const ValueId a = b.input("a", {3, 6});
  const ValueId g1 = b.gemm("gemm1", a, 6, 7, true, true);
  b.graph().nodes().back().attrs.set("beta", 0.5f);  // C is scaled: folding must keep that
  const ValueId r1 = b.relu("relu1", b.batchnorm("bn1", g1, 7));
  b.output(b.batchnorm("bn2", b.gemm("gemm2", r1, 7, 5, false, false), 5));
  ir::Attributes at;
  at.set("alpha", 0.75f);
  at.set("beta", 0.5f);
  at.set("transB", int64_t{1});
  const ValueId g3 = b.node(OpKind::kGemm, "gemm3", {r1, b.weight("gemm3_w", {5, 7}), b.weight("gemm3_c", {3, 5})}, at);
  b.output(b.batchnorm("bn3", g3, 5));
  return b.finish();
}

ir::Graph residual_block() {
  GraphBuilder b("residual_block", 13);
  const ValueId x = b.input("x", {2, 8, 6, 6});
  const ValueId ra = b.relu("relu_a", b.batchnorm("bn_a", b.conv("conv_a", x, 8, 3, 1, 1, false), 8));
  const ValueId nb = b.batchnorm("bn_b", b.conv("conv_b", ra, 8, 3, 1, 1, false), 8);
  const ValueId rb = b.relu("relu_b", b.add("add_b", nb, x));
  // Projection block: both Add operands come from Convs.
  const ValueId rc = b.relu("relu_c", b.batchnorm("bn_c", b.conv("conv_c", rb, 16, 3, 2, 1, false), 16));
  const ValueId nd = b.batchnorm("bn_d", b.conv("conv_d", rc, 16, 3, 1, 1, false), 16);
  const ValueId ns = b.batchnorm("bn_s", b.conv("conv_s", rb, 16, 1, 2, 0, false), 16);
  b.output(b.relu("relu_d", b.add("add_d", nd, ns)));
  return b.finish();
}

ir::Graph inception_block() {
  GraphBuilder b("inception_block", 14);
  const ValueId x = b.input("x", {1, 16, 7, 7});
  const ValueId b1 = b.relu("b1_relu", b.conv("b1_1x1", x, 8, 1));
  const ValueId b2r = b.relu("b2_reduce_relu", b.conv("b2_reduce", x, 6, 1));
  const ValueId b2 = b.relu("b2_relu", b.conv("b2_3x3", b2r, 8, 3, 1, 1));
  const ValueId b3r = b.relu("b3_reduce_relu", b.conv("b3_reduce", x, 4, 1));
  const ValueId b3 = b.relu("b3_relu", b.conv("b3_5x5", b3r, 4, 5, 1, 2));
  const ValueId b4 = b.relu("b4_relu", b.conv("b4_proj", b.max_pool("b4_pool", x, 3, 1, 1), 4, 1));
  b.output(b.concat("concat", {b1, b2, b3, b4}));
  return b.finish();
}

ir::Graph dead_branches_graph() {
  GraphBuilder b("dead_branches_graph", 15);
  const ValueId x = b.input("x", {2, 3, 5, 5});
  const ValueId d1 = b.node(OpKind::kIdentity, "dropout1", {b.conv("conv1", x, 4, 3, 1, 1)});
  const ValueId c2 = b.conv("conv2", b.relu("relu1", d1), 4, 1);
  b.output(b.node(OpKind::kIdentity, "out_copy", {c2}));
  b.node(OpKind::kSigmoid, "sigmoid_dead", {b.conv("conv_dead", x, 2, 1)});
  b.weight("unused_w", {4});
  return b.finish();
}

ir::Graph shape_chain_graph(int64_t batch, bool target_as_constant) {
  GraphBuilder b(batch == kDynamicDim ? "shape_chain_dynamic" : "shape_chain_static", 16);
  const ValueId x = b.input("x", {batch, 3, 4, 4});
  const ValueId c1 = b.conv("conv1", x, 4, 3, 1, 1);
  ValueId target;
  if (target_as_constant) {
    target = b.ints("target", {batch, -1});
  } else {
    ir::Attributes axis0;
    axis0.set("axis", int64_t{0});
    const ValueId shape = b.node(OpKind::kShape, "shape", {c1});
    const ValueId n = b.node(OpKind::kGather, "gather", {shape, b.ints("zero", {0}, true)}, axis0);
    ir::Attributes axes;
    axes.set("axes", std::vector<int64_t>{0});
    const ValueId n1 = b.node(OpKind::kUnsqueeze, "unsqueeze", {n}, axes);
    target = b.node(OpKind::kConcat, "target", {n1, b.ints("minus_one", {-1})}, axis0);
  }
  const ValueId flat = b.node(OpKind::kReshape, "reshape", {c1, target});
  // Gemm weights scaled by a constant Mul: float arithmetic on constants only.
  const ValueId w_raw = b.weight("w_raw", {5, 64}, -0.2f, 0.2f);
  const ValueId w = b.node(OpKind::kMul, "scale_w", {w_raw, b.weight("w_scale", {1}, 0.5f, 1.5f)});
  ir::Attributes at;
  at.set("transB", int64_t{1});
  b.output(b.node(OpKind::kGemm, "fc", {flat, w, b.weight("fc_c", {5})}, at));
  return b.finish();
}

// --- contexts -----------------------------------------------------------------

namespace {

bool is_one_of(OpKind op, std::initializer_list<OpKind> ops) {
  return std::find(ops.begin(), ops.end(), op) != ops.end();
}

Status evaluate_reference(const ir::Node& node, const std::vector<const Tensor*>& inputs,
                          std::vector<Tensor>& outputs) {
  const ref::ReferenceFn fn = ref::reference_kernel(node.op);
  if (!fn) return unimplemented("no reference kernel for " + std::string(ir::to_string(node.op)));
  std::vector<ConstTensorView> in;
  std::vector<TensorView> out;
  for (const Tensor* t : inputs)
    in.push_back(t ? ConstTensorView{t->raw(), t->shape(), dense_strides(t->shape()), t->dtype()} : ConstTensorView{});
  for (Tensor& t : outputs) out.push_back({t.raw(), t.shape(), dense_strides(t.shape()), t.dtype()});
  fn(node.attrs, in, out);
  return Status::ok();
}

}  // namespace

passes::PassContext test_context(const BackendAnswers& answers) {
  passes::PassContext ctx;
  ctx.supports = [answers](const ir::Graph&, const ir::Node&) { return answers.fuse; };
  ctx.preferred_layout = [answers](const ir::Graph&, const ir::Node& n) {
    const bool follows_conv = is_one_of(n.op, {OpKind::kConv, OpKind::kMaxPool, OpKind::kAveragePool, OpKind::kRelu,
                                               OpKind::kAdd, OpKind::kConcat, OpKind::kSlice});
    return follows_conv ? answers.conv_layout : ir::Layout::kNCHW;
  };
  ctx.supports_strided_output = [answers](const ir::Graph&, const ir::Node& n) {
    return answers.strided_conv_output && is_one_of(n.op, {OpKind::kConv, OpKind::kSlice, OpKind::kConcat});
  };
  if (answers.padded_window_merge)
    ctx.prefers_padded_window_merge = [](const ir::Graph&, const ir::Node&) { return true; };
  if (answers.evaluate) ctx.evaluate = evaluate_reference;
  return ctx;
}

// --- checks -----------------------------------------------------------------

size_t count_ops(const ir::Graph& g, OpKind op) {
  return static_cast<size_t>(
      std::count_if(g.nodes().begin(), g.nodes().end(), [op](const ir::Node& n) { return n.op == op; }));
}

const ir::Node* find_node(const ir::Graph& g, const std::string& name) {
  for (const auto& n : g.nodes())
    if (n.name == name) return &n;
  return nullptr;
}

void expect_same_function(const ir::Graph& before, const ir::Graph& after, float tol, bool relative, uint32_t seed) {
  ASSERT_EQ(before.inputs.size(), after.inputs.size());
  std::vector<Tensor> inputs;
  for (ValueId id : before.inputs) {
    Shape shape = before.value(id).shape;
    if (!shape.empty() && shape[0] == kDynamicDim) shape[0] = 2;
    inputs.push_back(random_tensor(shape, seed++));
  }
  auto expected = reference_run(before, inputs);
  ASSERT_TRUE(expected.is_ok()) << "before: " << expected.status().message();
  auto actual = reference_run(after, inputs);
  ASSERT_TRUE(actual.is_ok()) << "after: " << actual.status().message();
  ASSERT_EQ(actual->size(), expected->size());
  for (size_t i = 0; i < actual->size(); ++i) {
    const Tensor& e = (*expected)[i];
    const Tensor& a = (*actual)[i];
    ASSERT_EQ(a.shape(), e.shape()) << "output " << i;
    float worst = 0;
    for (size_t k = 0; k < e.floats().size(); ++k) {
      const float err = std::fabs(a.floats()[k] - e.floats()[k]);
      worst = std::max(worst, relative ? err / std::max(1.0f, std::fabs(e.floats()[k])) : err);
    }
    EXPECT_LE(worst, tol) << "output " << i << " ('" << after.value(after.outputs[i]).name << "')";
  }
}

void expect_shapes_valid(const ir::Graph& g) {
  ir::Graph copy = g;
  const Status s = ir::infer_shapes(copy);
  ASSERT_TRUE(s.is_ok()) << s.message();
  for (size_t i = 0; i < g.value_count(); ++i) {
    const auto id = static_cast<ValueId>(i);
    EXPECT_EQ(copy.value(id).shape, g.value(id).shape) << "value '" << g.value(id).name << "'";
    EXPECT_EQ(copy.value(id).dtype, g.value(id).dtype) << "value '" << g.value(id).name << "'";
  }
  for (ValueId id : g.outputs) EXPECT_EQ(g.value(id).layout, ir::Layout::kNCHW) << g.value(id).name;
  for (ValueId id : g.inputs) EXPECT_EQ(g.value(id).layout, ir::Layout::kNCHW) << g.value(id).name;
}

std::vector<std::string> run_pass(const passes::Pass& pass, ir::Graph& g, const passes::PassContext& ctx) {
  auto r = pass.run(g, ctx);
  EXPECT_TRUE(r.is_ok()) << pass.name() << ": " << r.status().message();
  if (!r.is_ok()) return {};
  expect_shapes_valid(g);
  return r->changes;
}

}  // namespace inferd::test
