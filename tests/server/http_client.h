// A minimal blocking HTTP/1.1 client over a raw TCP socket, for server tests: send any
// bytes (well-formed or not), read responses one at a time (pipelined ones included),
// and observe whether the server closed the connection. Every wait has a deadline, so
// a server bug fails a test instead of hanging it.
#pragma once

#include <initializer_list>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace inferd::test {

struct ClientResponse {
  int status = 0;
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;

  std::string header(const std::string& lower_name) const;  // "" when absent
};

// "METHOD target HTTP/1.1" with Host, Content-Length (when there is a body or the
// method is POST/PUT) and `extra_headers` (each "Name: value", no CRLF).
std::string format_request(std::string_view method, std::string_view target, std::string_view body = {},
                           std::initializer_list<std::string_view> extra_headers = {});

class HttpClient {
 public:
  // Connects to 127.0.0.1:port; connected() says whether it worked.
  explicit HttpClient(int port, int timeout_ms = 5000);
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  bool connected() const { return fd_ >= 0; }
  const std::string& error() const { return error_; }  // why the last call failed

  bool send(std::string_view bytes);  // false if the socket is broken
  // Reads the next response (after any bytes left over from a previous read); nullopt
  // on timeout, EOF or error, with error() saying which. `head_request`: no body follows.
  std::optional<ClientResponse> read_response(bool head_request = false);
  // send(format_request(...)) then read_response().
  std::optional<ClientResponse> request(std::string_view method, std::string_view target,
                                        std::string_view body = {},
                                        std::initializer_list<std::string_view> extra_headers = {});
  // True when the server closes (EOF or reset) within timeout_ms; bytes that arrive first
  // are discarded.
  bool wait_closed(int timeout_ms);
  // True once the bytes received (and not yet parsed) contain `text`, e.g. an interim
  // "100 Continue" that read_response() would skip; the bytes stay for read_response().
  bool wait_for_text(std::string_view text, int timeout_ms);
  void close();

 private:
  // Appends to pending_ what arrives within the deadline; false on EOF/error/timeout.
  bool receive_some(int timeout_ms);

  int fd_ = -1;
  int timeout_ms_;
  std::string pending_;  // received, not yet parsed
  std::string error_;
};

}  // namespace inferd::test
