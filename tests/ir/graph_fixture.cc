#include "graph_fixture.h"

#include <gtest/gtest.h>

#include "ir/shape_inference.h"
#include "support/test_util.h"

namespace inferd::test {

ir::ValueId GraphFixture::input(const std::string& name, Shape shape, DataType dtype) {
  ir::Value v;
  v.name = name;
  v.shape = std::move(shape);
  v.dtype = dtype;
  const ir::ValueId id = g.add_value(std::move(v));
  g.inputs.push_back(id);
  return id;
}

ir::ValueId GraphFixture::weight(const std::string& name, Shape shape) {
  return g.add_constant(name, random_tensor(shape, static_cast<uint32_t>(++counter_)));
}

ir::ValueId GraphFixture::ints(const std::string& name, const std::vector<int64_t>& values, bool scalar) {
  Shape shape = scalar ? Shape{} : Shape{static_cast<int64_t>(values.size())};
  return g.add_constant(name, Tensor::from_int64s(shape, values));
}

ir::ValueId GraphFixture::node(ir::OpKind op, std::vector<ir::ValueId> inputs, ir::Attributes attrs,
                               const std::string& out) {
  const std::string name = out.empty() ? std::string(ir::to_string(op)) + std::to_string(++counter_) : out;
  ir::Value v;
  v.name = name;
  const ir::ValueId id = g.add_value(std::move(v));
  ir::Node n;
  n.name = name;
  n.op = op;
  n.inputs = std::move(inputs);
  n.outputs = {id};
  n.attrs = std::move(attrs);
  g.add_node(std::move(n));
  return id;
}

Status GraphFixture::infer() { return ir::infer_shapes(g); }

void GraphFixture::expect_error(StatusCode code, const std::string& part) {
  const Status s = infer();
  EXPECT_EQ(s.code(), code) << s.message();
  EXPECT_NE(s.message().find(part), std::string::npos) << "message: " << s.message() << "\nexpected part: " << part;
}

ir::Attributes attrs(std::initializer_list<std::pair<std::string, ir::Attribute>> list) {
  ir::Attributes a;
  for (const auto& [k, v] : list) a.set(k, v);
  return a;
}

}  // namespace inferd::test
