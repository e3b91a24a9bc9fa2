#include "core/toml.h"

#include <gtest/gtest.h>

#include <chrono>
#include <random>
#include <string>

#include "core/toml_scalar.h"

namespace inferd::toml {
namespace {

Table parse_ok(std::string_view text) {
  Result<Table> r = parse(text, "config.toml");
  EXPECT_TRUE(r.is_ok()) << r.status().message();
  return r.is_ok() ? std::move(r).value() : Table();
}

// The full message of a document that must fail.
std::string parse_error(std::string_view text) {
  Result<Table> r = parse(text, "config.toml");
  EXPECT_FALSE(r.is_ok()) << "parsed: " << text;
  return r.is_ok() ? "" : r.status().message();
}

TEST(Toml, ParsesEveryValueType) {
  const Table t = parse_ok(R"(# a comment
name = "squeezenet"   # trailing comment
path = 'C:\models\x'
count = -1_000
plus = +7
zero = 0
ratio = 6.25e-1
big = 1E3
neg = -0.5
on = true
off = false
)");
  ASSERT_EQ(t.size(), 10u);
  EXPECT_EQ(t.key(0), "name");
  EXPECT_EQ(t.find("name")->as_string(), "squeezenet");
  EXPECT_EQ(t.find("path")->as_string(), "C:\\models\\x");  // literal: no escapes
  EXPECT_EQ(t.find("count")->as_integer(), -1000);
  EXPECT_EQ(t.find("plus")->as_integer(), 7);
  EXPECT_EQ(t.find("zero")->as_integer(), 0);
  EXPECT_EQ(t.find("ratio")->as_float(), 0.625);
  EXPECT_EQ(t.find("big")->as_float(), 1000.0);
  EXPECT_EQ(t.find("neg")->as_float(), -0.5);
  EXPECT_TRUE(t.find("on")->as_bool());
  EXPECT_FALSE(t.find("off")->as_bool());
  EXPECT_EQ(t.find("missing"), nullptr);
}

TEST(Toml, ValuesRememberTheirPositionAndType) {
  const Table t = parse_ok("a = 1\n  b = 2.5\n");
  const Value* b = t.find("b");
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(b->line, 2);
  EXPECT_EQ(b->column, 7);
  EXPECT_EQ(b->type(), Type::kFloat);
  EXPECT_STREQ(b->type_name(), "float");
  EXPECT_EQ(t.find("a")->as_number(), 1.0);  // integers read as numbers too
  EXPECT_EQ(b->as_number(), 2.5);
  EXPECT_EQ(b->get_if<int64_t>(), nullptr);
  EXPECT_EQ(Value("text").as_number(), std::nullopt);
}

TEST(Toml, DecodesEscapes) {
  const Table t = parse_ok(R"(s = "q\" b\\ n\n t\t e\u00e9 smile\U0001F600 bell\u0007")");
  EXPECT_EQ(t.find("s")->as_string(), "q\" b\\ n\n t\t e\xc3\xa9 smile\xf0\x9f\x98\x80 bell\x07");
}

TEST(Toml, ParsesMultiLineArraysWithCommentsAndTrailingComma) {
  const Table t = parse_ok(R"(mean = [
  104.0,   # blue
  117,     # green (integers mix with floats)
  123.0,
]
empty = []
nested = [[1, 2], ["a"], []]
)");
  const Array& mean = t.find("mean")->as_array();
  ASSERT_EQ(mean.size(), 3u);
  EXPECT_EQ(mean[0].as_float(), 104.0);
  EXPECT_EQ(mean[1].as_integer(), 117);
  EXPECT_EQ(mean[2].as_number(), 123.0);
  EXPECT_TRUE(t.find("empty")->as_array().empty());
  const Array& nested = t.find("nested")->as_array();
  ASSERT_EQ(nested.size(), 3u);
  EXPECT_EQ(nested[0].as_array()[1].as_integer(), 2);
  EXPECT_EQ(nested[1].as_array()[0].as_string(), "a");
}

TEST(Toml, TablesDottedAndQuotedKeys) {
  const Table t = parse_ok(R"(top = 1
[input]
width = 224
"odd key" = 'x'
"a.b" = 2
[a.b]
c = 3
[a]   # allowed: [a] was only implied by [a.b]
d = 4
[server]
tls . cert = "c.pem"
)");
  const Table& input = t.find("input")->as_table();
  EXPECT_EQ(input.find("width")->as_integer(), 224);
  EXPECT_EQ(input.find("odd key")->as_string(), "x");
  EXPECT_EQ(input.find("a.b")->as_integer(), 2);  // quoted: one key, not two
  const Table& a = t.find("a")->as_table();
  EXPECT_EQ(a.find("b")->as_table().find("c")->as_integer(), 3);
  EXPECT_EQ(a.find("d")->as_integer(), 4);
  EXPECT_EQ(t.find("server")->as_table().find("tls")->as_table().find("cert")->as_string(), "c.pem");
  EXPECT_EQ(t.key(0), "top");  // document order is kept
  EXPECT_EQ(t.key(1), "input");
}

TEST(Toml, EmptyDocumentsAndLineEndings) {
  EXPECT_TRUE(parse_ok("").empty());
  EXPECT_TRUE(parse_ok("# only a comment\n\n   \t\n").empty());
  const Table t = parse_ok(
      "\xef\xbb\xbf"
      "a = 1\r\nb = 'x'\r\n# c\r\n");
  EXPECT_EQ(t.find("a")->as_integer(), 1);
  EXPECT_EQ(t.find("b")->as_string(), "x");
  EXPECT_EQ(parse_ok("a = -9223372036854775808").find("a")->as_integer(), INT64_MIN);
}

TEST(Toml, ErrorsNameFileLineAndColumn) {
  EXPECT_EQ(parse_error("[input]\nwidth 224\n"),
            "config.toml:2:7: expected '=' after key 'width', found '2'");
  EXPECT_EQ(parse_error("x =\n"),
            "config.toml:1:4: expected a value (string, number, boolean or array), found end of line");
  EXPECT_EQ(parse_error("x = "),
            "config.toml:1:5: expected a value (string, number, boolean or array), found end of file");
  EXPECT_EQ(parse_error("a = 1\r\nb = \r\n"),
            "config.toml:2:5: expected a value (string, number, boolean or array), found end of line");
  EXPECT_EQ(parse_error("x = 1 y = 2"),
            "config.toml:1:7: expected end of line after the value of key 'x', found 'y'");
  EXPECT_EQ(parse_error("x = abc"),
            "config.toml:1:5: expected a value (string, number, boolean or array), found 'abc' "
            "(strings need quotes)");
  EXPECT_EQ(parse_error("x = truex"),
            "config.toml:1:5: expected a value (string, number, boolean or array), found 'truex' "
            "(strings need quotes)");
  EXPECT_EQ(parse_error("[input\n"),
            "config.toml:1:7: expected ']' to close table header [input], found end of line");
  EXPECT_EQ(parse_error("[]\n"), "config.toml:1:2: expected a key, found ']'");
  EXPECT_EQ(parse_error("= 1\n"), "config.toml:1:1: expected a key, found '='");
  EXPECT_EQ(parse_error("[a] x = 1\n"),
            "config.toml:1:5: expected end of line after table header [a], found 'x'");
  // Columns count characters, not bytes.
  EXPECT_EQ(parse_error("s = \"\xc3\xa9\xc3\xa9\" x"),
            "config.toml:1:10: expected end of line after the value of key 's', found 'x'");
  // The file name is the caller's.
  EXPECT_EQ(parse(" x", "models/m/config.toml").status().message(),
            "models/m/config.toml:1:3: expected '=' after key 'x', found end of file");
  EXPECT_EQ(parse(" x", "m.toml").status().code(), StatusCode::kInvalidArgument);
}

TEST(Toml, StringErrors) {
  EXPECT_EQ(parse_error("x = \"abc\ny = 1"),
            "config.toml:1:5: unterminated string (missing closing '\"' on this line)");
  EXPECT_EQ(parse_error("x = 'abc"),
            "config.toml:1:5: unterminated literal string (missing closing \"'\" on this line)");
  EXPECT_EQ(parse_error(R"(x = "a\qb")"),
            "config.toml:1:7: invalid escape sequence '\\q' (valid: \\\" \\\\ \\n \\t \\r \\b \\f \\uXXXX "
            "\\UXXXXXXXX)");
  EXPECT_EQ(parse_error("x = \"a\\\nb\""),
            "config.toml:1:7: invalid escape sequence: '\\' followed by end of line (valid: \\\" \\\\ \\n "
            "\\t \\r \\b \\f \\uXXXX \\UXXXXXXXX)");
  EXPECT_EQ(parse_error(R"(x = "\u12G4")"), "config.toml:1:6: \\u needs exactly 4 hex digits");
  EXPECT_EQ(parse_error(R"(x = "\uD800")"),
            "config.toml:1:6: escape names no Unicode scalar value (surrogate or > U+10FFFF)");
  EXPECT_EQ(parse_error(R"(x = "\U00110000")"),
            "config.toml:1:6: escape names no Unicode scalar value (surrogate or > U+10FFFF)");
  EXPECT_EQ(parse_error("x = \"a\x01\""),
            "config.toml:1:7: control character '\\x01' in a string; write it as an escape such as \\n or "
            "\\u0001");
  EXPECT_EQ(parse_error("x = 1 # bad \x02 comment"),
            "config.toml:1:13: control character '\\x02' in a comment");
  EXPECT_EQ(parse_error("x = \"\xff\""), "config.toml:1:6: invalid UTF-8 (TOML files must be UTF-8 text)");
  EXPECT_EQ(parse_error("x = \"\xc0\xaf\""),
            "config.toml:1:6: invalid UTF-8 (TOML files must be UTF-8 text)");
  EXPECT_EQ(parse_error("x = \"\"\"long\"\"\""),
            "config.toml:1:5: multi-line strings are not supported; write the string on one line");
}

TEST(Toml, NumberErrors) {
  EXPECT_EQ(parse_error("x = 012"), "config.toml:1:5: leading zeros are not allowed: '012'");
  EXPECT_EQ(parse_error("x = 1__0"), "config.toml:1:5: invalid number '1__0'");
  EXPECT_EQ(parse_error("x = 1_"), "config.toml:1:5: invalid number '1_'");
  EXPECT_EQ(parse_error("x = _1"),
            "config.toml:1:5: expected a value (string, number, boolean or array), found "
            "'_1' (strings need quotes)");
  EXPECT_EQ(parse_error("x = 1."), "config.toml:1:5: invalid number '1.' (digits must follow '.')");
  EXPECT_EQ(parse_error("x = .5"), "config.toml:1:5: invalid number '.5'");
  EXPECT_EQ(parse_error("x = 1e"), "config.toml:1:5: invalid number '1e' (digits must follow the exponent)");
  EXPECT_EQ(parse_error("x = 1.5.2"), "config.toml:1:5: invalid number '1.5.2'");
  EXPECT_EQ(parse_error("x = 9223372036854775808"),
            "config.toml:1:5: integer '9223372036854775808' does not fit in 64 bits");
  EXPECT_EQ(parse_error("x = 1e999"), "config.toml:1:5: float '1e999' is out of range");
  EXPECT_EQ(parse_error("x = 0x1F"),
            "config.toml:1:5: hexadecimal, octal and binary integers are not supported: '0x1F'");
  EXPECT_EQ(parse_error("x = 1979-05-27"),
            "config.toml:1:5: invalid number '1979-05-27' (dates and times are not supported)");
  EXPECT_EQ(parse_error("x = 07:32:00"),
            "config.toml:1:5: invalid number '07:32:00' (dates and times are not supported)");
  EXPECT_EQ(parse_error("x = inf"), "config.toml:1:5: inf and nan are not supported");
  EXPECT_EQ(parse_error("x = -nan"), "config.toml:1:5: inf and nan are not supported");
}

TEST(Toml, UnsupportedSyntaxSaysSo) {
  EXPECT_EQ(parse_error("x = {a = 1}"),
            "config.toml:1:5: inline tables ({...}) are not supported; use a [table] header");
  EXPECT_EQ(parse_error("[[model]]\n"), "config.toml:1:1: arrays of tables ([[...]]) are not supported");
}

TEST(Toml, ArrayErrors) {
  EXPECT_EQ(parse_error("x = [1, 2\n"), "config.toml:1:5: unterminated array (missing ']')");
  EXPECT_EQ(parse_error("x = [1 2]"), "config.toml:1:8: expected ',' or ']' in array, found '2'");
  EXPECT_EQ(parse_error("x = [1,,2]"),
            "config.toml:1:8: expected a value (string, number, boolean or array), found ','");
  EXPECT_EQ(parse_error("x = [,]"),
            "config.toml:1:6: expected a value (string, number, boolean or array), found ','");
}

TEST(Toml, DuplicatesAreErrors) {
  EXPECT_EQ(parse_error("[input]\nwidth = 224\nwidth = 225\n"),
            "config.toml:3:1: duplicate key 'width' in table [input] (first defined at line 2)");
  EXPECT_EQ(parse_error("a = 1\n\"a\" = 2\n"),
            "config.toml:2:1: duplicate key 'a' (first defined at line 1)");
  EXPECT_EQ(parse_error("[a]\nx = 1\n[b]\n[a]\n"),
            "config.toml:4:1: table [a] is defined twice (first at line 1)");
  EXPECT_EQ(parse_error("[a.b]\n[a.b]\n"), "config.toml:2:1: table [a.b] is defined twice (first at line 1)");
  EXPECT_EQ(parse_error("x = 1\n[x]\n"),
            "config.toml:2:1: 'x' is already defined at line 1 as a value of type integer, not a table");
  EXPECT_EQ(parse_error("x = 1\n[x.y]\n"),
            "config.toml:2:1: 'x' is already defined at line 1 as a value of type integer, not a table");
  EXPECT_EQ(parse_error("a = 1\na.b = 2\n"),
            "config.toml:2:1: cannot add key 'a.b': 'a' is already defined at line 1");
  EXPECT_EQ(parse_error("[t]\na.b = 1\n[t.a]\n"),
            "config.toml:3:1: table [t.a] is defined twice (first at line 2)");
  EXPECT_EQ(parse_error("[t.a]\nx = 1\n[t]\na.y = 2\n"),
            "config.toml:4:1: cannot add key 'a.y' in table [t]: 'a' is already defined at line 1");
  EXPECT_EQ(parse_error("a.b = 1\na.b = 2\n"),
            "config.toml:2:1: duplicate key 'a.b' (first defined at line 1)");
  // Dotted keys may extend a table they created themselves.
  const Table t = parse_ok("a.b = 1\na.c = 2\n");
  EXPECT_EQ(t.find("a")->as_table().size(), 2u);
}

std::string repeat(std::string_view s, int n) {
  std::string out;
  for (int i = 0; i < n; ++i) out += s;
  return out;
}

TEST(Toml, NestingDepthIsLimited) {
  // 32 levels are fine, 33 are not, whichever way the nesting is written.
  const Table arrays = parse_ok(std::string("x = ") + repeat("[", 32) + "1" + repeat("]", 32));
  EXPECT_EQ(arrays.find("x")->as_array().size(), 1u);
  Result<Table> deep = parse(std::string("x = ") + repeat("[", 33) + "1" + repeat("]", 33), "config.toml");
  EXPECT_EQ(deep.status().code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(deep.status().message(), "config.toml:1:37: tables and arrays nested deeper than 32 levels");

  const std::string header32 = std::string("[a") + repeat(".a", 31) + "]\n";
  EXPECT_TRUE(parse(header32 + "x = 1\n", "c").is_ok());
  EXPECT_EQ(parse(header32 + "y.z = 1\n", "c").status().message(),
            "c:2:1: tables and arrays nested deeper than 32 levels");
  EXPECT_EQ(parse(header32 + "y = [1]\n", "c").status().message(),
            "c:2:5: tables and arrays nested deeper than 32 levels");
  EXPECT_EQ(parse(std::string("[a") + repeat(".a", 32) + "]\n", "c").status().message(),
            "c:1:1: tables and arrays nested deeper than 32 levels");
  EXPECT_TRUE(parse(std::string("a") + repeat(".a", 32) + " = 1\n", "c").is_ok());  // 32 tables + a value
  EXPECT_EQ(parse(std::string("a") + repeat(".a", 33) + " = 1\n", "c").status().message(),
            "c:1:1: tables and arrays nested deeper than 32 levels");

  // Hostile input: far deeper than the limit ends in an error, not a stack overflow.
  const std::string hostile = std::string("x = ") + repeat("[", 500000);
  EXPECT_EQ(parse(hostile, "c").status().code(), StatusCode::kResourceExhausted);
}

TEST(Toml, DocumentSizeIsLimited) {
  const std::string too_big(kMaxDocumentBytes + 1, '#');
  Result<Table> r = parse(too_big, "big.toml");
  EXPECT_EQ(r.status().code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(r.status().message(), "big.toml: document is 1048577 bytes; the limit is 1048576");
}

TEST(Toml, LargeDocumentsParseInLinearTime) {
  // ~1 MiB of keys in one table and one long array: both must stay well under a second
  // (a quadratic duplicate check would take minutes).
  std::string keys;
  for (int i = 0; keys.size() < kMaxDocumentBytes - 64; ++i)
    keys += std::string("k") + std::to_string(i) + " = " + std::to_string(i) + "\n";
  std::string array = "a = [";
  while (array.size() < kMaxDocumentBytes - 16) array += "12345,";
  array += "]";
  const auto start = std::chrono::steady_clock::now();
  const Table t1 = parse_ok(keys);
  const Table t2 = parse_ok(array);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_GT(t1.size(), 50000u);
  EXPECT_GT(t2.find("a")->as_array().size(), 150000u);
  EXPECT_LT(seconds, 5.0);
}

TEST(Toml, MutatedDocumentsFailCleanly) {
  // A seeded smoke test ahead of real fuzzing: every mutation of a valid document either
  // parses or fails with a "config.toml:LINE:COL: " message (never a crash; run under ASan).
  const std::string seed = R"(name = "m"  # c
max_batch = 32
[input]
mean = [104.0, 117, 1_23.5e0]
"q k" = 'lit'
[a.b]
c.d = "\u00e9\t"
)";
  static constexpr const char* kTokens[] = {"[", "]",  "\"", "'", "=", ".", ",",    "\n",   "\\u",
                                            "#", "[[", "{",  "e", "_", "-", "\r\n", "\xff", "\xc3"};
  std::mt19937 rng(1234);
  int parsed = 0;
  for (int iter = 0; iter < 20000; ++iter) {
    std::string doc = seed;
    const int edits = 1 + static_cast<int>(rng() % 4);
    for (int e = 0; e < edits && !doc.empty(); ++e) {
      const size_t at = rng() % doc.size();
      switch (rng() % 4) {
        case 0: doc[at] = static_cast<char>(rng() % 256); break;
        case 1: doc.erase(at, 1 + rng() % 8); break;
        case 2: doc.insert(at, kTokens[rng() % std::size(kTokens)]); break;
        default: doc.resize(at); break;
      }
    }
    Result<Table> r = parse(doc, "config.toml");
    if (r.is_ok()) {
      ++parsed;
      continue;
    }
    const std::string& m = r.status().message();
    ASSERT_TRUE(m.starts_with("config.toml:") && m.find(": ", 12) != std::string::npos) << m;
    ASSERT_EQ(m.find('\n'), std::string::npos) << "one-line messages: " << m;
    for (size_t i = 0; i < m.size(); i += detail::utf8_sequence_length(m, i))
      ASSERT_NE(detail::utf8_sequence_length(m, i), 0u) << "messages stay valid UTF-8: " << m;
  }
  EXPECT_GT(parsed, 0);  // some mutations (e.g. inside strings or comments) stay valid
}

}  // namespace
}  // namespace inferd::toml
