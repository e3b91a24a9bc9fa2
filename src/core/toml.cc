#include "core/toml.h"

#include <utility>

#include "core/toml_scalar.h"

namespace inferd::toml {

const Value& Table::value(size_t i) const { return values_[i]; }
Value& Table::value(size_t i) { return values_[i]; }

const Value* Table::find(std::string_view key) const {
  auto it = index_.find(key);
  return it == index_.end() ? nullptr : &values_[it->second];
}

Value* Table::find(std::string_view key) {
  auto it = index_.find(key);
  return it == index_.end() ? nullptr : &values_[it->second];
}

Value* Table::insert(std::string key, Value value) {
  if (index_.contains(key)) return nullptr;
  index_.emplace(key, values_.size());
  keys_.push_back(std::move(key));
  values_.push_back(std::move(value));
  return &values_.back();
}

const char* to_string(Type type) {
  switch (type) {
    case Type::kInteger: return "integer";
    case Type::kFloat: return "float";
    case Type::kBool: return "boolean";
    case Type::kString: return "string";
    case Type::kArray: return "array";
    case Type::kTable: return "table";
  }
  return "unknown";
}

std::optional<double> Value::as_number() const {
  if (const auto* i = get_if<int64_t>()) return static_cast<double>(*i);
  if (const auto* d = get_if<double>()) return *d;
  return std::nullopt;
}

using detail::append_utf8;
using detail::display_key;
using detail::is_bare_key_char;
using detail::is_control;
using detail::quoted;
using detail::utf8_sequence_length;

namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// Characters that can belong to a number, boolean or unsupported date token; reading the
// whole token first lets "1979-05-27" or "truex" be reported as one thing.
bool is_scalar_char(char c) { return is_bare_key_char(c) || c == '+' || c == '.' || c == ':'; }

}  // namespace

// Recursive descent over the document with a line/column cursor. The first error ends the
// parse: config files are short and one precise message beats a cascade.
class Parser {
 public:
  Parser(std::string_view text, const std::string& file_name) : text_(text), file_(file_name) {}

  Result<Table> run();

 private:
  using Key = std::vector<std::string>;
  struct KeyPos {
    Key parts;
    int line, column;
  };

  // Cursor.
  bool at_end() const { return pos_ >= text_.size(); }
  char peek(size_t ahead = 0) const { return pos_ + ahead < text_.size() ? text_[pos_ + ahead] : '\0'; }
  void advance();
  bool starts_with(std::string_view s) const { return text_.substr(pos_).starts_with(s); }
  std::string describe_next() const;

  std::string position(int line, int column) const {
    return file_ + ":" + std::to_string(line) + ":" + std::to_string(column) + ": ";
  }
  Status error_at(int line, int column, const std::string& message) const {
    return invalid_argument(position(line, column) + message);
  }
  Status error(const std::string& message) const { return error_at(line_, column_, message); }
  Status too_deep(int line, int column) const {
    return resource_exhausted(position(line, column) + "tables and arrays nested deeper than " +
                              std::to_string(kMaxDepth) + " levels");
  }

  // Layout.
  Status check_utf8();
  void skip_spaces();
  bool consume_newline();
  Status skip_comment();
  Status expect_end_of_line(const std::string& after);
  Status skip_blank_lines_and_comments();

  // Grammar.
  Status parse_header();
  Status parse_key_value();
  Result<KeyPos> parse_key();
  Result<std::string> parse_simple_key();
  Result<std::string> parse_basic_string();
  Result<std::string> parse_literal_string();
  Status parse_escape(std::string& out);
  Result<Value> parse_value(int depth);
  Result<Value> parse_array(int depth);
  Result<Value> parse_scalar();

  std::string_view text_;
  const std::string& file_;
  size_t pos_ = 0;
  int line_ = 1;
  int column_ = 1;

  Table root_;
  Table* current_ = &root_;   // the table that key = value lines go into
  int current_depth_ = 0;     // how many tables deep current_ is below the root
  std::string current_name_;  // "[a.b]" for messages, empty for the root
};

void Parser::advance() {
  if (at_end()) return;
  const char c = text_[pos_++];
  if (c == '\n') {
    ++line_;
    column_ = 1;
  } else if (at_end() || (static_cast<unsigned char>(text_[pos_]) & 0xc0) != 0x80) {
    ++column_;  // a character ends here (UTF-8 continuation bytes belong to the one before)
  }
}

std::string Parser::describe_next() const {
  if (at_end()) return "end of file";
  const unsigned char c = static_cast<unsigned char>(peek());
  if (c == '\n' || (c == '\r' && peek(1) == '\n')) return "end of line";
  if (c >= 0x80) return "a non-ASCII character";
  return quoted(text_.substr(pos_, 1));
}

Status Parser::check_utf8() {
  int line = 1, column = 1;
  for (size_t i = 0; i < text_.size();) {
    const size_t n = utf8_sequence_length(text_, i);
    if (n == 0) return error_at(line, column, "invalid UTF-8 (TOML files must be UTF-8 text)");
    if (text_[i] == '\n') {
      ++line;
      column = 1;
    } else {
      ++column;
    }
    i += n;
  }
  return Status::ok();
}

void Parser::skip_spaces() {
  while (peek() == ' ' || peek() == '\t') advance();
}

bool Parser::consume_newline() {
  if (peek() == '\n') {
    advance();
    return true;
  }
  if (peek() == '\r' && peek(1) == '\n') {
    advance();
    advance();
    return true;
  }
  return false;
}

Status Parser::skip_comment() {
  if (peek() != '#') return Status::ok();
  advance();
  while (!at_end() && peek() != '\n') {
    if (peek() == '\r' && peek(1) == '\n') break;
    if (is_control(static_cast<unsigned char>(peek())))
      return error("control character " + quoted(text_.substr(pos_, 1)) + " in a comment");
    advance();
  }
  return Status::ok();
}

Status Parser::expect_end_of_line(const std::string& after) {
  skip_spaces();
  RETURN_IF_ERROR(skip_comment());
  if (at_end() || consume_newline()) return Status::ok();
  return error("expected end of line after " + after + ", found " + describe_next());
}

Status Parser::skip_blank_lines_and_comments() {
  for (;;) {
    skip_spaces();
    RETURN_IF_ERROR(skip_comment());
    if (!consume_newline()) return Status::ok();
  }
}

Result<Table> Parser::run() {
  if (text_.size() > kMaxDocumentBytes)
    return resource_exhausted(file_ + ": document is " + std::to_string(text_.size()) +
                              " bytes; the limit is " + std::to_string(kMaxDocumentBytes));
  RETURN_IF_ERROR(check_utf8());
  if (starts_with("\xef\xbb\xbf")) pos_ = 3;  // byte-order mark some editors write
  for (;;) {
    RETURN_IF_ERROR(skip_blank_lines_and_comments());
    if (at_end()) break;
    if (peek() == '[') {
      RETURN_IF_ERROR(parse_header());
    } else {
      RETURN_IF_ERROR(parse_key_value());
    }
  }
  return std::move(root_);
}

Status Parser::parse_header() {
  const int line = line_, column = column_;
  advance();  // '['
  if (peek() == '[') return error_at(line, column, "arrays of tables ([[...]]) are not supported");
  skip_spaces();
  ASSIGN_OR_RETURN(KeyPos key, parse_key());
  skip_spaces();
  // Appended piecewise: GCC 12 warns falsely (-Wrestrict, bug 105329) on "[" + str.
  std::string name = "[";
  name += display_key(key.parts, key.parts.size());
  name += ']';
  if (peek() != ']')
    return error("expected ']' to close table header " + name + ", found " + describe_next());
  advance();
  if (key.parts.size() > static_cast<size_t>(kMaxDepth)) return too_deep(line, column);

  Table* table = &root_;
  for (size_t i = 0; i < key.parts.size(); ++i) {
    const bool last = i + 1 == key.parts.size();
    Value* v = table->find(key.parts[i]);
    if (v == nullptr) {
      Table t;
      t.origin_ = last ? Table::Origin::kHeader : Table::Origin::kImplicit;
      v = table->insert(key.parts[i], Value(std::move(t)));
      v->line = line;
      v->column = column;
    } else if (!v->is_table()) {
      return error_at(line, column,
                      "'" + display_key(key.parts, i + 1) + "' is already defined at line " +
                          std::to_string(v->line) + " as a value of type " + v->type_name() +
                          ", not a table");
    } else if (last && v->as_table().origin_ != Table::Origin::kImplicit) {
      return error_at(line, column,
                      "table " + name + " is defined twice (first at line " + std::to_string(v->line) + ")");
    } else if (last) {
      v->as_table().origin_ = Table::Origin::kHeader;
      v->line = line;
      v->column = column;
    }
    table = &v->as_table();
  }
  current_ = table;
  current_depth_ = static_cast<int>(key.parts.size());
  current_name_ = name;
  return expect_end_of_line("table header " + name);
}

Status Parser::parse_key_value() {
  ASSIGN_OR_RETURN(KeyPos key, parse_key());
  const std::string name = display_key(key.parts, key.parts.size());
  skip_spaces();
  if (peek() != '=') return error("expected '=' after key '" + name + "', found " + describe_next());
  advance();
  skip_spaces();
  const int value_depth = current_depth_ + static_cast<int>(key.parts.size());
  if (value_depth - 1 > kMaxDepth) return too_deep(key.line, key.column);
  ASSIGN_OR_RETURN(Value value, parse_value(value_depth));

  const std::string where = current_name_.empty() ? "" : " in table " + current_name_;
  Table* table = current_;
  for (size_t i = 0; i + 1 < key.parts.size(); ++i) {
    Value* v = table->find(key.parts[i]);
    if (v == nullptr) {
      Table t;
      t.origin_ = Table::Origin::kDottedKey;
      v = table->insert(key.parts[i], Value(std::move(t)));
      v->line = key.line;
      v->column = key.column;
    } else if (!v->is_table() || v->as_table().origin_ != Table::Origin::kDottedKey) {
      return error_at(key.line, key.column,
                      "cannot add key '" + name + "'" + where + ": '" + display_key(key.parts, i + 1) +
                          "' is already defined at line " + std::to_string(v->line));
    }
    table = &v->as_table();
  }
  const std::string& last = key.parts.back();
  if (const Value* old = table->find(last)) {
    return error_at(key.line, key.column,
                    "duplicate key '" + name + "'" + where + " (first defined at line " +
                        std::to_string(old->line) + ")");
  }
  table->insert(last, std::move(value));
  return expect_end_of_line("the value of key '" + name + "'");
}

Result<Parser::KeyPos> Parser::parse_key() {
  KeyPos key{{}, line_, column_};
  for (;;) {
    ASSIGN_OR_RETURN(std::string part, parse_simple_key());
    key.parts.push_back(std::move(part));
    skip_spaces();
    if (peek() != '.') return key;
    advance();
    skip_spaces();
  }
}

Result<std::string> Parser::parse_simple_key() {
  if (peek() == '"') {
    if (starts_with("\"\"\"")) return error("a key cannot be a multi-line string");
    return parse_basic_string();
  }
  if (peek() == '\'') {
    if (starts_with("'''")) return error("a key cannot be a multi-line string");
    return parse_literal_string();
  }
  const size_t start = pos_;
  while (is_bare_key_char(peek())) advance();
  if (pos_ == start) return error("expected a key, found " + describe_next());
  return std::string(text_.substr(start, pos_ - start));
}

Result<std::string> Parser::parse_basic_string() {
  const int line = line_, column = column_;
  advance();  // opening quote
  std::string out;
  for (;;) {
    if (at_end() || peek() == '\n' || (peek() == '\r' && peek(1) == '\n'))
      return error_at(line, column, "unterminated string (missing closing '\"' on this line)");
    const char c = peek();
    if (c == '"') {
      advance();
      return out;
    }
    if (c == '\\') {
      RETURN_IF_ERROR(parse_escape(out));
      continue;
    }
    if (is_control(static_cast<unsigned char>(c)))
      return error("control character " + quoted(text_.substr(pos_, 1)) +
                   " in a string; write it as an escape such as \\n or \\u0001");
    out += c;
    advance();
  }
}

Status Parser::parse_escape(std::string& out) {
  const int line = line_, column = column_;
  advance();  // backslash
  const char c = peek();
  static constexpr std::pair<char, char> kSimple[] = {{'"', '"'},  {'\\', '\\'}, {'n', '\n'}, {'t', '\t'},
                                                      {'r', '\r'}, {'b', '\b'},  {'f', '\f'}};
  for (const auto& [name, decoded] : kSimple) {
    if (c == name) {
      out += decoded;
      advance();
      return Status::ok();
    }
  }
  if (c != 'u' && c != 'U') {
    const std::string valid = " (valid: \\\" \\\\ \\n \\t \\r \\b \\f \\uXXXX \\UXXXXXXXX)";
    if (c >= 0x20 && c < 0x7f)
      return error_at(line, column, std::string("invalid escape sequence '\\") + c + "'" + valid);
    return error_at(line, column, "invalid escape sequence: '\\' followed by " + describe_next() + valid);
  }
  advance();
  const int digits = c == 'u' ? 4 : 8;
  uint32_t cp = 0;
  for (int i = 0; i < digits; ++i) {
    const int v = detail::hex_digit_value(peek());
    if (v < 0)
      return error_at(line, column,
                      std::string("\\") + c + " needs exactly " + std::to_string(digits) + " hex digits");
    cp = cp * 16 + static_cast<uint32_t>(v);
    advance();
  }
  if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
    return error_at(line, column, "escape names no Unicode scalar value (surrogate or > U+10FFFF)");
  append_utf8(out, cp);
  return Status::ok();
}

Result<std::string> Parser::parse_literal_string() {
  const int line = line_, column = column_;
  advance();  // opening quote
  const size_t start = pos_;
  for (;;) {
    if (at_end() || peek() == '\n' || (peek() == '\r' && peek(1) == '\n'))
      return error_at(line, column, "unterminated literal string (missing closing \"'\" on this line)");
    if (peek() == '\'') break;
    if (is_control(static_cast<unsigned char>(peek())))
      return error("control character " + quoted(text_.substr(pos_, 1)) + " in a literal string");
    advance();
  }
  std::string out(text_.substr(start, pos_ - start));
  advance();
  return out;
}

Result<Value> Parser::parse_value(int depth) {
  const int line = line_, column = column_;
  Result<Value> result = Value();
  const char c = peek();
  if (c == '"' || c == '\'') {
    if (starts_with("\"\"\"") || starts_with("'''"))
      return error("multi-line strings are not supported; write the string on one line");
    auto s = c == '"' ? parse_basic_string() : parse_literal_string();
    if (!s.is_ok()) return s.status();
    result = Value(std::move(s).value());
  } else if (c == '[') {
    result = parse_array(depth);
  } else if (c == '{') {
    return error("inline tables ({...}) are not supported; use a [table] header");
  } else {
    result = parse_scalar();
  }
  if (result.is_ok()) {
    result->line = line;
    result->column = column;
  }
  return result;
}

Result<Value> Parser::parse_array(int depth) {
  const int line = line_, column = column_;
  if (depth > kMaxDepth) return too_deep(line, column);
  advance();  // '['
  Array items;
  for (;;) {
    RETURN_IF_ERROR(skip_blank_lines_and_comments());
    if (at_end()) return error_at(line, column, "unterminated array (missing ']')");
    if (peek() == ']') break;
    ASSIGN_OR_RETURN(Value item, parse_value(depth + 1));
    items.push_back(std::move(item));
    RETURN_IF_ERROR(skip_blank_lines_and_comments());
    if (peek() == ',') {
      advance();
      continue;
    }
    if (peek() == ']') break;
    if (at_end()) return error_at(line, column, "unterminated array (missing ']')");
    return error("expected ',' or ']' in array, found " + describe_next());
  }
  advance();  // ']'
  return Value(std::move(items));
}

Result<Value> Parser::parse_scalar() {
  const int line = line_, column = column_;
  const size_t start = pos_;
  while (is_scalar_char(peek())) advance();
  const std::string_view token = text_.substr(start, pos_ - start);
  if (token.empty()) {
    pos_ = start;
    return error("expected a value (string, number, boolean or array), found " + describe_next());
  }
  if (token == "true") return Value(true);
  if (token == "false") return Value(false);
  const std::string_view unsigned_token = token.substr(token[0] == '+' || token[0] == '-' ? 1 : 0);
  if (unsigned_token == "inf" || unsigned_token == "nan")
    return error_at(line, column, "inf and nan are not supported");
  const char c = token[0];
  if (is_digit(c) || c == '+' || c == '-' || c == '.') {
    Result<Value> number = detail::parse_number(token);
    if (!number.is_ok()) return error_at(line, column, number.status().message());
    return number;
  }
  return error_at(line, column,
                  "expected a value (string, number, boolean or array), found " + quoted(token) +
                      " (strings need quotes)");
}

Result<Table> parse(std::string_view text, const std::string& file_name) {
  Parser parser(text, file_name);
  return parser.run();
}

}  // namespace inferd::toml
