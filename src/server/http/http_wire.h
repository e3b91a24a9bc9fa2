// Conversions between Beast's HTTP messages and inferd's plain http::Request/Response,
// and the bytes of a response head. Internal to server/http.
#pragma once

#include <string>

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include "server/http/http_types.h"

namespace inferd::http::wire {

using BeastRequest = boost::beast::http::request<boost::beast::http::string_body>;

// Moves the body out of `message`; header names lower-cased, repeated headers joined with ", ".
Request to_request(BeastRequest&& message);
// The same without the body (for a request whose body has not been read yet).
Request to_request_head(const BeastRequest& message);

struct ResponseFraming {
  bool close = false;       // send "Connection: close" (the connection closes after it)
  bool keep_alive_10 = false;  // an HTTP/1.0 client asked for keep-alive: say "Connection: keep-alive"
  bool head_only = false;   // answer to HEAD: the head says the body's length, the body is not sent
};

// Status line and headers up to and including the empty line. Normalizes `response`:
// an unknown status becomes 500, headers the transport owns (Content-Length, Connection,
// Server, Transfer-Encoding) or with CR/LF in them are dropped, and the body is cleared
// when it must not be sent (HEAD, 1xx, 204, 304).
std::string response_head(Response& response, const ResponseFraming& framing);

// "HTTP/1.1 100 Continue\r\n\r\n": the interim answer to `Expect: 100-continue`.
const std::string& continue_head();

}  // namespace inferd::http::wire
