// A tiny HTTP/1.1 server for the load generator's tests, on Asio with one I/O thread:
// bound to 127.0.0.1 port 0, it answers each request as a script says: a status, a
// delay, a body, Connection: close, a reset, garbage, or never.
#pragma once

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <thread>

namespace inferd::test {

struct Answer {
  int status = 200;
  std::chrono::steady_clock::duration delay{};
  std::string body = "ok";
  bool close = false;    // send Connection: close and close after the answer
  bool reset = false;    // close the connection without answering
  bool garbage = false;  // answer bytes that are not HTTP
  bool never = false;    // never answer (the connection stays open)
  std::string raw = "";  // when set, the whole answer as bytes (the connection stays open)
};

struct Arrival {
  uint64_t index;  // 0, 1, 2, ... in arrival order over all connections
  int in_flight;   // requests received and not yet answered, this one included
  std::chrono::steady_clock::time_point at;
};

class TestHttpServer {
 public:
  // `script` runs on the server's one I/O thread, so it may keep state without locks.
  explicit TestHttpServer(std::function<Answer(const Arrival&)> script);
  ~TestHttpServer();

  int port() const { return port_; }
  std::string url(const std::string& target = "/") const;
  uint64_t requests() const { return requests_.load(); }
  uint64_t connections() const { return connections_.load(); }
  const std::string& last_request() const { return last_request_; }  // read after the run

  class Session;

 private:
  void accept();

  std::function<Answer(const Arrival&)> script_;
  boost::asio::io_context io_;
  boost::asio::ip::tcp::acceptor acceptor_;
  int port_ = 0;
  std::atomic<uint64_t> requests_{0}, connections_{0};
  int in_flight_ = 0;
  std::string last_request_;
  std::thread thread_;
};

// A port on which nothing listens (bound, read back, closed).
int closed_port();

}  // namespace inferd::test
