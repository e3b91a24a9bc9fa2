// Plain HTTP request/response values exchanged between the transport (HttpServer,
// Boost.Beast) and the handlers. Handlers are pure request -> response functions
// that never see a socket; they may answer later, from any thread, through Respond.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace inferd::http {

struct Request {
  std::string method;   // "GET", "POST", ...
  std::string target;   // path and query as received: "/v1/models/x/classify?top=3"
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;
  // When its head had arrived (set by the HTTP server; a request made in code leaves it
  // unset). Deadlines run from here, so a slow upload is part of the time a client allowed.
  std::chrono::steady_clock::time_point received{};

  std::string_view path() const;                          // target without the query
  std::string query_param(std::string_view name) const;   // "" when absent (no decoding beyond %XX and +)
  std::string header(const std::string& lower_name) const;  // "" when absent
};

struct Response {
  int status = 200;
  std::string content_type = "application/json";
  std::map<std::string, std::string> headers;  // extra headers (e.g. Retry-After)
  std::string body;
};

// `{"error": "<message>"}` with the given status: every error inferd returns. Bytes of
// the message that are not UTF-8 (a model name echoed from the URL, say) become U+FFFD,
// so the body is always valid JSON.
Response error_response(int status, const std::string& message);

// The length of the longest prefix of `text` that is well-formed UTF-8 (RFC 3629: no
// overlong forms, no surrogates, nothing above U+10FFFF).
size_t valid_utf8_prefix(std::string_view text);

// Called exactly once per request, from any thread.
using Respond = std::function<void(Response)>;
using Handler = std::function<void(Request, Respond)>;

// Judges a request from its head alone (`head.body` is empty), on the I/O thread, as soon
// as its headers are in and before any of its body is read or `100 Continue` is sent: an
// answer refuses the request and the handler never sees it. So a client that may not ask
// (no token, say) cannot make the server read and buffer a body. A refused request that
// has a body closes the connection (the body is never read, so the stream cannot be
// framed); one without a body keeps it open. Must be fast, thread-safe and not throw.
using HeadCheck = std::function<std::optional<Response>(const Request& head)>;

}  // namespace inferd::http
