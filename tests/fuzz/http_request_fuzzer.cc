// Fuzzes HTTP request handling end to end, minus the listening socket: the input is what
// a client sends on one connection. It goes through the server's own http::Connection
// (the Beast parser with the server's header and body limits, pipelining, Expect:
// 100-continue, error answers, lingering close) into the router with every endpoint
// group of `inferd serve` (classify, ops, KServe v2 with management enabled) over a
// repository serving the bundled SqueezeNet: a request can reach image decoding (bounded
// admission), the batcher and the engine, as in production.
//
// The connection runs over a socketpair on the harness thread (no I/O threads; answers
// computed on the decode and batcher threads are posted back to it); the harness writes the input, half-closes, and reads answers
// until the server closes. Checked: the server closes once the client has (no hang),
// nothing stays in flight or open, and no answer is a 500 (a handler that dropped its
// request or threw).
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

#include "fuzz_common.h"
#include "server/auth.h"
#include "server/endpoint_context.h"
#include "server/http/http_connection.h"

namespace {

namespace asio = boost::asio;
namespace bhttp = boost::beast::http;
using namespace inferd;

// A connection still open this long after the client half-closed is a hang: the
// server's own deadlines (10 s for headers) must never be what ends a run.
constexpr auto kMaxRunTime = std::chrono::seconds(5);

// Everything a request can reach, built once: the server's endpoint groups and options.
struct ServerUnderTest {
  std::string repository;
  std::unique_ptr<ServerMetrics> metrics;
  std::unique_ptr<ModelRepository> models;
  std::unique_ptr<WorkerPool> decoders;
  std::unique_ptr<WorkerPool> management;
  std::atomic<bool> ready{true};
  AccessPolicy access;
  DeviceNoop device_noop;  // no GPU under the fuzzer: answers 501, but takes the real path
  DeadlineTimer deadlines;
  EndpointContext ctx;
  Router router;
  std::shared_ptr<http::ServerCore> core;

  ServerUnderTest() {
    repository = (std::filesystem::temp_directory_path() / ("inferd-fuzz-http-" + std::to_string(getpid()))).string();
    std::filesystem::create_directories(repository);
    // The bundled model, so that a request can get past routing into decode, the batcher
    // and the engine (an empty repository only ever answered 404 and 503).
    std::filesystem::copy(std::string(INFERD_SOURCE_DIR) + "/models/squeezenet", repository + "/squeezenet",
                          std::filesystem::copy_options::recursive);
    metrics = ServerMetrics::create(64).value();
    models = std::make_unique<ModelRepository>(repository, ServeModelOptions{});
    if (Status s = models->load_all(); !s.is_ok()) {
      std::fprintf(stderr, "fuzz_http_request: cannot serve the bundled model: %s\n", s.message().c_str());
      std::abort();
    }
    decoders = std::make_unique<WorkerPool>(1, "fuzz-decode", WorkerPool::Limits{64, 64 << 20});
    management = std::make_unique<WorkerPool>(1, "fuzz-manage", WorkerPool::Limits{4, 0});
    ctx = {models.get(),  decoders.get(), management.get(), metrics.get(),
           &ready,        /*management_enabled=*/true,      /*default_timeout_ms=*/0, &device_noop,
           &deadlines};
    add_classify_routes(router, ctx);
    add_ops_routes(router, ctx);
    add_v2_routes(router, ctx);
    // A management token only: load/unload go through the head check's refusals (with
    // and without a body) while every other endpoint stays open to the fuzzer.
    const std::string token_file = repository + "/management.token";
    std::FILE* f = std::fopen(token_file.c_str(), "w");
    std::fputs("fuzz-management-token\n", f);
    std::fclose(f);
    AuthOptions auth;
    auth.management_token_file = token_file;
    access = AccessPolicy::load(auth).value();
    HttpServerOptions options;  // the defaults `inferd serve` runs with: 16 MiB body, 16 KiB headers
    core = std::make_shared<http::ServerCore>(
        options,
        [this](http::Request request, http::Respond respond) { router.dispatch(std::move(request), std::move(respond)); },
        [this](const http::Request& head) { return access.check(head); });
  }
};

ServerUnderTest& server() {
  // Never destroyed (libFuzzer exits with the decode thread alive); its empty
  // repository folder is removed at exit.
  static ServerUnderTest* s = [] {
    auto* created = new ServerUnderTest();
    std::atexit([] {
      std::error_code ignored;
      std::filesystem::remove_all(server().repository, ignored);
    });
    return created;
  }();
  return *s;
}

void set_nonblocking(int fd) {
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
}

// Writes what it can of `input` from `*sent` on, half-closing once all is written.
void send_some(int fd, std::string_view input, size_t* sent, bool* half_closed) {
  while (*sent < input.size()) {
    const ssize_t n = ::send(fd, input.data() + *sent, input.size() - *sent, MSG_NOSIGNAL);
    if (n <= 0) break;
    *sent += static_cast<size_t>(n);
  }
  if (*sent == input.size() && !*half_closed) {
    ::shutdown(fd, SHUT_WR);
    *half_closed = true;
  }
}

void receive_some(int fd, std::string* received) {
  char buf[16384];
  for (;;) {
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) return;
    received->append(buf, static_cast<size_t>(n));
  }
}

// The answers, in order, as a client reads them; stops at the first it cannot frame
// (an answer to HEAD has a Content-Length but no body: a client knows, this does not).
void check_answers(std::string_view received) {
  if (received.empty()) return;
  boost::beast::flat_buffer buffer;
  auto bytes = buffer.prepare(received.size());
  std::memcpy(bytes.data(), received.data(), received.size());
  buffer.commit(received.size());
  while (buffer.size() > 0) {
    bhttp::response_parser<bhttp::string_body> parser;
    parser.eager(true);
    boost::system::error_code ec;
    const size_t used = parser.put(buffer.data(), ec);
    buffer.consume(used);
    if (ec || !parser.is_done()) return;
    const auto& response = parser.get();
    FUZZ_CHECK(response.result_int() != 500, std::string(response.body()));
  }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  fuzz::quiet_logs();
  server();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ServerUnderTest& s = server();
  int fds[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM, 0, fds) != 0) return 0;
  set_nonblocking(fds[0]);
  asio::ip::tcp::socket socket(asio::make_strand(s.core->io));
  boost::system::error_code ec;
  socket.assign(asio::ip::tcp::v4(), fds[1], ec);  // a stream socket is all Connection needs
  FUZZ_CHECK(!ec, ec.message());
  std::make_shared<http::Connection>(s.core, std::move(socket))->start();

  const std::string_view input(reinterpret_cast<const char*>(data), size);
  size_t sent = 0;
  bool half_closed = false;
  std::string received;
  s.core->io.restart();
  const auto give_up = std::chrono::steady_clock::now() + kMaxRunTime;
  for (;;) {
    send_some(fds[0], input, &sent, &half_closed);
    if (s.core->io.stopped()) {
      // Out of work: done, unless an answer is still being computed on a decode or batcher
      // thread, which will post it here (the io_context has nothing to wait on meanwhile).
      if (s.core->in_flight.load() == 0) break;
      s.core->io.restart();
    }
    s.core->io.run_one_for(std::chrono::milliseconds(1));
    receive_some(fds[0], &received);
    FUZZ_CHECK(std::chrono::steady_clock::now() < give_up, "the connection did not close after the client did");
  }
  receive_some(fds[0], &received);
  ::close(fds[0]);
  FUZZ_CHECK(s.core->in_flight.load() == 0, std::to_string(s.core->in_flight.load()) + " requests still in flight");
  FUZZ_CHECK(s.core->open_connections.load() == 0, "the connection is still registered");
  check_answers(received);
  return 0;
}
