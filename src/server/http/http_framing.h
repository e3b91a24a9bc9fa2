// How a request's body is delimited (RFC 9112 6.1-6.3, 7.1), and what a request is answered
// when its framing cannot be trusted. Internal to server/http.
//
// Beast's parser frames the body by its own, laxer reading of Transfer-Encoding: it ignores
// a list whose last coding is not chunked and codings it does not know, and then takes the
// body for the next request (request smuggling). So the connection checks the parser's
// choice against decide_framing and serves a request only when both agree. Every refusal
// here closes the connection: the rest of the stream cannot be told apart from the body.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <boost/system/error_code.hpp>

#include "core/status.h"
#include "server/http/http_server.h"
#include "server/http/http_types.h"
#include "server/http/http_wire.h"

namespace inferd::http {

struct BodyFraming {
  enum class Kind { kNone, kContentLength, kChunked };
  Kind kind = Kind::kNone;
  uint64_t length = 0;  // kContentLength only

  bool operator==(const BodyFraming&) const = default;
};

// `head`: header names lower-cased, repeated fields joined with ", " (wire::to_request_head),
// so several Transfer-Encoding lines are one list. `version`: 10 for HTTP/1.0, 11 for 1.1.
// Fails with kUnimplemented (answer 501) for a transfer coding other than chunked and with
// kInvalidArgument (answer 400) for a malformed or ambiguous framing.
Result<BodyFraming> decide_framing(const Request& head, unsigned version);

// The refusal of a request with both Transfer-Encoding and Content-Length.
Status both_framings_error();

// An answer the transport gives itself, before closing the connection.
struct Refusal {
  int status = 400;
  std::string message;
};

// For a request whose head `parser` has just parsed (`head` is that head): nullopt when
// its framing is decide_framing's and the parser's alike, else the refusal.
std::optional<Refusal> framing_refusal(const Request& head, const wire::BeastRequestParser& parser);

// For an error of `parser` (not need_more) while it parses a request.
Refusal parse_error_refusal(boost::system::error_code ec, const wire::BeastRequestParser& parser,
                            const HttpServerOptions& options);

// While a chunked body's parser waits for the end of a chunk-size line or of the trailer
// section, `pending` (the unconsumed bytes, from the line's start) has reached `limit`.
Refusal long_chunk_framing_refusal(std::string_view pending, size_t limit);

}  // namespace inferd::http
