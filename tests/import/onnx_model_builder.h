// Builds small ONNX models in C++ (generated onnx::ModelProto) for importer tests.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/status.h"
#include "ir/graph.h"
#include "onnx.pb.h"

namespace inferd::test {

class OnnxModelBuilder {
 public:
  explicit OnnxModelBuilder(int64_t opset = 13, int64_t ir_version = 7);

  onnx::ModelProto& model() { return model_; }
  onnx::GraphProto& graph() { return *model_.mutable_graph(); }

  // A graph input; a dim of -1 becomes the symbolic dim "N".
  void input(const std::string& name, const std::vector<int64_t>& shape, int elem_type = onnx::TensorProto::FLOAT);
  void output(const std::string& name);
  // A FLOAT initializer with seeded random values in [-1, 1) (never all zeros).
  onnx::TensorProto& weight(const std::string& name, const std::vector<int64_t>& shape, uint32_t seed = 1);
  onnx::TensorProto& ints(const std::string& name, const std::vector<int64_t>& values);
  onnx::TensorProto& scalar(const std::string& name, float value);
  onnx::NodeProto& node(const std::string& op_type, const std::vector<std::string>& inputs,
                        const std::vector<std::string>& outputs, const std::string& name = "");

  std::vector<uint8_t> bytes() const;
  // import_onnx_bytes(bytes(), name, base_dir).
  Result<ir::Graph> import(const std::string& name = "model.onnx", const std::string& base_dir = "") const;

 private:
  onnx::ModelProto model_;
};

void set_attr(onnx::NodeProto& n, const std::string& name, int64_t v);
void set_attr(onnx::NodeProto& n, const std::string& name, float v);
void set_attr(onnx::NodeProto& n, const std::string& name, const std::string& v);
void set_attr(onnx::NodeProto& n, const std::string& name, const std::vector<int64_t>& v);

// The value named `name` in g (fails the test when absent).
const ir::Value& value_named(const ir::Graph& g, const std::string& name);
// The number of nodes of kind `op`.
size_t count_ops(const ir::Graph& g, ir::OpKind op);
// The first node of kind `op` (fails the test when absent).
const ir::Node& first_node(const ir::Graph& g, ir::OpKind op);

// A fresh empty folder under the system temp dir, named after the running test.
std::string make_temp_dir();

}  // namespace inferd::test
