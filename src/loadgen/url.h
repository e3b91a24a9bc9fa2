// The target of `inferd bench`: an http:// URL split into what the client needs.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace inferd::loadgen {

struct Url {
  std::string host;  // as written, without brackets for IPv6 ("::1")
  uint16_t port = 80;
  std::string target;       // path and query, never empty ("/" when the URL has no path)
  std::string host_header;  // the Host header value: host[:port] as the URL gives it

  std::string authority() const;  // "host:port" (IPv6 in brackets), for messages
  std::string str() const;        // "http://" + host_header + target
};

// http://host[:port][/path][?query]; the scheme is case-insensitive, a #fragment is
// dropped (it never reaches a server). https, user info, a bad port, an empty host and
// whitespace or control characters are errors that name the part that is wrong.
Result<Url> parse_url(std::string_view text);

// "500ms", "10s", "1.5s", "2m", "1h", "250us": a non-negative number and a unit.
Result<std::chrono::nanoseconds> parse_duration(std::string_view text);

// "1,2,4,8": positive integers, strictly increasing.
Result<std::vector<int>> parse_int_list(std::string_view text);

}  // namespace inferd::loadgen
