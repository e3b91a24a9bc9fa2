// Tiny graphs for the pass tests, built in C++ (no model files), plus the checks
// every pass test makes: op counts, same numbers as before the pass (the reference
// interpreter is the oracle), and shapes that shape inference agrees with.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "ir/graph.h"
#include "passes/pass.h"

namespace inferd::test {

// Builds a graph node by node; every node's output shape comes from shape inference,
// so a fixture is valid exactly when the importer's graphs would be.
class GraphBuilder {
 public:
  explicit GraphBuilder(std::string name, uint32_t seed = 1);

  ir::ValueId input(const std::string& name, Shape shape);
  // A random float constant in [lo, hi) (fixed seed per builder, never all zeros).
  ir::ValueId weight(const std::string& name, Shape shape, float lo = -0.5f, float hi = 0.5f);
  ir::ValueId ints(const std::string& name, std::vector<int64_t> values, bool scalar = false);

  // A node with one output named `name`, attributes as given; shape inferred.
  ir::ValueId node(ir::OpKind op, const std::string& name, std::vector<ir::ValueId> inputs,
                   ir::Attributes attrs = {});
  // Conv with square kernel `k`, random weights (and bias), canonical attributes.
  ir::ValueId conv(const std::string& name, ir::ValueId x, int64_t out_channels, int64_t k, int64_t stride = 1,
                   int64_t pad = 0, bool bias = true, int64_t group = 1);
  // BatchNormalization with random gamma/beta/mean and positive variance.
  ir::ValueId batchnorm(const std::string& name, ir::ValueId x, int64_t channels);
  ir::ValueId relu(const std::string& name, ir::ValueId x) { return node(ir::OpKind::kRelu, name, {x}); }
  ir::ValueId add(const std::string& name, ir::ValueId a, ir::ValueId b) { return node(ir::OpKind::kAdd, name, {a, b}); }
  ir::ValueId concat(const std::string& name, std::vector<ir::ValueId> xs, int64_t axis = 1);
  ir::ValueId gemm(const std::string& name, ir::ValueId a, int64_t k, int64_t n, bool trans_b, bool bias);
  ir::ValueId max_pool(const std::string& name, ir::ValueId x, int64_t k, int64_t stride, int64_t pad);

  void output(ir::ValueId id) { g_.outputs.push_back(id); }
  ir::Graph& graph() { return g_; }
  ir::Graph finish() { return std::move(g_); }

 private:
  ir::Graph g_;
  uint32_t seed_;
};

// --- fixtures ---------------------------------------------------------------
// x -> bn0 (follows no conv) -> conv1 -> bn1 -> relu1 -> conv2 (no bias) -> bn2 -> clip2 = y;
// relu1 -> conv3 -> bn3 = y3 where conv3's output is also a graph output (not foldable).
ir::Graph conv_bn_relu_chain();
// a[3,6] -> gemm1 (transB=1, bias, beta 0.5) -> bn1 -> relu1 -> gemm2 (transB=0, no
// bias) -> bn2 = y; relu1 -> gemm3 (transB=1, alpha 0.75, full [3,5] C) -> bn3 = y3.
ir::Graph gemm_bn_graph();
// ResNet basic block: conv-bn-relu-conv-bn + shortcut -> relu, then a projection block.
ir::Graph residual_block();
// GoogLeNet inception: 1x1 / 1x1-3x3 / 1x1-5x5 / pool-1x1 branches -> concat.
ir::Graph inception_block();
// Live chain with Identity (dropout) nodes, an Identity writing the output, a dead
// branch, a dead constant.
ir::Graph dead_branches_graph();
// conv -> Shape -> Gather -> Unsqueeze -> Concat -> Reshape -> Gemm whose weights are
// Mul(w, scale) (static batch `batch`, or dynamic when batch == kDynamicDim). With
// `target_as_constant` the Reshape target is the constant [batch, -1] instead of the
// chain (same weights): the oracle for folding, as the interpreter cannot run Shape.
ir::Graph shape_chain_graph(int64_t batch, bool target_as_constant = false);

// --- contexts -----------------------------------------------------------------
struct BackendAnswers {
  bool fuse = true;                              // supports(): every node
  ir::Layout conv_layout = ir::Layout::kNHWC;    // preferred_layout() of conv-like nodes
  bool strided_conv_output = true;               // supports_strided_output() of Conv/Slice
  bool evaluate = true;                          // evaluate via the reference kernels
  bool padded_window_merge = false;              // prefers_padded_window_merge(): every node
};
// A pretend backend: Conv, pools, Relu, Add, Concat and Slice prefer `conv_layout`,
// everything else (Gemm, Flatten, GlobalAveragePool, ...) kNCHW; Conv, Slice and
// Concat may write channel slices.
passes::PassContext test_context(const BackendAnswers& answers = {});

// --- checks -----------------------------------------------------------------
size_t count_ops(const ir::Graph& g, ir::OpKind op);
const ir::Node* find_node(const ir::Graph& g, const std::string& name);
// Random inputs (fixed seed, dynamic batch = 2) through both graphs; every output
// must match within `tol`: absolute, or relative to max(1, |expected|) if `relative`.
void expect_same_function(const ir::Graph& before, const ir::Graph& after, float tol = 1e-4f,
                          bool relative = false, uint32_t seed = 7);
// Re-infers every shape on a copy and expects the same shapes and dtypes, graph
// outputs still NCHW-tagged and topological order (reference_run would fail otherwise).
void expect_shapes_valid(const ir::Graph& g);
// Runs `pass` on `g`, checks the contract, returns the changes.
std::vector<std::string> run_pass(const passes::Pass& pass, ir::Graph& g, const passes::PassContext& ctx);

}  // namespace inferd::test
