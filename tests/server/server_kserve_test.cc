// KServe v2 inference over real sockets, driven by tools/kserve_client.py: a client
// written from the published protocol, not from our server code.
#include <gtest/gtest.h>

#include <fstream>
#include <iterator>

#include <cstdio>

#include "http_client.h"
#include "server_test_env.h"

namespace inferd::test {
namespace {

std::string run(const std::string& cmd) {
  FILE* pipe = popen((cmd + " 2>&1").c_str(), "r");
  std::string out;
  char buf[4096];
  while (size_t n = fread(buf, 1, sizeof buf, pipe)) out.append(buf, n);
  EXPECT_EQ(pclose(pipe), 0) << cmd << "\n" << out;
  return out;
}

class ServerKServe : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { server_ = start_test_server({}, "kserve").release(); }
  static void TearDownTestSuite() { delete server_; }
  static std::string client(const std::string& args) {
    return run("/usr/bin/python3 " + source_dir() + "/tools/kserve_client.py http://127.0.0.1:" +
               std::to_string(server_->port()) + " " + args);
  }
  static inline Server* server_ = nullptr;
};

TEST_F(ServerKServe, BinaryBytesImagesWithClassification) {
  const std::string out = client("squeezenet " + source_dir() + "/images/1.jpg " + source_dir() +
                                 "/images/3.jpg --binary --classification 3");
  EXPECT_NE(out.find(":332:n02328150 Angora, Angora rabbit"), std::string::npos) << out;
  EXPECT_NE(out.find(":105:n01882714 koala"), std::string::npos) << out;
}

TEST_F(ServerKServe, JsonBytesImage) {
  const std::string out = client("squeezenet " + source_dir() + "/images/4.jpg --classification 1");
  EXPECT_NE(out.find(":81:n01796340 ptarmigan"), std::string::npos) << out;
}

// More classes than the model has: every class, and a shape that matches the strings.
TEST_F(ServerKServe, ClassificationCountIsClampedToTheClasses) {
  const std::string out = client("squeezenet " + source_dir() + "/images/4.jpg --classification 5000");
  // One "score:index:wnid label" string per class (every ImageNet wnid starts n0 or n1).
  size_t strings = 0;
  for (size_t at = out.find(":n"); at != std::string::npos; at = out.find(":n", at + 1))
    strings += at + 2 < out.size() && (out[at + 2] == '0' || out[at + 2] == '1');
  EXPECT_EQ(strings, 1000u) << out.substr(0, 600);
  EXPECT_EQ(out.find("5000"), std::string::npos) << out.substr(0, 600);
}

// More elements than one batch: refused at admission, before any decode task is queued
// (a 16 MiB body holds millions of empty BYTES elements).
TEST_F(ServerKServe, MoreElementsThanTheMaxBatchAreRefusedUpFront) {
  std::string data;
  for (int i = 0; i < 100000; ++i) data += i ? ",\"\"" : "\"\"";
  HttpClient c(server_->port());
  auto r = c.request("POST", "/v2/models/squeezenet/infer",
                     R"({"inputs":[{"name":"x","datatype":"BYTES","shape":[100000],"data":[)" + data + "]}]}",
                     {"Content-Type: application/json"});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400);
  EXPECT_NE(r->body.find("has 100000 elements; the model takes at most 8 per request"), std::string::npos)
      << r->body;
}

// A deadline that passes while the image waits for or occupies a decoder is answered then
// (504, by the deadline timer or the decode's own check), not at the batcher after the decode.
TEST_F(ServerKServe, ADeadlineIsCheckedAroundTheDecode) {
  std::ifstream file(source_dir() + "/tests/server/bad_inputs/files/black_2048.png", std::ios::binary);
  const std::string png((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  ASSERT_GT(png.size(), 1000u);
  HttpClient c(server_->port());
  auto r = c.request("POST", "/classify", png, {"Content-Type: image/png", "X-Request-Timeout-Ms: 1"});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 504);
  EXPECT_NE(r->body.find("deadline exceeded"), std::string::npos) << r->body;
}

TEST_F(ServerKServe, Fp32TensorsGiveRawOutputs) {
  const std::string out = client("squeezenet --fp32-random --batch 2");
  EXPECT_NE(out.find("\"datatype\": \"FP32\""), std::string::npos) << out.substr(0, 400);
}

TEST_F(ServerKServe, ProtocolErrorsAre400WithPosition) {
  HttpClient c(server_->port());
  auto r = c.request("POST", "/v2/models/squeezenet/infer", "{\"inputs\":[{\"name\":\"x\",", {"Content-Type: application/json"});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400);
  EXPECT_NE(r->body.find("malformed JSON at byte"), std::string::npos) << r->body;
  r = c.request("POST", "/v2/models/squeezenet/infer",
                R"({"inputs":[{"name":"x","datatype":"FP32","shape":[1,3],"data":[1,2]}]})", {});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400);
  EXPECT_NE(r->body.find("has 3 elements but 2 values"), std::string::npos) << r->body;
  r = c.request("POST", "/v2/models/squeezenet/infer", R"({"inputs":[{"name":"x","datatype":"FP32","shape":[2],"data":[1,2]}]})",
                {});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400);
  EXPECT_NE(r->body.find("not a multiple of one sample (150528)"), std::string::npos) << r->body;
}

}  // namespace
}  // namespace inferd::test
