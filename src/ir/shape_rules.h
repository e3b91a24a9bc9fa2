// Internal to shape inference: the per-op rules and the context they work in.
// shape_inference.cc checks input counts and value ids before a rule runs, so a
// rule may read inputs [0, min_inputs) without further checks.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"
#include "ir/graph.h"

namespace inferd::ir::shape_rules {

using ::inferd::to_string;  // Shape and DataType; ir::to_string(OpKind) is found by ADL

class NodeShapes {
 public:
  NodeShapes(Graph& g, Node& n) : g_(g), n_(n) {}

  const Node& node() const { return n_; }
  const Attributes& attrs() const { return n_.attrs; }
  const Graph& graph() const { return g_; }
  size_t input_count() const { return n_.inputs.size(); }
  bool has_input(size_t i) const { return i < n_.inputs.size() && n_.inputs[i] != kNoValue; }
  const Value& input(size_t i) const { return g_.value(n_.inputs[i]); }
  const Shape& in_shape(size_t i) const { return input(i).shape; }

  // invalid_argument / unimplemented, prefixed with "node 'x' (Op): ".
  Status fail(const std::string& what) const;
  Status unsupported(const std::string& what) const;

  // "input 'x' [1,3,224,224]" for messages.
  std::string describe_input(size_t i) const;
  Status require_dtype(size_t i, DataType dtype) const;
  // fp32, or the fp16/bf16 a precision pass stores activations in.
  Status require_float(size_t i) const;
  // The dtype of the op's computation: that of its first activation (non-constant) input,
  // since weights stay fp32 when activations are stored in fp16/bf16.
  DataType activation_dtype() const;
  Status require_rank(size_t i, size_t rank) const;
  Status require_min_rank(size_t i, size_t rank) const;
  // Fails unless dim 0 of input i is static (for ops that need its value).
  Status require_static_batch(size_t i, const std::string& why) const;

  // Maps an axis attribute in [-rank, rank-1] (or [-rank, rank] with `inclusive_end`)
  // to a non-negative one; fails naming the attribute otherwise.
  Result<int64_t> axis(const std::string& attr, int64_t fallback, size_t rank,
                       bool inclusive_end = false) const;

  // Validates (dims >= 0, only dim 0 dynamic, element count within the cap) and sets
  // output 0.
  Status set_output(DataType dtype, Shape shape);

 private:
  Graph& g_;
  Node& n_;
};

using Rule = Status (*)(NodeShapes&);

// Neural-network ops (shape_rules_nn.cc).
Status conv(NodeShapes& s);
Status conv_transpose(NodeShapes& s);
Status pool(NodeShapes& s);      // AveragePool
Status max_pool(NodeShapes& s);  // MaxPool: fp32, or INT8 levels in and out
Status global_average_pool(NodeShapes& s);
Status gemm(NodeShapes& s);
Status matmul(NodeShapes& s);
Status batch_normalization(NodeShapes& s);
Status lrn(NodeShapes& s);
Status float_same_shape(NodeShapes& s);  // activations, Softmax
Status broadcast(NodeShapes& s);         // Add, Mul, Sum

// Quantization ops (shape_rules_quant.cc).
Status quantize_linear(NodeShapes& s);
Status dequantize_linear(NodeShapes& s);
Status fake_quantize(NodeShapes& s);

// Tensor-manipulation ops (shape_rules_tensor.cc).
Status same_shape(NodeShapes& s);
Status reorder(NodeShapes& s);  // Identity, Reorder
Status concat(NodeShapes& s);
Status flatten(NodeShapes& s);
Status reshape(NodeShapes& s);
Status transpose(NodeShapes& s);
Status squeeze(NodeShapes& s);
Status unsqueeze(NodeShapes& s);
Status pad(NodeShapes& s);
Status shape_of(NodeShapes& s);
Status gather(NodeShapes& s);
Status slice(NodeShapes& s);

// Small int64 tensors computed from shapes (shape_values.cc): the values of a constant,
// or of a Shape -> Gather/Squeeze/Unsqueeze/Concat chain, as ONNX's data propagation
// does, so a Reshape whose target shape is such a chain gets an output shape before
// constant folding runs. nullopt elements stand for the dynamic batch size.
struct IntValues {
  bool scalar = false;
  std::vector<std::optional<int64_t>> values;
};
std::optional<IntValues> evaluate_int_values(const Graph& g, ValueId id);

}  // namespace inferd::ir::shape_rules
