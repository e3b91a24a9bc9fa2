// The bytes `inferd bench` sends: request line, headers, and each body mode.
#include "loadgen/request_builder.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>

namespace inferd::loadgen {
namespace {

Url url_of(const std::string& text) {
  return parse_url(text).value();
}

std::string random_bytes(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::string s(n, '\0');
  for (char& c : s) c = static_cast<char>(rng() % 255 + 1);
  return s;
}

std::string one_request(const RequestOptions& o, const std::vector<BodyFile>& bodies, const std::string& url) {
  auto requests = build_requests(url_of(url), o, bodies);
  EXPECT_TRUE(requests.is_ok()) << requests.status().message();
  return requests.is_ok() && !requests->empty() ? requests->front() : "";
}

TEST(RequestBuilder, GetWithoutBodyHasNoContentHeaders) {
  const std::string r = one_request({}, {}, "http://h:81/v2/health/ready?x=1");
  EXPECT_EQ(r.rfind("GET /v2/health/ready?x=1 HTTP/1.1\r\nHost: h:81\r\nUser-Agent: inferd-bench/", 0), 0u) << r;
  EXPECT_EQ(r.find("Content-"), std::string::npos) << r;
  EXPECT_EQ(r.substr(r.size() - 4), "\r\n\r\n");
}

TEST(RequestBuilder, PostWithoutBodySaysContentLengthZero) {
  RequestOptions o;
  o.method = "POST";
  const std::string r = one_request(o, {}, "http://h/v1/noop");
  EXPECT_EQ(r.rfind("POST /v1/noop HTTP/1.1\r\n", 0), 0u) << r;
  EXPECT_NE(r.find("\r\nContent-Length: 0\r\n"), std::string::npos) << r;
}

TEST(RequestBuilder, RawBodyWithCustomHeaders) {
  RequestOptions o;
  o.headers = {parse_header("X-Trace:  abc ").value(), parse_header("Host: other").value()};
  o.content_type = "text/plain";
  const std::string body = random_bytes(1000, 5);
  const std::string r = one_request(o, {{"b.bin", body}}, "http://h:9/p");
  const std::string head = r.substr(0, r.find("\r\n\r\n") + 4);
  EXPECT_EQ(head.rfind("POST /p HTTP/1.1\r\n", 0), 0u) << head;
  EXPECT_EQ(head.find("Host: h:9"), std::string::npos) << "the user's Host replaces ours: " << head;
  EXPECT_NE(head.find("\r\nHost: other\r\n"), std::string::npos) << head;
  EXPECT_NE(head.find("\r\nX-Trace: abc\r\n"), std::string::npos) << head;
  EXPECT_NE(head.find("\r\nContent-Type: text/plain\r\n"), std::string::npos) << head;
  EXPECT_NE(head.find("\r\nContent-Length: 1000\r\n"), std::string::npos) << head;
  EXPECT_EQ(r.substr(head.size()), body);
}

TEST(RequestBuilder, ClassifyTakesTheContentTypeFromTheExtension) {
  RequestOptions o;
  o.mode = BodyMode::kClassify;
  auto requests = build_requests(url_of("http://h/classify"), o, {{"a.JPG", "j"}, {"b.png", "p"}, {"c.bin", "x"}});
  ASSERT_TRUE(requests.is_ok());
  ASSERT_EQ(requests->size(), 3u);
  EXPECT_NE((*requests)[0].find("Content-Type: image/jpeg\r\n"), std::string::npos);
  EXPECT_NE((*requests)[1].find("Content-Type: image/png\r\n"), std::string::npos);
  EXPECT_NE((*requests)[2].find("Content-Type: application/octet-stream\r\n"), std::string::npos);
}

TEST(RequestBuilder, KserveBinaryIsAJsonHeaderThenALengthPrefixedImage) {
  RequestOptions o;
  o.mode = BodyMode::kKserveBinary;
  o.input_name = "data";
  o.output_name = "prob";
  o.classification = 3;
  const std::string image = random_bytes(70000, 9);
  size_t json_size = 0;
  const std::string body = kserve_binary_body(image, o, &json_size);
  const std::string json = body.substr(0, json_size);
  EXPECT_EQ(json,
            "{\"inputs\":[{\"name\":\"data\",\"datatype\":\"BYTES\",\"shape\":[1],\"parameters\":{\"binary_data_size\":"
            "70004}}],"
            "\"outputs\":[{\"name\":\"prob\",\"parameters\":{\"classification\":3}}]}");
  ASSERT_EQ(body.size(), json_size + 4 + image.size());
  EXPECT_EQ(body.substr(json_size, 4), std::string("\x70\x11\x01\x00", 4));  // 70000 little-endian
  EXPECT_EQ(body.substr(json_size + 4), image);
  const std::string r = one_request(o, {{"x.jpg", image}}, "http://h/v2/models/m/infer");
  EXPECT_NE(r.find("\r\nInference-Header-Content-Length: " + std::to_string(json_size) + "\r\n"), std::string::npos);
  EXPECT_NE(r.find("\r\nContent-Length: " + std::to_string(body.size()) + "\r\n"), std::string::npos);
  EXPECT_NE(r.find("\r\nContent-Type: application/octet-stream\r\n"), std::string::npos);
}

TEST(RequestBuilder, KserveJsonCarriesTheImageAsBase64) {
  RequestOptions o;
  o.mode = BodyMode::kKserveJson;
  o.output_name = "prob";
  EXPECT_EQ(kserve_json_body("foob", o),
            "{\"inputs\":[{\"name\":\"image\",\"datatype\":\"BYTES\",\"shape\":[1],\"parameters\":{\"content_type\":"
            "\"base64\"},\"data\":[\"Zm9vYg==\"]}],\"outputs\":[{\"name\":\"prob\"}]}");
  o.output_name.clear();
  EXPECT_EQ(kserve_json_body("f", o).find("outputs"), std::string::npos);
}

TEST(RequestBuilder, Base64MatchesRfc4648) {
  // RFC 4648 section 10 test vectors.
  EXPECT_EQ(base64_encode(""), "");
  EXPECT_EQ(base64_encode("f"), "Zg==");
  EXPECT_EQ(base64_encode("fo"), "Zm8=");
  EXPECT_EQ(base64_encode("foo"), "Zm9v");
  EXPECT_EQ(base64_encode("foobar"), "Zm9vYmFy");
  EXPECT_EQ(base64_encode(std::string("\xff\xfe\x00", 3)), "//4A");
}

TEST(RequestBuilder, ModesThatNeedABodyOrAnOutputNameSaySo) {
  RequestOptions o;
  o.mode = BodyMode::kKserveBinary;
  EXPECT_NE(build_requests(url_of("http://h/"), o, {}).status().message().find("needs a body: -D FILE or --images DIR"),
            std::string::npos);
  o.classification = 5;
  EXPECT_NE(build_requests(url_of("http://h/"), o, {{"a.jpg", "x"}}).status().message().find("--output-name"),
            std::string::npos);
  EXPECT_NE(parse_body_mode("grpc").status().message().find("raw, classify, kserve-binary, kserve-json"),
            std::string::npos);
}

TEST(RequestBuilder, HeaderSyntax) {
  EXPECT_EQ(parse_header("A-b: c d").value(), (Header{"A-b", "c d"}));
  EXPECT_NE(parse_header("novalue").status().message().find("is not 'Name: value'"), std::string::npos);
  EXPECT_NE(parse_header("Bad Name: x").status().message().find("character HTTP does not allow"), std::string::npos);
  EXPECT_NE(parse_header("X: a\r\nEvil: 1").status().message().find("line break"), std::string::npos);
  EXPECT_NE(parse_header("content-length: 5").status().message().find("computed from the body"), std::string::npos);
}

TEST(RequestBuilder, ImageFolderIsSortedAndFiltered) {
  const auto dir = std::filesystem::temp_directory_path() / ("loadgen_images_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir / "sub.jpg");
  for (const char* name : {"b.png", "a.JPEG", "c.jpg", "notes.txt"}) std::ofstream(dir / name) << name;
  auto files = read_image_dir(dir.string());
  ASSERT_TRUE(files.is_ok()) << files.status().message();
  ASSERT_EQ(files->size(), 3u);
  EXPECT_EQ((*files)[0].bytes, "a.JPEG");
  EXPECT_EQ((*files)[1].bytes, "b.png");
  EXPECT_EQ((*files)[2].bytes, "c.jpg");
  std::filesystem::remove(dir / "a.JPEG");
  std::filesystem::remove(dir / "b.png");
  std::filesystem::remove(dir / "c.jpg");
  EXPECT_NE(read_image_dir(dir.string()).status().message().find("no *.jpg, *.jpeg or *.png file"), std::string::npos);
  std::filesystem::remove_all(dir);
  EXPECT_NE(read_image_dir(dir.string()).status().message().find("not a directory"), std::string::npos);
  EXPECT_NE(read_body_file("/nonexistent/x.jpg").status().message().find("/nonexistent/x.jpg: cannot open"),
            std::string::npos);
}

}  // namespace
}  // namespace inferd::loadgen
