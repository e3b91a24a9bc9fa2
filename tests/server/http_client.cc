#include "server/http_client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <optional>

#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>

namespace inferd::test {
namespace {

namespace bhttp = boost::beast::http;
using Clock = std::chrono::steady_clock;

int remaining_ms(Clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
  return left > 0 ? static_cast<int>(left) : 0;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

}  // namespace

std::string ClientResponse::header(const std::string& lower_name) const {
  auto it = headers.find(lower_name);
  return it == headers.end() ? "" : it->second;
}

std::string format_request(std::string_view method, std::string_view target, std::string_view body,
                           std::initializer_list<std::string_view> extra_headers) {
  std::string out;
  out.append(method).append(" ").append(target).append(" HTTP/1.1\r\nHost: 127.0.0.1\r\n");
  for (std::string_view h : extra_headers) out.append(h).append("\r\n");
  if (!body.empty() || method == "POST" || method == "PUT") {
    out += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  }
  out += "\r\n";
  out.append(body);
  return out;
}

HttpClient::HttpClient(int port, int timeout_ms) : timeout_ms_(timeout_ms) {
  fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd_ < 0) {
    error_ = std::string("socket: ") + std::strerror(errno);
    return;
  }
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) {
    error_ = std::string("connect: ") + std::strerror(errno);
    close();
    return;
  }
  const int one = 1;
  ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

HttpClient::~HttpClient() { close(); }

void HttpClient::close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

bool HttpClient::send(std::string_view bytes) {
  while (!bytes.empty()) {
    if (fd_ < 0) {
      error_ = "not connected";
      return false;
    }
    const ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      error_ = std::string("send: ") + std::strerror(errno);
      return false;
    }
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

bool HttpClient::receive_some(int timeout_ms) {
  if (fd_ < 0) {
    error_ = "not connected";
    return false;
  }
  pollfd p{fd_, POLLIN, 0};
  const int ready = ::poll(&p, 1, timeout_ms);
  if (ready == 0) {
    error_ = "timeout";
    return false;
  }
  char chunk[16384];
  const ssize_t n = ready < 0 ? -1 : ::recv(fd_, chunk, sizeof(chunk), 0);
  if (n < 0) {
    error_ = std::string("recv: ") + std::strerror(errno);
    return false;
  }
  if (n == 0) {
    error_ = "eof";
    return false;
  }
  pending_.append(chunk, static_cast<size_t>(n));
  return true;
}

std::optional<ClientResponse> HttpClient::read_response(bool head_request) {
  using Parser = bhttp::response_parser<bhttp::string_body>;
  const auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms_);
  std::optional<Parser> parser;
  const auto fresh_parser = [&] {
    parser.emplace();
    parser->body_limit(boost::none);
    parser->skip(head_request);
  };
  fresh_parser();
  for (;;) {
    boost::system::error_code ec;
    if (!pending_.empty()) {
      const size_t used = parser->put(boost::asio::buffer(pending_), ec);
      pending_.erase(0, used);
      if (!ec && parser->is_header_done() && parser->get().result_int() / 100 == 1) {
        fresh_parser();  // an interim answer (100 Continue) is not the response
        continue;
      }
      if (!ec && parser->is_done()) break;
      if (ec && ec != bhttp::error::need_more) {
        error_ = "bad response: " + ec.message();
        return std::nullopt;
      }
      if (!ec && used > 0) continue;
    }
    if (!receive_some(remaining_ms(deadline))) {
      // A body delimited by the end of the connection; a close before any byte is no answer.
      if (error_ == "eof" && parser->got_some()) {
        parser->put_eof(ec);
        if (!ec && parser->is_done()) break;
      }
      return std::nullopt;
    }
  }
  ClientResponse response;
  response.status = parser->get().result_int();
  for (const auto& field : parser->get()) response.headers[lower(field.name_string())] = std::string(field.value());
  response.body = std::move(parser->get().body());
  return response;
}

std::optional<ClientResponse> HttpClient::request(std::string_view method, std::string_view target,
                                                  std::string_view body,
                                                  std::initializer_list<std::string_view> extra_headers) {
  if (!send(format_request(method, target, body, extra_headers))) return std::nullopt;
  return read_response(method == "HEAD");
}

bool HttpClient::wait_for_text(std::string_view text, int timeout_ms) {
  const auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
  while (pending_.find(text) == std::string::npos) {
    if (!receive_some(remaining_ms(deadline))) return false;
  }
  return true;
}

bool HttpClient::wait_closed(int timeout_ms) {
  const auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
  for (;;) {
    pending_.clear();
    if (!receive_some(remaining_ms(deadline))) return error_ != "timeout";
  }
}

}  // namespace inferd::test
