// The whole optimizer on the real SqueezeNet 1.1 (opset 13, dynamic batch): the
// imported graph and the optimized one must compute the same probabilities.
#include <gtest/gtest.h>

#include "import/onnx/onnx_importer.h"
#include "passes/fixtures.h"
#include "passes/pass_manager.h"
#include "support/test_util.h"

namespace inferd::test {
namespace {

using ir::OpKind;

TEST(SqueezeNet, OptimizedGraphComputesTheSameProbabilities) {
  // The repository's model, byte-identical to the assets' squeezenet1.1_fp32_dynbatch_opset13.onnx:
  // the test runs from a bare clone too.
  const std::string path = source_dir() + "/models/squeezenet/1/model.onnx";
  auto imported = import_onnx(path);
  ASSERT_TRUE(imported.is_ok()) << imported.status().message();
  ir::Graph g = *imported;
  auto reports = passes::optimize(g, test_context());
  ASSERT_TRUE(reports.is_ok()) << reports.status().message();
  expect_shapes_valid(g);
  EXPECT_EQ(count_ops(g, OpKind::kIdentity), 0u);  // Dropout
  EXPECT_EQ(count_ops(g, OpKind::kRelu), 0u);      // fused into the Convs
  // Six fire Concats feed a 1x1 Conv and are split into it (concat_conv_split); the two
  // before a MaxPool (fire3, fire5) remain and write in place.
  EXPECT_EQ(count_ops(g, OpKind::kConcat), 2u);
  for (const auto& n : g.nodes()) {
    if (n.op != OpKind::kConcat) continue;
    EXPECT_EQ(n.attrs.get_int("in_place", 0), 1) << n.name;
  }
  expect_same_function(*imported, g, 1e-5f);
}

}  // namespace
}  // namespace inferd::test
