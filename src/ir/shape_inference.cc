#include "ir/shape_inference.h"

#include <array>
#include <limits>

#include "ir/shape_rules.h"

namespace inferd::ir {
namespace shape_rules {

Status NodeShapes::fail(const std::string& what) const {
  return invalid_argument(describe(g_, n_) + ": " + what);
}

Status NodeShapes::unsupported(const std::string& what) const {
  return unimplemented(describe(g_, n_) + ": " + what);
}

std::string NodeShapes::describe_input(size_t i) const {
  return "input '" + input(i).name + "' " + to_string(in_shape(i));
}

Status NodeShapes::require_float(size_t i) const {
  const DataType t = input(i).dtype;
  if (t == DataType::kFloat32 || t == DataType::kFloat16 || t == DataType::kBFloat16) return Status::ok();
  return fail(describe_input(i) + " is " + to_string(t) + ", expected a float type");
}

DataType NodeShapes::activation_dtype() const {
  for (size_t i = 0; i < input_count(); ++i)
    if (has_input(i) && !input(i).is_constant()) return input(i).dtype;
  return input(0).dtype;
}

Status NodeShapes::require_dtype(size_t i, DataType dtype) const {
  if (input(i).dtype == dtype) return Status::ok();
  return fail(describe_input(i) + " is " + to_string(input(i).dtype) + ", expected " + to_string(dtype));
}

Status NodeShapes::require_rank(size_t i, size_t rank) const {
  if (in_shape(i).size() == rank) return Status::ok();
  return fail(describe_input(i) + " has rank " + std::to_string(in_shape(i).size()) + ", expected " +
              std::to_string(rank));
}

Status NodeShapes::require_min_rank(size_t i, size_t rank) const {
  if (in_shape(i).size() >= rank) return Status::ok();
  return fail(describe_input(i) + " has rank " + std::to_string(in_shape(i).size()) + ", expected at least " +
              std::to_string(rank));
}

Status NodeShapes::require_static_batch(size_t i, const std::string& why) const {
  if (in_shape(i).empty() || in_shape(i)[0] != kDynamicDim) return Status::ok();
  return unsupported(why + " needs the concrete batch size of " + describe_input(i) +
                     "; give the model a fixed batch size");
}

Result<int64_t> NodeShapes::axis(const std::string& attr, int64_t fallback, size_t rank, bool inclusive_end) const {
  const int64_t value = attrs().get_int(attr, fallback);
  const auto r = static_cast<int64_t>(rank);
  if (value < -r || value > (inclusive_end ? r : r - 1))
    return fail(attr + "=" + std::to_string(value) + " is out of range for rank " + std::to_string(rank));
  return value < 0 ? value + r : value;
}

Status NodeShapes::set_output(DataType dtype, Shape shape) {
  int64_t count = 1;
  for (size_t d = 0; d < shape.size(); ++d) {
    if (shape[d] == kDynamicDim && d == 0) continue;
    if (shape[d] == kDynamicDim)
      return unsupported("the batch (dynamic dim 0) would move to dim " + std::to_string(d) + " of the output");
    if (shape[d] < 0) return fail("output dim " + std::to_string(d) + " would be negative (" +
                                  std::to_string(shape[d]) + ")");
    if (shape[d] > kMaxTensorElements || (shape[d] > 0 && count > kMaxTensorElements / shape[d]))
      return fail("output " + to_string(shape) + " has more than 2^31 elements");
    count *= shape[d];
  }
  Value& out = g_.value(n_.outputs[0]);
  out.dtype = dtype;
  out.shape = std::move(shape);
  return Status::ok();
}

}  // namespace shape_rules

namespace {

constexpr size_t kVariadic = std::numeric_limits<size_t>::max();

struct OpRule {
  OpKind op;
  size_t min_inputs;
  size_t max_inputs;
  shape_rules::Rule rule;
};

namespace sr = shape_rules;
constexpr std::array<OpRule, 36> kRules{{
    {OpKind::kConv, 2, 4, sr::conv},
    {OpKind::kConvTranspose, 2, 3, sr::conv_transpose},
    {OpKind::kRelu, 1, 1, sr::float_same_shape},
    {OpKind::kClip, 1, 1, sr::float_same_shape},
    {OpKind::kLeakyRelu, 1, 1, sr::float_same_shape},
    {OpKind::kSigmoid, 1, 1, sr::float_same_shape},
    {OpKind::kTanh, 1, 1, sr::float_same_shape},
    {OpKind::kHardSigmoid, 1, 1, sr::float_same_shape},
    {OpKind::kHardSwish, 1, 1, sr::float_same_shape},
    {OpKind::kMaxPool, 1, 1, sr::max_pool},
    {OpKind::kAveragePool, 1, 1, sr::pool},
    {OpKind::kGlobalAveragePool, 1, 1, sr::global_average_pool},
    {OpKind::kLRN, 1, 1, sr::lrn},
    {OpKind::kBatchNormalization, 5, 5, sr::batch_normalization},
    {OpKind::kConcat, 1, kVariadic, sr::concat},
    {OpKind::kAdd, 2, 2, sr::broadcast},
    {OpKind::kMul, 2, 2, sr::broadcast},
    {OpKind::kSum, 1, kVariadic, sr::broadcast},
    {OpKind::kMax, 1, kVariadic, sr::broadcast},
    {OpKind::kGemm, 2, 3, sr::gemm},
    {OpKind::kMatMul, 2, 2, sr::matmul},
    {OpKind::kFlatten, 1, 1, sr::flatten},
    {OpKind::kReshape, 2, 2, sr::reshape},
    {OpKind::kTranspose, 1, 1, sr::transpose},
    {OpKind::kSqueeze, 1, 1, sr::squeeze},
    {OpKind::kUnsqueeze, 1, 1, sr::unsqueeze},
    {OpKind::kSoftmax, 1, 1, sr::float_same_shape},
    {OpKind::kIdentity, 1, 1, sr::same_shape},
    {OpKind::kPad, 1, 1, sr::pad},
    {OpKind::kShape, 1, 1, sr::shape_of},
    {OpKind::kGather, 2, 2, sr::gather},
    {OpKind::kSlice, 1, 1, sr::slice},
    {OpKind::kReorder, 1, 1, sr::reorder},
    {OpKind::kQuantizeLinear, 1, 1, sr::quantize_linear},
    {OpKind::kDequantizeLinear, 1, 1, sr::dequantize_linear},
    {OpKind::kFakeQuantize, 1, 1, sr::fake_quantize},
}};

const OpRule* find_rule(OpKind op) {
  for (const auto& r : kRules)
    if (r.op == op) return &r;
  return nullptr;
}

// Counts and ids, so that rules can index inputs without further checks.
Status check_arity(const Graph& g, const Node& n, const OpRule& rule) {
  const size_t count = n.inputs.size();
  if (count < rule.min_inputs || count > rule.max_inputs) {
    const std::string expected = rule.max_inputs == kVariadic ? "at least " + std::to_string(rule.min_inputs)
                                 : rule.min_inputs == rule.max_inputs
                                     ? std::to_string(rule.min_inputs)
                                     : std::to_string(rule.min_inputs) + " to " + std::to_string(rule.max_inputs);
    return invalid_argument(describe(g, n) + ": has " + std::to_string(count) + " inputs, expected " + expected);
  }
  if (n.outputs.size() != 1)
    return invalid_argument(describe(g, n) + ": has " + std::to_string(n.outputs.size()) +
                            " outputs, expected 1");
  const auto in_range = [&](ValueId id) { return id >= 0 && static_cast<size_t>(id) < g.value_count(); };
  for (size_t i = 0; i < count; ++i) {
    if (n.inputs[i] == kNoValue && i < rule.min_inputs)
      return invalid_argument(describe(g, n) + ": required input #" + std::to_string(i) + " is missing");
    if (n.inputs[i] != kNoValue && !in_range(n.inputs[i]))
      return internal_error(describe(g, n) + ": input #" + std::to_string(i) + " refers to no value");
  }
  if (!in_range(n.outputs[0])) return internal_error(describe(g, n) + ": output refers to no value");
  return Status::ok();
}

}  // namespace

Status infer_node_shapes(Graph& g, Node& n) {
  const OpRule* rule = find_rule(n.op);
  if (rule == nullptr) return internal_error(describe(g, n) + ": no shape inference rule");
  RETURN_IF_ERROR(check_arity(g, n, *rule));
  shape_rules::NodeShapes s(g, n);
  return rule->rule(s);
}

Status infer_shapes(Graph& g) {
  for (Node& n : g.nodes()) RETURN_IF_ERROR(infer_node_shapes(g, n));
  return Status::ok();
}

}  // namespace inferd::ir
