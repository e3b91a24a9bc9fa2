// A small, strict parser for the TOML subset that inferd's config files use
// (https://toml.io/en/v1.0.0): comments, [table] and [a.b] headers, bare/"quoted"/'literal'
// and dotted keys, basic and literal strings, integers, floats, booleans and (multi-line)
// arrays. Dates, inline tables, arrays of tables, multi-line strings, hex/octal/binary
// integers and inf/nan are rejected with an error saying so, never silently misread.
//
// Every error reads "FILE:LINE:COL: what is wrong" (1-based; COL counts characters), except
// the whole-document size error, "FILE: document is N bytes; the limit is 1048576".
// The parser is meant to face hostile input: documents over kMaxDocumentBytes and nesting
// deeper than kMaxDepth are errors, recursion is bounded by kMaxDepth and every step is
// linear in the input (key lookups are O(log n)).
#pragma once

#include <cassert>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/status.h"

namespace inferd::toml {

inline constexpr size_t kMaxDocumentBytes = size_t{1} << 20;  // 1 MiB
inline constexpr int kMaxDepth = 32;  // tables and arrays nested inside the root table

class Value;
using Array = std::vector<Value>;

// A TOML table: keys in the order they appear in the document (so that messages and
// dumps follow the file), with O(log n) lookup.
class Table {
 public:
  size_t size() const { return keys_.size(); }
  bool empty() const { return keys_.empty(); }
  const std::string& key(size_t i) const { return keys_[i]; }
  const Value& value(size_t i) const;  // defined in toml.cc, where Value is complete
  Value& value(size_t i);

  const Value* find(std::string_view key) const;
  Value* find(std::string_view key);
  bool contains(std::string_view key) const { return find(key) != nullptr; }

  // Appends key = value and returns the stored value (valid until the next insert), or
  // nullptr, changing nothing, when the key already exists.
  Value* insert(std::string key, Value value);

 private:
  friend class Parser;
  // How the parser created this table; TOML forbids defining a table twice, but a table
  // created implicitly by [a.b] may later get its own [a] header.
  enum class Origin : uint8_t { kDocument, kHeader, kImplicit, kDottedKey };
  Origin origin_ = Origin::kDocument;

  std::vector<std::string> keys_;
  std::vector<Value> values_;
  std::map<std::string, size_t, std::less<>> index_;
};

enum class Type { kInteger, kFloat, kBool, kString, kArray, kTable };
const char* to_string(Type type);  // "integer", "float", "boolean", "string", "array", "table"

class Value {
 public:
  Value() : data_(int64_t{0}) {}
  explicit Value(int64_t v) : data_(v) {}
  explicit Value(double v) : data_(v) {}
  explicit Value(bool v) : data_(v) {}
  explicit Value(std::string v) : data_(std::move(v)) {}
  explicit Value(const char* v) : data_(std::string(v)) {}  // not bool
  explicit Value(Array v) : data_(std::move(v)) {}
  explicit Value(Table v) : data_(std::move(v)) {}

  Type type() const { return static_cast<Type>(data_.index()); }
  const char* type_name() const { return to_string(type()); }
  bool is_integer() const { return type() == Type::kInteger; }
  bool is_float() const { return type() == Type::kFloat; }
  bool is_bool() const { return type() == Type::kBool; }
  bool is_string() const { return type() == Type::kString; }
  bool is_array() const { return type() == Type::kArray; }
  bool is_table() const { return type() == Type::kTable; }

  // Typed getters; calling one for another type is a bug (checked by assert).
  int64_t as_integer() const { return get<int64_t>(); }
  double as_float() const { return get<double>(); }
  bool as_bool() const { return get<bool>(); }
  const std::string& as_string() const { return get<std::string>(); }
  const Array& as_array() const { return get<Array>(); }
  const Table& as_table() const { return get<Table>(); }
  Array& as_array() { return get<Array>(); }
  Table& as_table() { return get<Table>(); }

  // An integer or a float as a double (TOML config files write "1" where 1.0 is meant);
  // nullopt for every other type.
  std::optional<double> as_number() const;

  // Pointer to the held value, nullptr if it holds another type.
  template <typename T>
  const T* get_if() const {
    return std::get_if<T>(&data_);
  }

  // Where the value starts in the document (1-based; 0 for values built in code).
  int line = 0;
  int column = 0;

 private:
  template <typename T>
  const T& get() const {
    const T* v = std::get_if<T>(&data_);
    assert(v != nullptr && "toml::Value: wrong type");
    return *v;
  }
  template <typename T>
  T& get() {
    T* v = std::get_if<T>(&data_);
    assert(v != nullptr && "toml::Value: wrong type");
    return *v;
  }

  // Order matches enum Type.
  std::variant<int64_t, double, bool, std::string, Array, Table> data_;
};

// Parses a whole document into its root table. file_name only prefixes error messages.
Result<Table> parse(std::string_view text, const std::string& file_name);

}  // namespace inferd::toml
