#include "support/reference_run.h"

#include <optional>
#include <string>

#include "backends/api/backend.h"
#include "backends/reference/reference.h"

namespace inferd::test {
namespace {

// The value's shape with the dynamic batch dim replaced by `batch`.
Result<Shape> concrete_shape(const ir::Value& v, int64_t batch) {
  Shape shape = v.shape;
  for (size_t d = 0; d < shape.size(); ++d) {
    if (shape[d] == kDynamicDim && d == 0) shape[d] = batch;
    if (shape[d] < 0)
      return invalid_argument("value '" + v.name + "' has shape " + to_string(v.shape) +
                              ": only dim 0 may be dynamic (run shape inference first)");
  }
  return shape;
}

ConstTensorView view_of(const Tensor& t) {
  return {t.raw(), t.shape(), dense_strides(t.shape()), t.dtype()};
}
TensorView view_of(Tensor& t) {
  return {t.raw(), t.shape(), dense_strides(t.shape()), t.dtype()};
}

// Checks inputs against graph.inputs and returns the batch (inputs[0] dim 0).
Result<int64_t> check_inputs(const ir::Graph& graph, const std::vector<Tensor>& inputs) {
  if (inputs.size() != graph.inputs.size())
    return invalid_argument("reference_run: graph '" + graph.name + "' has " + std::to_string(graph.inputs.size()) +
                            " inputs, got " + std::to_string(inputs.size()));
  const int64_t batch = inputs.empty() || inputs[0].shape().empty() ? 1 : inputs[0].shape()[0];
  for (size_t i = 0; i < inputs.size(); ++i) {
    const ir::Value& v = graph.value(graph.inputs[i]);
    ASSIGN_OR_RETURN(Shape expected, concrete_shape(v, batch));
    if (inputs[i].dtype() != DataType::kFloat32)
      return unimplemented("reference_run: input '" + v.name + "' is " + to_string(inputs[i].dtype()) +
                           "; only float32 inputs are supported");
    if (inputs[i].shape() != expected)
      return invalid_argument("reference_run: input '" + v.name + "' has shape " + to_string(inputs[i].shape()) +
                              ", the graph expects " + to_string(expected));
  }
  return batch;
}

class Interpreter {
 public:
  Interpreter(const ir::Graph& graph, int64_t batch) : graph_(graph), batch_(batch), tensors_(graph.value_count()) {}

  void bind_input(ir::ValueId id, const Tensor& t) { tensors_[static_cast<size_t>(id)] = t; }

  Status run_node(const ir::Node& node) {
    const std::string where = "reference_run: " + ir::describe(graph_, node);
    const ref::ReferenceFn fn = ref::reference_kernel(node.op);
    if (!fn) return unimplemented(where + ": no reference kernel for this op (fold it to a constant first)");
    std::vector<ConstTensorView> in;
    std::vector<TensorView> out;
    for (ir::ValueId id : node.inputs) {
      Result<ConstTensorView> view = input_view(id);
      if (!view.is_ok()) return view.status().with_context(where);
      in.push_back(std::move(view).value());
    }
    for (ir::ValueId id : node.outputs) {
      const ir::Value& v = graph_.value(id);
      // float32, or the u8/s8 levels INT8 convolutions write and max pools and Concats pass
      // on (passes/int8_storage.h)
      const bool levels = v.dtype == DataType::kUint8 || v.dtype == DataType::kInt8;
      const bool moves_levels = node.op == ir::OpKind::kConv || node.op == ir::OpKind::kMaxPool ||
                                node.op == ir::OpKind::kConcat;
      if (v.dtype != DataType::kFloat32 && !(levels && moves_levels))
        return unimplemented(where + ": output '" + v.name + "' is " + to_string(v.dtype) +
                             "; reference kernels compute float32 only (and INT8 levels)");
      Result<Shape> shape = concrete_shape(v, batch_);
      if (!shape.is_ok()) return shape.status().with_context(where);
      tensors_[static_cast<size_t>(id)] = Tensor(v.dtype, shape.value());
      out.push_back(view_of(*tensors_[static_cast<size_t>(id)]));
    }
    fn(node.attrs, in, out);
    return Status::ok();
  }

  Result<Tensor> result(ir::ValueId id) const {
    const ir::Value& v = graph_.value(id);
    if (v.is_constant()) return *v.constant;
    if (!tensors_[static_cast<size_t>(id)])
      return internal_error("reference_run: output '" + v.name + "' is never written");
    return *tensors_[static_cast<size_t>(id)];
  }

 private:
  // Constants are float32 or int64 (the kernel reinterprets the latter); activations
  // must have been written by an earlier node or bound as an input.
  Result<ConstTensorView> input_view(ir::ValueId id) const {
    if (id == ir::kNoValue) return ConstTensorView{};
    const ir::Value& v = graph_.value(id);
    if (v.is_constant()) {
      const DataType dt = v.constant->dtype();
      if (dt != DataType::kFloat32 && dt != DataType::kInt64)
        return unimplemented("constant '" + v.name + "' is " + to_string(dt) +
                             "; reference kernels read float32 and int64 constants only");
      return view_of(*v.constant);
    }
    const std::optional<Tensor>& t = tensors_[static_cast<size_t>(id)];
    if (!t) return internal_error("value '" + v.name + "' is read before any node writes it (graph not sorted?)");
    return view_of(*t);
  }

  const ir::Graph& graph_;
  int64_t batch_;
  std::vector<std::optional<Tensor>> tensors_;  // by ValueId; activations only
};

}  // namespace

Result<std::vector<Tensor>> reference_run(const ir::Graph& graph, const std::vector<Tensor>& inputs) {
  ASSIGN_OR_RETURN(int64_t batch, check_inputs(graph, inputs));
  Interpreter interpreter(graph, batch);
  for (size_t i = 0; i < inputs.size(); ++i) interpreter.bind_input(graph.inputs[i], inputs[i]);
  for (const ir::Node& node : graph.nodes()) RETURN_IF_ERROR(interpreter.run_node(node));
  std::vector<Tensor> outputs;
  for (ir::ValueId id : graph.outputs) {
    ASSIGN_OR_RETURN(Tensor t, interpreter.result(id));
    outputs.push_back(std::move(t));
  }
  return outputs;
}

}  // namespace inferd::test
