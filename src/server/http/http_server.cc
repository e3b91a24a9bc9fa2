#include "server/http/http_server.h"

#include <chrono>
#include <exception>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/write.hpp>

#include "core/log.h"
#include "core/thread_name.h"
#include "server/http/http_connection.h"
#include "server/http/http_wire.h"

namespace inferd {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using boost::system::error_code;

constexpr int kAcceptRetryMs = 50;  // after EMFILE and the like: let descriptors free up

Status check_options(const HttpServerOptions& o) {
  const auto bad = [](const std::string& what) { return invalid_argument("HTTP server options: " + what); };
  if (o.port < 0 || o.port > 65535) return bad("port " + std::to_string(o.port) + " is not in 0..65535");
  if (o.io_threads < 1) return bad("io_threads is " + std::to_string(o.io_threads) + ", needs at least 1");
  if (o.max_header_bytes < 256) return bad("max_header_bytes is " + std::to_string(o.max_header_bytes) + ", needs at least 256");
  if (o.header_timeout_ms <= 0 || o.body_timeout_ms <= 0 || o.idle_timeout_ms <= 0) return bad("timeouts must be positive");
  if (o.max_connections < 1) return bad("max_connections is " + std::to_string(o.max_connections) + ", needs at least 1");
  if (o.reserve_connections < 0) return bad("reserve_connections is negative");
  return Status::ok();
}

// A connection over max_connections: told 503 and closed, never registered.
void refuse_connection(tcp::socket socket, int limit) {
  struct Refusal {
    tcp::socket socket;
    std::string bytes;
  };
  http::Response response = http::error_response(
      503, "server has " + std::to_string(limit) + " connections open, the limit; retry later");
  response.headers["Retry-After"] = "1";
  auto refusal = std::make_shared<Refusal>(Refusal{std::move(socket), {}});
  refusal->bytes = http::wire::response_head(response, {.close = true}) + response.body;
  asio::async_write(refusal->socket, asio::buffer(refusal->bytes), [refusal](error_code, size_t) {
    error_code ignored;
    refusal->socket.shutdown(tcp::socket::shutdown_both, ignored);
    refusal->socket.close(ignored);
  });
}

}  // namespace

struct HttpServer::Impl {
  explicit Impl(std::shared_ptr<http::ServerCore> c)
      : core(std::move(c)), acceptor(core->io), accept_retry(core->io), work(core->io.get_executor()) {}
  ~Impl() { stop(); }  // also when start() fails half-way

  Status listen();
  void accept_next();  // acceptor_mutex held
  void on_accept(error_code ec, tcp::socket socket);
  void run_io_thread();
  void stop_accepting();
  void stop();

  // First member: the acceptor and timer below use its io_context.
  std::shared_ptr<http::ServerCore> core;
  std::mutex acceptor_mutex;  // the acceptor is closed from user threads while an accept is pending
  tcp::acceptor acceptor;
  asio::steady_timer accept_retry;
  bool accepting = false;
  size_t accept_failures = 0;                           // since the last log line
  std::chrono::steady_clock::time_point last_accept_log;  // both under acceptor_mutex
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work;
  std::vector<std::thread> threads;
  int port = 0;
  std::mutex stop_mutex;
  bool stopped = false;
};

Status HttpServer::Impl::listen() {
  const HttpServerOptions& o = core->options;
  const std::string where = o.host + ":" + std::to_string(o.port);
  error_code ec;
  tcp::resolver resolver(core->io);
  const auto endpoints = resolver.resolve(o.host, std::to_string(o.port),
                                          tcp::resolver::passive | tcp::resolver::numeric_service, ec);
  if (ec || endpoints.empty()) {
    return invalid_argument("cannot listen on " + where + ": cannot resolve host '" + o.host + "': " + ec.message());
  }
  const tcp::endpoint endpoint = endpoints.begin()->endpoint();
  const auto fail = [&](const char* step) {
    return failed_precondition("cannot listen on " + where + ": " + ec.message() + " (" + step + ")");
  };
  if (acceptor.open(endpoint.protocol(), ec); ec) return fail("socket");
  // Lets a restarted server bind while old connections sit in TIME_WAIT; on Linux it
  // still refuses a port another socket is listening on.
  if (acceptor.set_option(tcp::acceptor::reuse_address(true), ec); ec) return fail("SO_REUSEADDR");
  if (acceptor.bind(endpoint, ec); ec) {
    return failed_precondition("cannot listen on " + where + ": " + ec.message());
  }
  if (acceptor.listen(asio::socket_base::max_listen_connections, ec); ec) return fail("listen");
  port = acceptor.local_endpoint(ec).port();
  std::lock_guard lock(acceptor_mutex);
  accepting = true;
  accept_next();
  return Status::ok();
}

void HttpServer::Impl::accept_next() {
  // Each connection gets its own strand: its handlers never run concurrently.
  acceptor.async_accept(asio::make_strand(core->io),
                        [this](error_code ec, tcp::socket socket) { on_accept(ec, std::move(socket)); });
}

void HttpServer::Impl::on_accept(error_code ec, tcp::socket socket) {
  std::lock_guard lock(acceptor_mutex);
  if (!accepting) return;
  if (ec) {
    // Out of descriptors (EMFILE) fails every accept until one frees up: one line per
    // second with a count, not a line per try (20 a second) flooding the log.
    ++accept_failures;
    const auto now = std::chrono::steady_clock::now();
    if (now - last_accept_log >= std::chrono::seconds(1)) {
      log_warn("http_accept_failed").kv("error", ec.message()).kv("failures", accept_failures);
      accept_failures = 0;
      last_accept_log = now;
    }
    accept_retry.expires_after(std::chrono::milliseconds(kAcceptRetryMs));
    accept_retry.async_wait([this](error_code wait_ec) {
      std::lock_guard retry_lock(acceptor_mutex);
      if (!wait_ec && accepting) accept_next();
    });
    return;
  }
  const auto limit = static_cast<size_t>(core->options.max_connections);
  const size_t open = core->open_connections.load();
  const size_t reserve = core->options.reserve_paths.empty() ? 0 : static_cast<size_t>(core->options.reserve_connections);
  if (open >= limit + reserve) {
    log_warn("http_connection_refused").kv("open_connections", open).kv("limit", limit);
    refuse_connection(std::move(socket), core->options.max_connections);
  } else {
    // Over the limit, within the reserve: the connection serves one health probe at most.
    std::make_shared<http::Connection>(core, std::move(socket), /*reserve_only=*/open >= limit)->start();
  }
  accept_next();
}

void HttpServer::Impl::run_io_thread() {
  // An exception from a completion handler unwinds run(); log it and keep serving.
  for (;;) {
    try {
      core->io.run();
      return;
    } catch (const std::exception& e) {
      log_error("http_io_thread_exception").kv("error", e.what());
    } catch (...) {
      log_error("http_io_thread_exception").kv("error", "unknown exception");
    }
  }
}

void HttpServer::Impl::stop_accepting() {
  std::lock_guard lock(acceptor_mutex);
  if (!accepting) return;
  accepting = false;
  core->draining.store(true);
  error_code ignored;
  acceptor.close(ignored);
  accept_retry.cancel();
}

void HttpServer::Impl::stop() {
  std::lock_guard stop_lock(stop_mutex);
  if (stopped) return;
  stopped = true;
  stop_accepting();
  {
    // From here a late `respond` drops its answer instead of posting work that no
    // thread would run.
    std::lock_guard lock(core->post_mutex);
    core->posts_open = false;
  }
  for (const auto& connection : core->begin_stopping()) connection->close_from_server();
  // With the listener and every socket closed, run() returns once the aborted
  // operations have completed.
  work.reset();
  for (std::thread& thread : threads) thread.join();
  threads.clear();
}

Result<std::unique_ptr<HttpServer>> HttpServer::start(const HttpServerOptions& options, http::Handler handler,
                                                      http::HeadCheck head_check) {
  RETURN_IF_ERROR(check_options(options));
  if (!handler) return invalid_argument("HTTP server: no request handler");
  auto impl = std::make_unique<Impl>(
      std::make_shared<http::ServerCore>(options, std::move(handler), std::move(head_check)));
  RETURN_IF_ERROR(impl->listen());
  Impl* raw = impl.get();
  for (int i = 0; i < options.io_threads; ++i) impl->threads.emplace_back([raw] {
      set_thread_name("inferd-io");
      raw->run_io_thread();
    });
  log_info("http_listening").kv("host", options.host).kv("port", impl->port).kv("io_threads", options.io_threads);
  return std::unique_ptr<HttpServer>(new HttpServer(std::move(impl)));
}

HttpServer::HttpServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

HttpServer::~HttpServer() { stop(); }

int HttpServer::port() const { return impl_->port; }

void HttpServer::stop_accepting() { impl_->stop_accepting(); }

size_t HttpServer::open_connections() const { return impl_->core->open_connections.load(); }

size_t HttpServer::in_flight() const { return impl_->core->in_flight.load(); }

void HttpServer::stop() { impl_->stop(); }

void HttpServer::abandon_unanswered(int status, const std::string& message) {
  const http::Response response = http::error_response(status, message);
  for (const auto& connection : impl_->core->open_now()) connection->abandon(response);
}

size_t HttpServer::abandoned_unwritten() const { return impl_->core->abandoned_unwritten.load(); }

}  // namespace inferd
