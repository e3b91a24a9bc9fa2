// URLs, durations and lists as `inferd bench` reads them from the command line.
#include "loadgen/url.h"

#include <gtest/gtest.h>

namespace inferd::loadgen {
namespace {

Url parsed(const std::string& text) {
  auto url = parse_url(text);
  EXPECT_TRUE(url.is_ok()) << text << ": " << url.status().message();
  return url.is_ok() ? url.value() : Url{};
}

std::string error_of(const std::string& text) {
  auto url = parse_url(text);
  EXPECT_FALSE(url.is_ok()) << text << " parsed";
  return url.status().message();
}

TEST(Url, SplitsHostPortAndTarget) {
  const Url u = parsed("http://127.0.0.1:18401/v2/models/squeezenet/infer?x=1");
  EXPECT_EQ(u.host, "127.0.0.1");
  EXPECT_EQ(u.port, 18401);
  EXPECT_EQ(u.target, "/v2/models/squeezenet/infer?x=1");
  EXPECT_EQ(u.host_header, "127.0.0.1:18401");
  EXPECT_EQ(u.authority(), "127.0.0.1:18401");
  EXPECT_EQ(u.str(), "http://127.0.0.1:18401/v2/models/squeezenet/infer?x=1");
}

TEST(Url, DefaultsPortAndPathAndDropsTheFragment) {
  const Url u = parsed("HTTP://example.com");
  EXPECT_EQ(u.host, "example.com");
  EXPECT_EQ(u.port, 80);
  EXPECT_EQ(u.target, "/");
  EXPECT_EQ(u.host_header, "example.com");
  EXPECT_EQ(parsed("http://h?q=2").target, "/?q=2");
  EXPECT_EQ(parsed("http://h:9/a#frag").target, "/a");
}

TEST(Url, TakesIpv6InBrackets) {
  const Url u = parsed("http://[::1]:8000/classify");
  EXPECT_EQ(u.host, "::1");
  EXPECT_EQ(u.port, 8000);
  EXPECT_EQ(u.host_header, "[::1]:8000");
  EXPECT_EQ(u.authority(), "[::1]:8000");
}

TEST(Url, HttpsSaysToUseATlsProxy) {
  auto url = parse_url("https://example.com/");
  ASSERT_FALSE(url.is_ok());
  EXPECT_EQ(url.status().code(), StatusCode::kUnimplemented);
  EXPECT_NE(url.status().message().find("https is not supported; put a TLS proxy"), std::string::npos);
}

TEST(Url, BadUrlsNameWhatIsWrong) {
  EXPECT_NE(error_of("example.com/x").find("is not an http:// URL"), std::string::npos);
  EXPECT_NE(error_of("ftp://h/").find("is not an http:// URL"), std::string::npos);
  EXPECT_NE(error_of("http:///path").find("has no host"), std::string::npos);
  EXPECT_NE(error_of("http://:80/").find("has no host"), std::string::npos);
  EXPECT_NE(error_of("http://h:0/").find("port '0' is not a number in 1..65535"), std::string::npos);
  EXPECT_NE(error_of("http://h:65536/").find("port '65536'"), std::string::npos);
  EXPECT_NE(error_of("http://h:8x/").find("port '8x'"), std::string::npos);
  EXPECT_NE(error_of("http://h:/").find("not followed by a port"), std::string::npos);
  EXPECT_NE(error_of("http://u:p@h/").find("user info"), std::string::npos);
  EXPECT_NE(error_of("http://h/a b").find("space or control character at position 10"), std::string::npos);
  EXPECT_NE(error_of("http://::1/").find("IPv6 address must be in brackets"), std::string::npos);
  EXPECT_NE(error_of("http://[::1/").find("never closes"), std::string::npos);
}

TEST(Duration, ReadsEveryUnit) {
  using std::chrono::nanoseconds;
  EXPECT_EQ(parse_duration("250us").value(), nanoseconds(250'000));
  EXPECT_EQ(parse_duration("500ms").value(), nanoseconds(500'000'000));
  EXPECT_EQ(parse_duration("1.5s").value(), nanoseconds(1'500'000'000));
  EXPECT_EQ(parse_duration("2m").value(), nanoseconds(120'000'000'000));
  EXPECT_EQ(parse_duration("1h").value(), nanoseconds(3'600'000'000'000));
  EXPECT_EQ(parse_duration("0s").value(), nanoseconds(0));
}

TEST(Duration, RejectsWhatIsNotADuration) {
  EXPECT_NE(parse_duration("10").status().message().find("needs a unit"), std::string::npos);
  EXPECT_NE(parse_duration("10 s").status().message().find("unknown unit ' s'"), std::string::npos);
  EXPECT_NE(parse_duration("10d").status().message().find("unknown unit 'd'"), std::string::npos);
  EXPECT_NE(parse_duration("s").status().message().find("does not start with a number"), std::string::npos);
  EXPECT_NE(parse_duration("-1s").status().message().find("does not start with a number"), std::string::npos);
  EXPECT_NE(parse_duration("1.2.3s").status().message().find("is not a number"), std::string::npos);
  EXPECT_FALSE(parse_duration("").is_ok());
}

TEST(IntList, ReadsIncreasingPositiveIntegers) {
  EXPECT_EQ(parse_int_list("1,2,4,8,256").value(), (std::vector<int>{1, 2, 4, 8, 256}));
  EXPECT_EQ(parse_int_list("3").value(), (std::vector<int>{3}));
  EXPECT_NE(parse_int_list("1,,2").status().message().find("'' is not a positive integer"), std::string::npos);
  EXPECT_NE(parse_int_list("0,1").status().message().find("'0'"), std::string::npos);
  EXPECT_NE(parse_int_list("4,2").status().message().find("must increase (2 follows 4)"), std::string::npos);
  EXPECT_FALSE(parse_int_list("1,2,").is_ok());
}

}  // namespace
}  // namespace inferd::loadgen
