#include "test_http_server.h"

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>

namespace inferd::test {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using asio::ip::tcp;
using boost::system::error_code;

class TestHttpServer::Session : public std::enable_shared_from_this<Session> {
 public:
  Session(TestHttpServer& server, tcp::socket socket)
      : server_(server), socket_(std::move(socket)), timer_(socket_.get_executor()) {}

  void read() {
    request_ = {};
    http::async_read(socket_, buffer_, request_, [self = shared_from_this()](const error_code& ec, size_t) {
      if (!ec) self->on_request();
    });
  }

 private:
  void on_request() {
    const uint64_t index = server_.requests_++;
    server_.last_request_ = std::string(request_.method_string()) + " " + std::string(request_.target()) + " " +
                            std::string(request_[http::field::content_type]) + " " + request_.body();
    head_ = request_.method() == http::verb::head;
    const Answer answer = server_.script_({index, ++server_.in_flight_, std::chrono::steady_clock::now()});
    if (answer.never) {
      read_until_closed();
      return;
    }
    timer_.expires_after(answer.delay);
    timer_.async_wait([self = shared_from_this(), answer](const error_code&) { self->respond(answer); });
  }

  void respond(const Answer& a) {
    --server_.in_flight_;
    error_code ignored;
    if (a.reset) {
      socket_.close(ignored);
      return;
    }
    // A HEAD answer says the body's length but carries no body.
    const std::string body = head_ ? "" : a.body;
    std::string text = !a.raw.empty() ? a.raw
                       : a.garbage    ? std::string("HELLO THERE\r\n\r\n")
                                      : "HTTP/1.1 " + std::to_string(a.status) +
                                         " X\r\nContent-Length: " + std::to_string(a.body.size()) + "\r\n" +
                                         (a.close ? "Connection: close\r\n" : "") + "\r\n" + body;
    auto out = std::make_shared<std::string>(std::move(text));
    asio::async_write(socket_, asio::buffer(*out), [self = shared_from_this(), out, a](const error_code& ec, size_t) {
      error_code ignored;
      if (ec || a.close || a.garbage) {
        self->socket_.close(ignored);
        return;
      }
      self->read();
    });
  }

  // Keeps the connection until the client gives up on it.
  void read_until_closed() {
    socket_.async_read_some(asio::buffer(scratch_), [self = shared_from_this()](const error_code& ec, size_t) {
      if (!ec) self->read_until_closed();
    });
  }

  TestHttpServer& server_;
  tcp::socket socket_;
  asio::steady_timer timer_;
  boost::beast::flat_buffer buffer_;
  http::request<http::string_body> request_;
  char scratch_[4096];
  bool head_ = false;
};

TestHttpServer::TestHttpServer(std::function<Answer(const Arrival&)> script)
    : script_(std::move(script)), acceptor_(io_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {
  port_ = acceptor_.local_endpoint().port();
  accept();
  thread_ = std::thread([this] { io_.run(); });
}

TestHttpServer::~TestHttpServer() {
  io_.stop();
  thread_.join();
}

std::string TestHttpServer::url(const std::string& target) const {
  return "http://127.0.0.1:" + std::to_string(port_) + target;
}

void TestHttpServer::accept() {
  acceptor_.async_accept([this](const error_code& ec, tcp::socket socket) {
    if (ec) return;
    ++connections_;
    std::make_shared<Session>(*this, std::move(socket))->read();
    accept();
  });
}

int closed_port() {
  asio::io_context io;
  tcp::acceptor a(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  return a.local_endpoint().port();
}

}  // namespace inferd::test
