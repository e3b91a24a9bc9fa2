#include "server_test_env.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "onnx.pb.h"
#include "support/model_env.h"
#include "support/ort_oracle.h"

namespace inferd::test {

namespace fs = std::filesystem;

std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

std::string image(int i) {
  return read_bytes(source_dir() + "/images/" + std::to_string(i) + ".jpg");
}

std::string make_repository(const std::string& name, const TestServerConfig& c) {
  const fs::path repo = fs::path(temp_dir()) / name;
  const fs::path model = repo / "squeezenet";
  fs::create_directories(model / "1");
  const fs::path src = fs::path(source_dir()) / "models" / "squeezenet";
  fs::copy_file(src / "labels.txt", model / "labels.txt", fs::copy_options::overwrite_existing);
  // A copy, not a symlink: a model folder's files must resolve inside it (model_config.cc).
  fs::remove(model / "1" / "model.onnx");
  fs::copy_file(src / "1" / "model.onnx", model / "1" / "model.onnx", fs::copy_options::overwrite_existing);
  std::ofstream(model / "config.toml") << "max_batch = " << c.max_batch << "\n"
                                       << "[input]\nchannel_order = \"bgr\"\nscale = 1.0\n"
                                       << "mean = [104.0, 117.0, 123.0]\nstd = [1.0, 1.0, 1.0]\n"
                                       << "[output]\nsoftmax = false\n"
                                       << "[batching]\nmax_queue_delay_us = " << c.max_queue_delay_us << "\n"
                                       << "max_queue = " << c.max_queue << "\n"
                                       << "[instances]\ncount = " << c.instances << "\n";
  return repo.string();
}

Result<std::unique_ptr<Server>> try_start_test_server(const TestServerConfig& config, const std::string& name) {
  ServerOptions o;
  o.model_repository = make_repository(name, config);
  o.http.port = 0;
  o.http.max_body_bytes = config.max_body_bytes;
  o.http.header_timeout_ms = config.header_timeout_ms;
  o.http.body_timeout_ms = config.body_timeout_ms;
  o.http.max_connections = config.max_connections;
  o.http.io_threads = config.io_threads;
  o.drain_timeout_ms = config.drain_timeout_ms;
  o.decode_threads = 2;
  o.enable_management = config.management;
  o.auth = config.auth;
  o.max_instance_bytes = config.max_instance_bytes;
  o.max_decode_queue = config.max_decode_queue;
  o.decode_threads = config.decode_threads;
  o.max_decode_queue_bytes = config.max_decode_queue_bytes;
  return Server::start(o);
}

std::unique_ptr<Server> start_test_server(const TestServerConfig& config, const std::string& name) {
  auto server = try_start_test_server(config, name);
  EXPECT_TRUE(server.is_ok()) << server.status().message();
  return server.is_ok() ? std::move(server).value() : nullptr;
}

std::string relu_chain_model(int relus) {
  onnx::ModelProto m;
  m.set_ir_version(7);
  m.add_opset_import()->set_version(13);
  onnx::GraphProto& g = *m.mutable_graph();
  g.set_name("chain");
  auto* in = g.add_input();
  in->set_name("data");
  auto* type = in->mutable_type()->mutable_tensor_type();
  type->set_elem_type(onnx::TensorProto::FLOAT);
  type->mutable_shape()->add_dim()->set_dim_param("N");
  for (int d : {3, 8, 8}) type->mutable_shape()->add_dim()->set_dim_value(d);
  std::string x = "data";
  for (int i = 0; i < relus; ++i) {
    auto* n = g.add_node();
    n->set_op_type("Relu");
    n->add_input(x);
    x = "r" + std::to_string(i);
    n->add_output(x);
  }
  auto* flat = g.add_node();
  flat->set_op_type("Flatten");
  flat->add_input(x);
  flat->add_output("prob");
  g.add_output()->set_name("prob");
  return m.SerializeAsString();
}

}  // namespace inferd::test
