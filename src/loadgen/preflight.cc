#include "loadgen/preflight.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>

namespace inferd::loadgen {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;
using boost::system::error_code;

std::string ms_text(std::chrono::nanoseconds d) {
  return std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(d).count()) + " ms";
}

std::string describe(const Url& url, const tcp::endpoint& endpoint) {
  const std::string resolved = endpoint.address().to_string();
  return url.authority() + (resolved == url.host ? "" : " (" + resolved + ")");
}

// Runs the io_context until `done` or the timeout; false on timeout.
bool run_until(asio::io_context& io, const bool& done, std::chrono::nanoseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done && std::chrono::steady_clock::now() < deadline) {
    if (io.run_one_until(deadline) == 0 && io.stopped()) break;
  }
  return done;
}

}  // namespace

Result<tcp::endpoint> resolve(const Url& url) {
  asio::io_context io;
  tcp::resolver resolver(io);
  error_code ec;
  const auto results = resolver.resolve(url.host, std::to_string(url.port), ec);
  if (ec || results.empty())
    return not_found("cannot resolve host '" + url.host + "': " + (ec ? ec.message() : "no address"));
  return results.begin()->endpoint();
}

Status check_connect(const Url& url, const tcp::endpoint& endpoint, std::chrono::nanoseconds timeout) {
  asio::io_context io;
  tcp::socket socket(io);
  error_code result;
  bool done = false;
  socket.async_connect(endpoint, [&](const error_code& ec) {
    result = ec;
    done = true;
  });
  if (!run_until(io, done, timeout))
    return failed_precondition("cannot connect to " + describe(url, endpoint) + ": no answer within " +
                               ms_text(timeout) + " (--connect-timeout)");
  if (result) return failed_precondition("cannot connect to " + describe(url, endpoint) + ": " + result.message());
  return Status::ok();
}

Result<FetchedDocument> fetch(const Url& url, std::chrono::nanoseconds timeout) {
  ASSIGN_OR_RETURN(tcp::endpoint endpoint, resolve(url));
  asio::io_context io;
  tcp::socket socket(io);
  const std::string request = "GET " + url.target + " HTTP/1.1\r\nHost: " + url.host_header +
                              "\r\nAccept: application/json\r\nConnection: close\r\n\r\n";
  std::string received;
  error_code failure;
  bool done = false;
  auto finish = [&](const error_code& ec) {
    if (ec != asio::error::eof) failure = ec;
    done = true;
  };
  socket.async_connect(endpoint, [&](const error_code& ec) {
    if (ec) return finish(ec);
    asio::async_write(socket, asio::buffer(request), [&](const error_code& wec, size_t) {
      if (wec) return finish(wec);
      asio::async_read(socket, asio::dynamic_buffer(received), [&](const error_code& rec, size_t) { finish(rec); });
    });
  });
  const std::string what = "GET " + url.str();
  if (!run_until(io, done, timeout))
    return failed_precondition(what + ": no complete answer within " + ms_text(timeout));
  if (failure) return failed_precondition(what + ": " + failure.message());
  boost::beast::http::response_parser<boost::beast::http::string_body> parser;
  parser.eager(true);
  error_code ec;
  parser.put(asio::buffer(received), ec);
  if (!ec && !parser.is_done()) parser.put_eof(ec);
  if (ec || !parser.is_done()) return data_loss(what + ": the answer is not valid HTTP (" + ec.message() + ")");
  return FetchedDocument{static_cast<int>(parser.get().result_int()), parser.get().body()};
}

}  // namespace inferd::loadgen
