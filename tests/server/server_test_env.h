// A real `inferd serve` in-process on 127.0.0.1 (port 0) over a temporary model
// repository holding the bundled SqueezeNet with a config chosen by the test.
#pragma once

#include <memory>
#include <string>

#include "server/server.h"
#include "support/test_util.h"

namespace inferd::test {

struct TestServerConfig {
  int max_batch = 8;
  int64_t max_queue_delay_us = 2000;
  int max_queue = 1024;
  int instances = 1;
  size_t max_body_bytes = 16 << 20;
  bool management = false;
  // HTTP limits (HttpServerOptions' defaults unless a test needs them short).
  int header_timeout_ms = HttpServerOptions().header_timeout_ms;
  int body_timeout_ms = HttpServerOptions().body_timeout_ms;
  int max_connections = HttpServerOptions().max_connections;
  int io_threads = HttpServerOptions().io_threads;
  int drain_timeout_ms = ServerOptions().drain_timeout_ms;
  AuthOptions auth;
  int64_t max_instance_bytes = ServerOptions().max_instance_bytes;
  int max_decode_queue = ServerOptions().max_decode_queue;
  int decode_threads = ServerOptions().decode_threads;  // 0 = cores
  int64_t max_decode_queue_bytes = ServerOptions().max_decode_queue_bytes;
};

// Writes <temp>/<name>/squeezenet/{config.toml,labels.txt,1/model.onnx} and returns the
// repository folder.
std::string make_repository(const std::string& name, const TestServerConfig& config);

std::unique_ptr<Server> start_test_server(const TestServerConfig& config, const std::string& name);
// The same, for tests that expect start-up to fail.
Result<std::unique_ptr<Server>> try_start_test_server(const TestServerConfig& config, const std::string& name);

// An ONNX classifier of `relus` chained Relu nodes over [N,3,8,8], then Flatten (192
// classes): legal, quick to parse, as slow to build as it is long (25,000 nodes: ~0.5 s),
// and with one node a model that reloads in 1-2 ms (plan from the cache).
std::string relu_chain_model(int relus);

std::string read_bytes(const std::string& path);
std::string image(int i);  // images/<i>.jpg of the project

}  // namespace inferd::test
