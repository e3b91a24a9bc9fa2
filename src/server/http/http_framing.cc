#include "server/http/http_framing.h"

#include <charconv>
#include <vector>

#include <boost/beast/http/error.hpp>
#include <boost/beast/http/field.hpp>

namespace inferd::http {
namespace {

namespace bhttp = boost::beast::http;

constexpr size_t kMaxEchoedBytes = 64;  // of a client's value quoted back in an error

Status bad_transfer_encoding(const std::string& why) {
  return invalid_argument("malformed HTTP request: bad Transfer-Encoding: " + why);
}

std::string quoted(std::string_view value) {
  std::string out = "'";
  out.append(value.substr(0, kMaxEchoedBytes));
  out += value.size() > kMaxEchoedBytes ? "...'" : "'";
  return out;
}

std::string_view trim(std::string_view s) {
  const size_t first = s.find_first_not_of(" \t");
  if (first == std::string_view::npos) return {};
  return s.substr(first, s.find_last_not_of(" \t") - first + 1);
}

// RFC 9110 5.6.2.
bool is_token(std::string_view s) {
  constexpr std::string_view kSymbols = "!#$%&'*+-.^_`|~";
  if (s.empty()) return false;
  for (char c : s) {
    const bool alnum = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    if (!alnum && kSymbols.find(c) == std::string_view::npos) return false;
  }
  return true;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    const auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; };
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

// The elements of a comma-separated list, without their optional whitespace; an empty
// element stays in (as ""), for the caller to refuse.
std::vector<std::string_view> split_list(std::string_view value) {
  std::vector<std::string_view> elements;
  for (;;) {
    const size_t comma = value.find(',');
    elements.push_back(trim(value.substr(0, comma)));
    if (comma == std::string_view::npos) return elements;
    value.remove_prefix(comma + 1);
  }
}

// RFC 9112 6.1 and 6.3, in this order: the list's syntax, then chunked's place (last and
// once, or the body's length cannot be known), both 400; then the codings themselves, 501
// for any but chunked, the only one implemented. Empty elements are refused rather than
// skipped as RFC 9110 5.6.1 allows: framing is where two parsers reading one field
// differently becomes smuggling, so only the plain spelling is taken.
Status check_transfer_codings(std::string_view value) {
  const std::vector<std::string_view> codings = split_list(value);
  const auto name_of = [](std::string_view coding) { return trim(coding.substr(0, coding.find(';'))); };
  for (std::string_view coding : codings) {
    if (coding.empty()) return bad_transfer_encoding("empty element in the list of codings");
    if (!is_token(name_of(coding))) return bad_transfer_encoding(quoted(coding) + " is not a transfer coding");
  }
  for (size_t i = 0; i < codings.size(); ++i) {
    // chunked has no parameters (RFC 9112 7.1).
    if (iequals(name_of(codings[i]), "chunked") && (i + 1 != codings.size() || name_of(codings[i]) != codings[i])) {
      return bad_transfer_encoding("chunked must be the last coding, once, without parameters");
    }
  }
  for (std::string_view coding : codings) {
    if (!iequals(name_of(coding), "chunked")) {
      return unimplemented("Transfer-Encoding " + quoted(name_of(coding)) + " is not implemented; only chunked is");
    }
  }
  return Status::ok();
}

// RFC 9112 6.3 and RFC 9110 8.6: 1*DIGIT; a list (or repeated lines) of equal values is one.
Result<uint64_t> parse_content_length(std::string_view value) {
  std::optional<uint64_t> length;
  for (std::string_view element : split_list(value)) {
    uint64_t n = 0;
    const auto [end, ec] = std::from_chars(element.data(), element.data() + element.size(), n);
    // For an unsigned type from_chars takes no sign and no whitespace, and reports overflow.
    if (element.empty() || ec != std::errc() || end != element.data() + element.size()) {
      return invalid_argument("malformed HTTP request: bad Content-Length: " + quoted(element) +
                              " is not a byte count");
    }
    if (length && *length != n) {
      return invalid_argument("malformed HTTP request: multiple Content-Length values that differ");
    }
    length = n;
  }
  return *length;
}

// The framing Beast's parser chose for the request whose head it has parsed.
BodyFraming parser_framing(const wire::BeastRequestParser& parser) {
  if (parser.chunked()) return {BodyFraming::Kind::kChunked, 0};
  if (const auto length = parser.content_length()) return {BodyFraming::Kind::kContentLength, *length};
  return {};
}

}  // namespace

Status both_framings_error() {
  return bad_transfer_encoding("a request cannot have both Transfer-Encoding and Content-Length");
}

Result<BodyFraming> decide_framing(const Request& head, unsigned version) {
  const auto transfer_encoding = head.headers.find("transfer-encoding");
  const auto content_length = head.headers.find("content-length");
  if (transfer_encoding == head.headers.end()) {
    if (content_length == head.headers.end()) return BodyFraming{};
    ASSIGN_OR_RETURN(const uint64_t length, parse_content_length(content_length->second));
    return BodyFraming{BodyFraming::Kind::kContentLength, length};
  }
  // RFC 9112 6.1: an HTTP/1.0 intermediary may have forwarded the field without
  // understanding it, so the framing cannot be trusted.
  if (version < 11) return bad_transfer_encoding("HTTP/1.0 requests cannot use it");
  // Two framings: a front end and this server could each pick a different one (smuggling).
  if (content_length != head.headers.end()) return both_framings_error();
  RETURN_IF_ERROR(check_transfer_codings(transfer_encoding->second));
  return BodyFraming{BodyFraming::Kind::kChunked, 0};
}

std::optional<Refusal> framing_refusal(const Request& head, const wire::BeastRequestParser& parser) {
  Result<BodyFraming> framing = decide_framing(head, parser.get().version());
  if (framing.is_ok() && !(*framing == parser_framing(parser))) {
    framing = invalid_argument("malformed HTTP request: ambiguous message framing");
  }
  if (framing.is_ok()) return std::nullopt;
  return Refusal{framing.status().code() == StatusCode::kUnimplemented ? 501 : 400, framing.status().message()};
}

Refusal parse_error_refusal(boost::system::error_code ec, const wire::BeastRequestParser& parser,
                            const HttpServerOptions& options) {
  const std::string header_limit = std::to_string(options.max_header_bytes);
  if (ec == bhttp::error::header_limit) {
    // The parser stores the target once the request line is whole: a line that is not is
    // a target too long to parse (RFC 9112 3).
    if (parser.get().target().empty()) return {414, "request line is over the limit of " + header_limit + " bytes"};
    return {431, "request headers are over the limit of " + header_limit + " bytes"};
  }
  if (ec == bhttp::error::body_limit) {  // only chunked bodies get here: they are counted as they arrive
    const std::string limit = std::to_string(options.max_body_bytes);
    return {413, "body is more than " + limit + " bytes, limit is " + limit};
  }
  // The parser stops at the second of two framings, naming only that one.
  const auto& so_far = parser.get();
  if ((ec == bhttp::error::bad_content_length && so_far.count(bhttp::field::transfer_encoding) > 0) ||
      (ec == bhttp::error::bad_transfer_encoding && so_far.count(bhttp::field::content_length) > 0)) {
    return {400, both_framings_error().message()};
  }
  return {400, "malformed HTTP request: " + ec.message()};
}

Refusal long_chunk_framing_refusal(std::string_view pending, size_t limit) {
  pending = pending.substr(0, limit);
  if (pending.substr(0, 2) == "\r\n") pending.remove_prefix(2);  // ends the previous chunk's data
  // A whole size line is consumed at once unless it is the last chunk's: if one is still
  // here, the trailer after it is what is too long.
  if (pending.find('\n') != std::string_view::npos) {
    return {431, "chunk trailer is over the limit of " + std::to_string(limit) + " bytes"};
  }
  return {400, "chunk-size line is over the limit of " + std::to_string(limit) + " bytes"};
}

}  // namespace inferd::http
