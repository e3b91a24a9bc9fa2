#include "core/toml_scalar.h"

#include <charconv>
#include <cstdio>

namespace inferd::toml::detail {

bool is_bare_key_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
}

bool is_control(unsigned char c) { return (c < 0x20 && c != '\t') || c == 0x7f; }

std::string quoted(std::string_view text, size_t max_len) {
  std::string out = "'";
  size_t i = 0;
  while (i < text.size() && i < max_len) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    const size_t n = c >= 0x80 ? utf8_sequence_length(text, i) : 1;
    if (n > 1) {  // a whole, valid multi-byte character: never cut one in half
      out.append(text.substr(i, n));
      i += n;
      continue;
    }
    if (c < 0x20 || c >= 0x7f || c == '\\' || c == '\'') {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
    ++i;
  }
  if (i < text.size()) out += "...";
  return out + "'";
}

std::string display_key(const std::vector<std::string>& parts, size_t count) {
  std::string out;
  for (size_t i = 0; i < count; ++i) {
    if (i > 0) out += '.';
    if (out.size() > 80) return out + "...";  // a hostile 100 000-part key stays readable
    const std::string& p = parts[i];
    bool bare = !p.empty();
    for (char c : p) bare = bare && is_bare_key_char(c);
    const std::string q = quoted(p);  // '...' escaped and cut; written "..." as TOML does
    out += bare && p.size() <= 40 ? p : '"' + q.substr(1, q.size() - 2) + '"';
  }
  return out;
}

int hex_digit_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

void append_utf8(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xc0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3f));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xe0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
    out += static_cast<char>(0x80 | (cp & 0x3f));
  } else {
    out += static_cast<char>(0xf0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3f));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
    out += static_cast<char>(0x80 | (cp & 0x3f));
  }
}

size_t utf8_sequence_length(std::string_view text, size_t i) {
  const auto byte = [&](size_t k) { return static_cast<unsigned char>(text[k]); };
  const unsigned char c = byte(i);
  if (c < 0x80) return 1;
  // The lead byte says how long the sequence is and holds the top bits of the code point.
  const size_t n = (c & 0xe0) == 0xc0 ? 2 : (c & 0xf0) == 0xe0 ? 3 : (c & 0xf8) == 0xf0 ? 4 : 0;
  if (n == 0) return 0;
  uint32_t cp = c & (0x7fu >> n);
  if (i + n > text.size()) return 0;
  for (size_t k = 1; k < n; ++k) {
    if ((byte(i + k) & 0xc0) != 0x80) return 0;
    cp = (cp << 6) | (byte(i + k) & 0x3f);
  }
  static constexpr uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
  if (cp < kMin[n] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return 0;
  return n;
}

namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// Consumes digits with single underscores between them ("1_000"); false if malformed.
bool take_digits(std::string_view s, size_t& i, std::string& clean) {
  if (i >= s.size() || !is_digit(s[i])) return false;
  while (i < s.size()) {
    if (is_digit(s[i])) {
      clean += s[i++];
    } else if (s[i] == '_' && i + 1 < s.size() && is_digit(s[i + 1])) {
      ++i;
    } else {
      break;
    }
  }
  return true;
}

bool looks_like_date(std::string_view token) {
  if (token.find(':') != std::string_view::npos) return true;
  return token.size() >= 5 && is_digit(token[0]) && is_digit(token[1]) && is_digit(token[2]) &&
         is_digit(token[3]) && token[4] == '-';
}

}  // namespace

Result<Value> parse_number(std::string_view token) {
  const auto fail = [](const std::string& why) { return invalid_argument(why); };
  const std::string shown = quoted(token);
  if (looks_like_date(token)) return fail("invalid number " + shown + " (dates and times are not supported)");
  size_t i = 0;
  std::string clean;
  if (token[0] == '+' || token[0] == '-') {
    if (token[0] == '-') clean += '-';  // from_chars takes no '+'
    ++i;
  }
  const std::string_view prefix = token.substr(i, 2);
  if (prefix == "0x" || prefix == "0o" || prefix == "0b")
    return fail("hexadecimal, octal and binary integers are not supported: " + shown);
  const size_t int_start = i;
  if (!take_digits(token, i, clean)) return fail("invalid number " + shown);
  if (token[int_start] == '0' && i - int_start > 1) return fail("leading zeros are not allowed: " + shown);
  bool is_float = false;
  if (i < token.size() && token[i] == '.') {
    clean += token[i++];
    if (!take_digits(token, i, clean)) return fail("invalid number " + shown + " (digits must follow '.')");
    is_float = true;
  }
  if (i < token.size() && (token[i] == 'e' || token[i] == 'E')) {
    clean += token[i++];
    if (i < token.size() && (token[i] == '+' || token[i] == '-')) clean += token[i++];
    if (!take_digits(token, i, clean))
      return fail("invalid number " + shown + " (digits must follow the exponent)");
    is_float = true;
  }
  if (i != token.size()) return fail("invalid number " + shown);

  const char* first = clean.data();
  const char* last = clean.data() + clean.size();
  if (!is_float) {
    int64_t v = 0;
    const auto r = std::from_chars(first, last, v);
    if (r.ec != std::errc() || r.ptr != last) return fail("integer " + shown + " does not fit in 64 bits");
    return Value(v);
  }
  double d = 0;
  const auto r = std::from_chars(first, last, d);
  if (r.ec != std::errc() || r.ptr != last) return fail("float " + shown + " is out of range");
  return Value(d);
}

}  // namespace inferd::toml::detail
