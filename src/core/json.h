// JSON output helpers shared by the server, the CLI and the load generator, which all
// write their JSON by hand (it is small and fixed-shape; a DOM would only cost).
#pragma once

#include <string>
#include <string_view>

namespace inferd {

// `s` as a JSON string literal, quotes included. Bytes are passed through as they are
// (callers hand in UTF-8); the quote, the backslash and control characters are escaped,
// the common ones by name (\n \r \t), the rest as \u00XX.
std::string json_quote(std::string_view s);

}  // namespace inferd
