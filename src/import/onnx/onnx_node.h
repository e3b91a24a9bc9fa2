// What an operator converter sees of one ONNX node (internal to the ONNX importer):
// typed attribute access with errors that name the attribute, constant inputs, and
// whether an output is read anywhere.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <unordered_set>
#include <vector>

#include "core/status.h"
#include "core/tensor.h"
#include "ir/graph.h"
#include "onnx.pb.h"

namespace inferd::onnx_import {

class NodeContext {
 public:
  // `node` is the IR node being filled (inputs and outputs already resolved, one per
  // ONNX input/output); `used_names` holds every name a node reads or the graph outputs.
  NodeContext(const onnx::NodeProto& proto, std::string name, int64_t opset, ir::Graph& graph, ir::Node& node,
              const std::unordered_set<std::string>& used_names);

  int64_t opset() const { return opset_; }
  const onnx::NodeProto& proto() const { return proto_; }
  ir::Graph& graph() { return graph_; }
  ir::Node& node() { return node_; }
  ir::Attributes& attrs() { return node_.attrs; }

  // "node 'conv1' (Conv)"
  std::string describe() const;
  Status fail(const std::string& what) const;         // invalid_argument
  Status unsupported(const std::string& what) const;  // unimplemented

  bool has_input(size_t i) const { return i < node_.inputs.size() && node_.inputs[i] != ir::kNoValue; }
  // The constant behind input i, or nullptr when absent or computed at run time.
  const Tensor* constant_input(size_t i) const;
  std::string input_name(size_t i) const {
    return i < static_cast<size_t>(proto_.input_size()) ? proto_.input(static_cast<int>(i)) : std::string();
  }
  // Whether output i is read by some node or is a graph output.
  bool output_used(size_t i) const;

  // Attributes: absent -> fallback; present with another type -> an error naming it.
  bool has_attr(const std::string& name) const { return find(name) != nullptr; }
  Result<int64_t> attr_int(const std::string& name, int64_t fallback) const;
  Result<float> attr_float(const std::string& name, float fallback) const;
  Result<std::string> attr_string(const std::string& name, const std::string& fallback) const;
  Result<std::vector<int64_t>> attr_ints(const std::string& name, std::vector<int64_t> fallback = {}) const;
  Result<std::vector<float>> attr_floats(const std::string& name) const;
  // nullptr when absent.
  Result<const onnx::TensorProto*> attr_tensor(const std::string& name) const;

  // Every attribute must be in the comma-separated `known` list (and appear once), so
  // that an attribute inferd does not understand is never silently ignored.
  Status check_attribute_names(std::string_view known) const;

 private:
  const onnx::AttributeProto* find(const std::string& name) const;
  Status wrong_type(const onnx::AttributeProto& a, const char* expected) const;

  const onnx::NodeProto& proto_;
  std::string name_;
  int64_t opset_;
  ir::Graph& graph_;
  ir::Node& node_;
  const std::unordered_set<std::string>& used_names_;
};

}  // namespace inferd::onnx_import
