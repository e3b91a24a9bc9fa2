// Helpers for the HttpServer tests: a server on a free port, handlers that answer now
// or later from other threads, and polling with a deadline.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "server/http/http_server.h"
#include "server/http_client.h"

namespace inferd::test {

inline HttpServerOptions test_server_options() {
  HttpServerOptions options;
  options.port = 0;
  options.io_threads = 2;
  return options;
}

// nullptr (and a test failure) when the server cannot start.
inline std::unique_ptr<HttpServer> start_test_server(const HttpServerOptions& options, http::Handler handler) {
  auto server = HttpServer::start(options, std::move(handler));
  EXPECT_TRUE(server.is_ok()) << server.status().message();
  return server.is_ok() ? std::move(server).value() : nullptr;
}

inline http::Response text_response(std::string body) {
  http::Response response;
  response.content_type = "text/plain";
  response.body = std::move(body);
  return response;
}

// Answers "METHOD target body" at once, copying request header x-test into X-Echo.
inline http::Handler echo_handler() {
  return [](http::Request request, http::Respond respond) {
    http::Response response = text_response(request.method + " " + request.target + " " + request.body);
    response.headers["X-Echo"] = request.header("x-test");
    respond(std::move(response));
  };
}

// Calls `respond` later from its own thread; joins them all when destroyed.
class DelayedResponder {
 public:
  ~DelayedResponder() { join(); }
  void later(std::chrono::milliseconds delay, http::Respond respond, http::Response response) {
    std::lock_guard lock(mutex_);
    threads_.emplace_back([delay, respond = std::move(respond), response = std::move(response)]() mutable {
      std::this_thread::sleep_for(delay);
      respond(std::move(response));
    });
  }
  void join() {
    std::vector<std::thread> threads;
    {
      std::lock_guard lock(mutex_);
      threads.swap(threads_);
    }
    for (auto& t : threads) t.join();
  }

 private:
  std::mutex mutex_;
  std::vector<std::thread> threads_;
};

// Polls `condition` every millisecond for up to timeout_ms.
inline bool wait_until(const std::function<bool()>& condition, int timeout_ms = 3000) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (!condition()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return true;
}

inline double ms_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace inferd::test
