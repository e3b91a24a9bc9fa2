#include "import/onnx_model_builder.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "import/onnx/onnx_importer.h"
#include "support/test_util.h"

namespace inferd::test {

OnnxModelBuilder::OnnxModelBuilder(int64_t opset, int64_t ir_version) {
  model_.set_ir_version(ir_version);
  model_.set_producer_name("inferd-test");
  auto* op = model_.add_opset_import();
  op->set_domain("");
  op->set_version(opset);
  graph().set_name("test");
}

void OnnxModelBuilder::input(const std::string& name, const std::vector<int64_t>& shape, int elem_type) {
  auto* vi = graph().add_input();
  vi->set_name(name);
  auto* t = vi->mutable_type()->mutable_tensor_type();
  t->set_elem_type(elem_type);
  auto* s = t->mutable_shape();
  for (int64_t d : shape) {
    auto* dim = s->add_dim();
    if (d < 0) dim->set_dim_param("N");
    else dim->set_dim_value(d);
  }
}

void OnnxModelBuilder::output(const std::string& name) { graph().add_output()->set_name(name); }

onnx::TensorProto& OnnxModelBuilder::weight(const std::string& name, const std::vector<int64_t>& shape,
                                            uint32_t seed) {
  auto* t = graph().add_initializer();
  t->set_name(name);
  t->set_data_type(onnx::TensorProto::FLOAT);
  for (int64_t d : shape) t->add_dims(d);
  const Tensor values = random_tensor(shape, seed);
  for (float v : values.floats()) t->add_float_data(v);
  return *t;
}

onnx::TensorProto& OnnxModelBuilder::ints(const std::string& name, const std::vector<int64_t>& values) {
  auto* t = graph().add_initializer();
  t->set_name(name);
  t->set_data_type(onnx::TensorProto::INT64);
  t->add_dims(static_cast<int64_t>(values.size()));
  for (int64_t v : values) t->add_int64_data(v);
  return *t;
}

onnx::TensorProto& OnnxModelBuilder::scalar(const std::string& name, float value) {
  auto* t = graph().add_initializer();
  t->set_name(name);
  t->set_data_type(onnx::TensorProto::FLOAT);
  t->add_float_data(value);
  return *t;
}

onnx::NodeProto& OnnxModelBuilder::node(const std::string& op_type, const std::vector<std::string>& inputs,
                                        const std::vector<std::string>& outputs, const std::string& name) {
  auto* n = graph().add_node();
  n->set_op_type(op_type);
  n->set_name(name);
  for (const auto& in : inputs) n->add_input(in);
  for (const auto& out : outputs) n->add_output(out);
  return *n;
}

std::vector<uint8_t> OnnxModelBuilder::bytes() const {
  std::string s = model_.SerializeAsString();
  return std::vector<uint8_t>(s.begin(), s.end());
}

Result<ir::Graph> OnnxModelBuilder::import(const std::string& name, const std::string& base_dir) const {
  const auto b = bytes();
  return import_onnx_bytes(b, name, base_dir);
}

namespace {
onnx::AttributeProto& new_attr(onnx::NodeProto& n, const std::string& name, onnx::AttributeProto::AttributeType t) {
  auto* a = n.add_attribute();
  a->set_name(name);
  a->set_type(t);
  return *a;
}
}  // namespace

void set_attr(onnx::NodeProto& n, const std::string& name, int64_t v) {
  new_attr(n, name, onnx::AttributeProto::INT).set_i(v);
}
void set_attr(onnx::NodeProto& n, const std::string& name, float v) {
  new_attr(n, name, onnx::AttributeProto::FLOAT).set_f(v);
}
void set_attr(onnx::NodeProto& n, const std::string& name, const std::string& v) {
  new_attr(n, name, onnx::AttributeProto::STRING).set_s(v);
}
void set_attr(onnx::NodeProto& n, const std::string& name, const std::vector<int64_t>& v) {
  auto& a = new_attr(n, name, onnx::AttributeProto::INTS);
  for (int64_t x : v) a.add_ints(x);
}

const ir::Value& value_named(const ir::Graph& g, const std::string& name) {
  const auto id = g.find_value(name);
  EXPECT_TRUE(id.has_value()) << "no value named " << name;
  static const ir::Value kMissing;
  return id ? g.value(*id) : kMissing;
}

size_t count_ops(const ir::Graph& g, ir::OpKind op) {
  size_t n = 0;
  for (const auto& node : g.nodes()) n += node.op == op ? 1 : 0;
  return n;
}

const ir::Node& first_node(const ir::Graph& g, ir::OpKind op) {
  for (const auto& node : g.nodes())
    if (node.op == op) return node;
  ADD_FAILURE() << "no node of kind " << ir::to_string(op);
  static const ir::Node kMissing;
  return kMissing;
}

std::string make_temp_dir() {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  const std::string name = std::string("inferd_") + (info ? info->name() : "test") + "_" + std::to_string(::getpid());
  const auto dir = std::filesystem::temp_directory_path() / name;
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir.string();
}

}  // namespace inferd::test
