#include "loadgen/url.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>

namespace inferd::loadgen {
namespace {

bool starts_with_nocase(std::string_view text, std::string_view prefix) {
  return text.size() >= prefix.size() && std::equal(prefix.begin(), prefix.end(), text.begin(), [](char p, char t) {
           return std::tolower(static_cast<unsigned char>(t)) == p;
         });
}

Status check_characters(std::string_view text) {
  for (size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c <= 0x20 || c == 0x7f)
      return invalid_argument("URL '" + std::string(text) + "' has a space or control character at position " +
                              std::to_string(i) + " (percent-encode it)");
  }
  return Status::ok();
}

Result<uint16_t> parse_port(std::string_view url, std::string_view digits) {
  unsigned value = 0;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  if (digits.empty() || ec != std::errc() || end != digits.data() + digits.size() || value < 1 || value > 65535)
    return invalid_argument("URL '" + std::string(url) + "': port '" + std::string(digits) +
                            "' is not a number in 1..65535");
  return static_cast<uint16_t>(value);
}

// Splits "host[:port]" or "[v6][:port]" into url.host and url.port.
Status parse_authority(std::string_view text, std::string_view authority, Url& url) {
  const std::string where = "URL '" + std::string(text) + "'";
  if (authority.find('@') != std::string_view::npos)
    return invalid_argument(where + ": user info (user@host) is not supported; send credentials with -H");
  std::string_view host = authority, port;
  if (!authority.empty() && authority[0] == '[') {
    const size_t close = authority.find(']');
    if (close == std::string_view::npos)
      return invalid_argument(where + ": '[' opens an IPv6 address that never closes");
    host = authority.substr(1, close - 1);
    std::string_view rest = authority.substr(close + 1);
    if (!rest.empty() && rest[0] != ':')
      return invalid_argument(where + ": unexpected '" + std::string(rest) + "' after ']'");
    if (!rest.empty()) port = rest.substr(1);
    if (!rest.empty() && port.empty()) return invalid_argument(where + ": ':' is not followed by a port");
  } else if (const size_t colon = authority.rfind(':'); colon != std::string_view::npos) {
    host = authority.substr(0, colon);
    port = authority.substr(colon + 1);
    if (port.empty()) return invalid_argument(where + ": ':' is not followed by a port");
    if (host.find(':') != std::string_view::npos)
      return invalid_argument(where + ": an IPv6 address must be in brackets, as http://[::1]:8000/");
  }
  if (host.empty()) return invalid_argument(where + " has no host");
  url.host = std::string(host);
  if (!port.empty()) {
    ASSIGN_OR_RETURN(url.port, parse_port(text, port));
  }
  url.host_header = std::string(authority);
  return Status::ok();
}

}  // namespace

std::string Url::authority() const {
  const bool v6 = host.find(':') != std::string::npos;
  return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

std::string Url::str() const {
  return "http://" + host_header + target;
}

Result<Url> parse_url(std::string_view text) {
  if (starts_with_nocase(text, "https://"))
    return unimplemented("'" + std::string(text) +
                         "': https is not supported; put a TLS proxy (stunnel, nginx) in front of the server "
                         "and bench its plain-HTTP side, or bench the server's http:// port");
  if (!starts_with_nocase(text, "http://"))
    return invalid_argument("'" + std::string(text) + "' is not an http:// URL (expected http://host[:port]/path)");
  RETURN_IF_ERROR(check_characters(text));
  std::string_view rest = text.substr(7);
  rest = rest.substr(0, rest.find('#'));
  const size_t path_start = std::min(rest.find('/'), rest.find('?'));
  Url url;
  RETURN_IF_ERROR(parse_authority(text, rest.substr(0, path_start), url));
  url.target = path_start == std::string_view::npos ? "/" : std::string(rest.substr(path_start));
  if (url.target[0] == '?') url.target.insert(0, "/");
  return url;
}

Result<std::chrono::nanoseconds> parse_duration(std::string_view text) {
  const std::string quoted = "duration '" + std::string(text) + "'";
  const size_t unit_at = text.find_first_not_of("0123456789.");
  if (unit_at == 0 || text.empty())
    return invalid_argument(quoted + " does not start with a number (examples: 500ms, 10s, 2m)");
  if (unit_at == std::string_view::npos)
    return invalid_argument(quoted + " needs a unit: us, ms, s, m or h (e.g. " + std::string(text) + "s)");
  double value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + unit_at, value);
  if (ec != std::errc() || end != text.data() + unit_at || !std::isfinite(value))
    return invalid_argument(quoted + ": '" + std::string(text.substr(0, unit_at)) + "' is not a number");
  const std::string_view unit = text.substr(unit_at);
  double ns_per_unit = 0;
  if (unit == "us") ns_per_unit = 1e3;
  if (unit == "ms") ns_per_unit = 1e6;
  if (unit == "s") ns_per_unit = 1e9;
  if (unit == "m") ns_per_unit = 60e9;
  if (unit == "h") ns_per_unit = 3600e9;
  if (ns_per_unit == 0)
    return invalid_argument(quoted + ": unknown unit '" + std::string(unit) + "' (use us, ms, s, m or h)");
  if (value * ns_per_unit > 1e18) return invalid_argument(quoted + " is too long");
  return std::chrono::nanoseconds(static_cast<int64_t>(std::llround(value * ns_per_unit)));
}

Result<std::vector<int>> parse_int_list(std::string_view text) {
  std::vector<int> values;
  const std::string quoted = "'" + std::string(text) + "'";
  size_t pos = 0;
  while (pos <= text.size()) {
    const size_t comma = std::min(text.find(',', pos), text.size());
    const std::string_view item = text.substr(pos, comma - pos);
    int v = 0;
    auto [end, ec] = std::from_chars(item.data(), item.data() + item.size(), v);
    if (item.empty() || ec != std::errc() || end != item.data() + item.size() || v < 1)
      return invalid_argument(quoted + ": '" + std::string(item) + "' is not a positive integer");
    if (!values.empty() && v <= values.back())
      return invalid_argument(quoted + " must increase (" + std::to_string(v) + " follows " +
                              std::to_string(values.back()) + ")");
    values.push_back(v);
    pos = comma + 1;
  }
  return values;
}

}  // namespace inferd::loadgen
