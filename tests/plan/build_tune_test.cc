// The builder asks the backend's tune() once per kind of node (op, attributes, input and
// output dtypes, shapes, layouts, constness, placement) and stores the answer for every
// node alike: on the GPU, ResNet-50's repeated blocks are timed once.
#include <gtest/gtest.h>

#include <map>

#include "backends/api/registry.h"
#include "builder/builder.h"
#include "support/delegating_backend.h"

namespace inferd {
namespace {

// The CPU backend, with tune() answering a blob that names the node it was asked for.
class CountingBackend final : public test::DelegatingBackend {
 public:
  using DelegatingBackend::DelegatingBackend;
  Result<std::vector<uint8_t>> tune(const ir::Graph&, const ir::Node& n, const TuneOptions&) const override {
    ++asked[n.name];
    return std::vector<uint8_t>(n.name.begin(), n.name.end());
  }
  Result<std::unique_ptr<PackedOp>> pack(const ir::Graph& g, const ir::Node& n,
                                         const PackOptions& o) const override {
    return inner().pack(g, n, PackOptions{o.precision, {}});
  }
  mutable std::map<std::string, int> asked;
};

// data [N,3,8,8] -> Relu x3 -> MaxPool 2x2 -> Relu x2 -> output.
ir::Graph relus_and_a_pool() {
  ir::Graph g;
  auto value = [&g](const std::string& name, Shape shape) {
    ir::Value v;
    v.name = name;
    v.shape = std::move(shape);
    return g.add_value(v);
  };
  ir::ValueId prev = value("data", {kDynamicDim, 3, 8, 8});
  g.inputs.push_back(prev);
  auto add = [&](const std::string& name, ir::OpKind op, Shape out_shape, ir::Attributes attrs = {}) {
    const ir::ValueId out = value(name + "_out", std::move(out_shape));
    ir::Node n;
    n.name = name;
    n.op = op;
    n.inputs = {prev};
    n.outputs = {out};
    n.attrs = std::move(attrs);
    g.add_node(std::move(n));
    prev = out;
  };
  for (int i = 0; i < 3; ++i) add("big" + std::to_string(i), ir::OpKind::kRelu, {kDynamicDim, 3, 8, 8});
  ir::Attributes pool;
  pool.set("kernel_shape", std::vector<int64_t>{2, 2});
  pool.set("strides", std::vector<int64_t>{2, 2});
  add("pool", ir::OpKind::kMaxPool, {kDynamicDim, 3, 4, 4}, pool);
  for (int i = 0; i < 2; ++i) add("small" + std::to_string(i), ir::OpKind::kRelu, {kDynamicDim, 3, 4, 4});
  g.outputs.push_back(prev);
  return g;
}

TEST(BuildTune, NodesAlikeAreTunedOnceAndShareTheAnswer) {
  auto cpu = create_backend("cpu", {1, 0});
  ASSERT_TRUE(cpu.is_ok()) << cpu.status().message();
  CountingBackend backend(*cpu);
  auto built = optimize_graph(relus_and_a_pool(), backend, BuildOptions(4, "fp32"));
  ASSERT_TRUE(built.is_ok()) << built.status().message();
  const Plan& plan = built->plan;
  ASSERT_EQ(plan.node_choices.size(), plan.graph.nodes().size());
  // Every node asked at most once; of the Relus, only the first of each shape.
  for (const auto& [name, count] : backend.asked) EXPECT_EQ(count, 1) << name;
  for (const char* name : {"big0", "pool", "small0"}) EXPECT_EQ(backend.asked.count(name), 1u) << name;
  for (const char* name : {"big1", "big2", "small1"}) EXPECT_EQ(backend.asked.count(name), 0u) << name;
  std::map<std::string, std::string> answers;
  for (size_t i = 0; i < plan.graph.nodes().size(); ++i)
    answers[plan.graph.nodes()[i].name] = std::string(plan.node_choices[i].begin(), plan.node_choices[i].end());
  EXPECT_EQ(answers["big0"], "big0");
  EXPECT_EQ(answers["big1"], "big0");
  EXPECT_EQ(answers["big2"], "big0");
  EXPECT_EQ(answers["pool"], "pool");
  EXPECT_EQ(answers["small0"], "small0");
  EXPECT_EQ(answers["small1"], "small0");
}

}  // namespace
}  // namespace inferd
