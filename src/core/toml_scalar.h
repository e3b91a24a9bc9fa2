// Internal to the TOML parser (core/toml.cc): the pieces that work on one token or one
// character, apart from the document cursor, so that each can be read and tested alone.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/toml.h"

namespace inferd::toml::detail {

bool is_bare_key_char(char c);  // A-Z a-z 0-9 _ -
// True for bytes TOML forbids in strings and comments (tab is allowed).
bool is_control(unsigned char c);

// 'text' for an error message, with control characters, quotes and backslashes escaped
// (so a hostile key cannot break the message's line) and cut after max_len bytes.
std::string quoted(std::string_view text, size_t max_len = 40);

// A (dotted) key as the user would write it: bare parts as they are, others "quoted",
// the first count parts only; long keys are cut.
std::string display_key(const std::vector<std::string>& parts, size_t count);

// 0..15 for a hex digit, -1 for anything else.
int hex_digit_value(char c);

void append_utf8(std::string& out, uint32_t code_point);
// Length of the valid UTF-8 sequence starting at text[i] (RFC 3629: no overlong forms, no
// surrogates, <= U+10FFFF), or 0 if the bytes there are not valid UTF-8.
size_t utf8_sequence_length(std::string_view text, size_t i);

// An integer ("-1_000") or float ("6.02e23", "1E-3") token, TOML 1.0 syntax. The error's
// message names the token but no position: the caller adds "FILE:LINE:COL: ".
Result<Value> parse_number(std::string_view token);

}  // namespace inferd::toml::detail
