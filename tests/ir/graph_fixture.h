// Builds tiny IR graphs for shape-inference and printer tests.
#pragma once

#include <string>
#include <vector>

#include "core/status.h"
#include "ir/graph.h"

namespace inferd::test {

class GraphFixture {
 public:
  ir::ValueId input(const std::string& name, Shape shape, DataType dtype = DataType::kFloat32);
  // A float constant with seeded random values.
  ir::ValueId weight(const std::string& name, Shape shape);
  ir::ValueId ints(const std::string& name, const std::vector<int64_t>& values, bool scalar = false);
  // Adds a node writing a new value named `out`; returns that value.
  ir::ValueId node(ir::OpKind op, std::vector<ir::ValueId> inputs, ir::Attributes attrs = {},
                   const std::string& out = "");

  Status infer();
  const Shape& shape(ir::ValueId id) const { return g.value(id).shape; }
  // infer() must fail with `code` and a message containing `part`.
  void expect_error(StatusCode code, const std::string& part);

  ir::Graph g;

 private:
  int counter_ = 0;
};

// Attributes from a list of name/value pairs.
ir::Attributes attrs(std::initializer_list<std::pair<std::string, ir::Attribute>> list);

}  // namespace inferd::test
