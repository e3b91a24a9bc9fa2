#include "server/http/http_wire.h"

#include <boost/beast/http/status.hpp>
#include <charconv>

#include "core/log.h"

namespace inferd::http::wire {
namespace {

namespace bhttp = boost::beast::http;

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

// A header the handler may not set: the transport decides framing and identity.
bool transport_owned(const std::string& lower_name) {
  return lower_name == "content-length" || lower_name == "connection" || lower_name == "server" ||
         lower_name == "transfer-encoding" || lower_name == "content-type";
}

// CR or LF inside a header would let a value forge headers or a second response.
bool has_line_break(const std::string& s) { return s.find_first_of("\r\n") != std::string::npos; }

bool body_allowed(int status) { return status >= 200 && status != 204 && status != 304; }

// "name: value\r\n" appended in place (no temporaries: this runs once per answer).
void append_field(std::string& head, std::string_view name, std::string_view value) {
  head.append(name).append(": ").append(value).append("\r\n");
}

}  // namespace

Request to_request_head(const BeastRequest& message) {
  Request request;
  request.method = std::string(message.method_string());
  request.target = std::string(message.target());
  for (const auto& field : message) {
    const std::string name = lower(field.name_string());
    auto [it, inserted] = request.headers.emplace(name, std::string(field.value()));
    if (!inserted) {
      it->second += ", ";
      it->second += field.value();
    }
  }
  return request;
}

Request to_request(BeastRequest&& message) {
  Request request = to_request_head(message);
  request.body = std::move(message.body());
  return request;
}

void drop_trailer_fields(BeastRequest& message, size_t header_fields) {
  auto field = message.begin();
  for (size_t i = 0; i < header_fields && field != message.end(); ++i) ++field;
  while (field != message.end()) field = message.erase(field);
}

std::string response_head(Response& response, const ResponseFraming& framing) {
  auto code = bhttp::int_to_status(static_cast<unsigned>(response.status));
  if (code == bhttp::status::unknown || response.status < 100 || response.status > 599) {
    log_error("http_bad_status").kv("status", response.status);
    response = error_response(500, "internal error: the handler answered with HTTP status " +
                                       std::to_string(response.status));
    code = bhttp::status::internal_server_error;
  }
  const bool with_body = body_allowed(response.status);
  std::string head;
  head.reserve(160);
  head += "HTTP/1.1 ";
  head += std::to_string(response.status);
  head += ' ';
  head += bhttp::obsolete_reason(code);
  head += "\r\nServer: inferd\r\n";
  if (with_body && !response.content_type.empty() && !has_line_break(response.content_type)) {
    append_field(head, "Content-Type", response.content_type);
  }
  for (const auto& [name, value] : response.headers) {
    if (name.empty() || transport_owned(lower(name)) || has_line_break(name) || has_line_break(value)) continue;
    append_field(head, name, value);
  }
  // For HEAD this is the length a GET would have had (RFC 9110 8.6); the body is not sent.
  if (with_body) {
    char length[24];
    const auto end = std::to_chars(length, length + sizeof(length), response.body.size()).ptr;
    append_field(head, "Content-Length", std::string_view(length, static_cast<size_t>(end - length)));
  }
  if (framing.close) {
    head += "Connection: close\r\n";
  } else if (framing.keep_alive_10) {
    head += "Connection: keep-alive\r\n";
  }
  head += "\r\n";
  if (!with_body || framing.head_only) response.body.clear();
  return head;
}

const std::string& continue_head() {
  static const std::string head = "HTTP/1.1 100 Continue\r\n\r\n";
  return head;
}

}  // namespace inferd::http::wire
