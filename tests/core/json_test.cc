#include "core/json.h"

#include <gtest/gtest.h>

#include <string>

namespace inferd {
namespace {

TEST(JsonQuote, PlainTextIsOnlyQuoted) {
  EXPECT_EQ(json_quote("n02328150 Angora, Angora rabbit"), "\"n02328150 Angora, Angora rabbit\"");
  EXPECT_EQ(json_quote(""), "\"\"");
}

TEST(JsonQuote, EscapesQuoteBackslashAndNamedControls) {
  EXPECT_EQ(json_quote("say \"hi\"\\"), R"("say \"hi\"\\")");
  EXPECT_EQ(json_quote("a\nb\rc\td"), R"("a\nb\rc\td")");
}

TEST(JsonQuote, EscapesOtherControlsAsUnicode) {
  EXPECT_EQ(json_quote(std::string("\x01\x1f", 2)), R"("\u0001\u001f")");
  EXPECT_EQ(json_quote(std::string("a\0b", 3)), R"("a\u0000b")");
}

TEST(JsonQuote, PassesUtf8AndDelThrough) {
  EXPECT_EQ(json_quote("caf\xc3\xa9 \x7f"), "\"caf\xc3\xa9 \x7f\"");
}

}  // namespace
}  // namespace inferd
