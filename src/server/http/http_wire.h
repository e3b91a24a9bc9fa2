// Conversions between Beast's HTTP messages and inferd's plain http::Request/Response,
// and the bytes of a response head. Internal to server/http.
#pragma once

#include <cstddef>
#include <string>

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>

#include "server/http/http_types.h"

namespace inferd::http::wire {

using BeastRequest = boost::beast::http::request<boost::beast::http::string_body>;
using BeastRequestParser = boost::beast::http::request_parser<boost::beast::http::string_body>;

// Moves the body out of `message`; header names lower-cased, repeated headers joined with ", ".
Request to_request(BeastRequest&& message);
// The same without the body (for a request whose body has not been read yet).
Request to_request_head(const BeastRequest& message);

struct ResponseFraming {
  bool close = false;       // send "Connection: close" (the connection closes after it)
  bool keep_alive_10 = false;  // an HTTP/1.0 client asked for keep-alive: say "Connection: keep-alive"
  bool head_only = false;   // answer to HEAD: the head says the body's length, the body is not sent
};

// Beast's parser adds a chunked body's trailer fields to the header section; this erases
// every field after the first `header_fields`. RFC 9110 6.5.1 forbids merging trailer
// fields into the header, and a HeadCheck never saw them: a trailer may not set a header
// the handler trusts, nor close the connection.
void drop_trailer_fields(BeastRequest& message, size_t header_fields);

// Status line and headers up to and including the empty line. Normalizes `response`:
// an unknown status becomes 500, headers the transport owns (Content-Length, Connection,
// Server, Transfer-Encoding) or with CR/LF in them are dropped, and the body is cleared
// when it must not be sent (HEAD, 1xx, 204, 304).
std::string response_head(Response& response, const ResponseFraming& framing);

// "HTTP/1.1 100 Continue\r\n\r\n": the interim answer to `Expect: 100-continue`.
const std::string& continue_head();

}  // namespace inferd::http::wire
