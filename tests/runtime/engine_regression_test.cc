// Engines the fuzzer (tests/fuzz) found being created for plans no machine can run.
#include <gtest/gtest.h>

#include <string>

#include "backends/api/registry.h"
#include "runtime/engine.h"
#include "support/model_env.h"

namespace inferd {
namespace {

ir::ValueId add_activation(ir::Graph& g, const std::string& name, const Shape& shape) {
  ir::Value v;
  v.name = name;
  v.shape = shape;
  return g.add_value(std::move(v));
}

// One Relu over 2^31 floats per sample at max batch 4096: a 32 TiB activation arena.
// Engine::create accepted it and every execution context then asked the allocator for it
// (and, now that contexts touch their arena, would be OOM-killed where overcommit lets the
// allocation through). It must fail at load, naming the size.
TEST(EngineRegression, ArenaLargerThanTheMachineIsRefusedAtCreate) {
  auto backend = create_backend("cpu", {}).value();
  Plan plan;
  plan.header.max_batch = 4096;
  plan.header.target = backend->device().target();
  ir::Graph& g = plan.graph;
  const Shape shape{kDynamicDim, int64_t{1} << 31};
  const ir::ValueId x = add_activation(g, "x", shape);
  const ir::ValueId y = add_activation(g, "y", shape);
  ir::Node relu;
  relu.name = std::string("relu");
  relu.op = ir::OpKind::kRelu;
  relu.inputs = {x};
  relu.outputs = {y};
  g.add_node(std::move(relu));
  g.inputs = {x};
  g.outputs = {y};
  auto engine = Engine::create(std::move(plan), backend);
  ASSERT_FALSE(engine.is_ok());
  EXPECT_EQ(engine.status().code(), StatusCode::kResourceExhausted);
  EXPECT_NE(engine.status().message().find("-byte activation arena at max batch 4096, more than this machine's"),
            std::string::npos)
      << engine.status().message();
}

}  // namespace
}  // namespace inferd
