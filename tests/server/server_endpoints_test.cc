// Every endpoint's success path and error path over real sockets, with exact
// status codes and bodies.
#include <gtest/gtest.h>

#include "http_client.h"
#include "server_test_env.h"

namespace inferd::test {
namespace {

class ServerEndpoints : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    TestServerConfig c;
    c.max_body_bytes = 1 << 20;
    server_ = start_test_server(c, "endpoints").release();
  }
  static void TearDownTestSuite() { delete server_; }

  static ClientResponse call(std::string_view method, std::string_view target, std::string_view body = {},
                             std::initializer_list<std::string_view> headers = {}) {
    HttpClient client(server_->port());
    auto r = client.request(method, target, body, headers);
    EXPECT_TRUE(r.has_value()) << client.error();
    return r.value_or(ClientResponse{});
  }
  static inline Server* server_ = nullptr;
};

TEST_F(ServerEndpoints, ClassifyAnswersInTheSeedsShape) {
  const auto r = call("POST", "/classify", image(1), {"Content-Type: image/jpeg"});
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.header("content-type"), "application/json");
  EXPECT_EQ(r.body.rfind("[{\"confidence\":0.92", 0), 0u) << r.body;
  EXPECT_NE(r.body.find("\"label\":\"n02328150 Angora, Angora rabbit\"}"), std::string::npos) << r.body;
  EXPECT_EQ(std::count(r.body.begin(), r.body.end(), '{'), 5);
}

TEST_F(ServerEndpoints, ClassifyByModelNameWithTopAndOctetStream) {
  const auto r = call("POST", "/v1/models/squeezenet/classify?top=2", image(3), {"Content-Type: application/octet-stream"});
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(std::count(r.body.begin(), r.body.end(), '{'), 2);
  EXPECT_NE(r.body.find("koala"), std::string::npos) << r.body;
}

TEST_F(ServerEndpoints, ClassifyAcceptsMultipartFormData) {
  const std::string body = "--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"4.jpg\"\r\n"
                           "Content-Type: image/jpeg\r\n\r\n" + image(4) + "\r\n--XyZ--\r\n";
  const auto r = call("POST", "/classify", body, {"Content-Type: multipart/form-data; boundary=XyZ"});
  EXPECT_EQ(r.status, 200);
  EXPECT_NE(r.body.find("ptarmigan"), std::string::npos) << r.body;
}

TEST_F(ServerEndpoints, BadRequestsGetPreciseErrors) {
  struct Case {
    std::string method, target, body, header;
    int status;
    std::string body_has;
  };
  const std::string jpeg = image(2);
  std::string bomb = jpeg;  // SOF0 height/width patched to 30000x30000
  const auto sof = bomb.find("\xff\xc0");
  ASSERT_NE(sof, std::string::npos);
  bomb[sof + 5] = bomb[sof + 7] = static_cast<char>(30000 >> 8);
  bomb[sof + 6] = bomb[sof + 8] = static_cast<char>(30000 & 0xff);
  const std::vector<Case> cases{
      {"POST", "/classify", jpeg, "Content-Type: text/plain", 415, "unsupported content type 'text/plain'"},
      {"POST", "/classify", "", "Content-Type: image/jpeg", 400, "empty body"},
      {"POST", "/classify", jpeg.substr(0, jpeg.size() / 2), "Content-Type: image/jpeg", 400, "corrupt JPEG"},
      {"POST", "/classify", "GIF89a....", "Content-Type: image/gif", 400, "unsupported image format"},
      {"POST", "/classify", bomb, "Content-Type: image/jpeg", 400, "image is 30000x30000, limit is"},
      {"POST", "/classify?top=0", jpeg, "Content-Type: image/jpeg", 400, "top must be an integer in 1..1000"},
      {"POST", "/classify", jpeg, "X-Request-Timeout-Ms: soon", 400, "X-Request-Timeout-Ms must be an integer"},
      {"POST", "/v1/models/nope/classify", jpeg, "Content-Type: image/jpeg", 404, "unknown model 'nope'"},
      {"POST", "/v1/models/..%2F..%2Fetc/classify", jpeg, "Content-Type: image/jpeg", 404, "unknown model"},
      {"GET", "/classify", "", "Accept: */*", 405, "method GET is not allowed on /classify"},
      {"GET", "/nothing/here", "", "Accept: */*", 404, "no route for /nothing/here"},
      {"POST", "/classify", std::string(2 << 20, 'x'), "Content-Type: image/jpeg", 413, "limit is 1048576"},
  };
  for (const auto& c : cases) {
    const auto r = call(c.method, c.target, c.body, {c.header});
    EXPECT_EQ(r.status, c.status) << c.target << " " << r.body;
    EXPECT_EQ(r.body.rfind("{\"error\":", 0), 0u) << c.target << " " << r.body;
    EXPECT_NE(r.body.find(c.body_has), std::string::npos) << c.target << " " << r.body;
  }
  // ... and the server still answers the next good request.
  EXPECT_EQ(call("POST", "/classify", jpeg, {"Content-Type: image/jpeg"}).status, 200);
}

TEST_F(ServerEndpoints, HealthNoopAndServerMetadata) {
  EXPECT_EQ(call("GET", "/v2/health/live").body, "{\"live\":true}");
  EXPECT_EQ(call("GET", "/v2/health/ready").body, "{\"ready\":true}");
  EXPECT_EQ(call("POST", "/v1/noop").status, 200);
  EXPECT_EQ(call("POST", "/v1/noop?device=1").status, 501);
  const auto v2 = call("GET", "/v2");
  EXPECT_EQ(v2.status, 200);
  EXPECT_NE(v2.body.find("\"name\":\"inferd\""), std::string::npos) << v2.body;
  const auto md = call("GET", "/v2/models/squeezenet");
  EXPECT_NE(md.body.find("\"shape\":[-1,3,224,224]"), std::string::npos) << md.body;
  EXPECT_EQ(call("GET", "/v2/models/squeezenet/versions/1/ready").status, 200);
  EXPECT_EQ(call("GET", "/v2/models/squeezenet/versions/7/ready").status, 404);
  EXPECT_NE(call("GET", "/v2/models/squeezenet/config").body.find("\"max_batch_size\":8"), std::string::npos);
}

TEST_F(ServerEndpoints, ManagementIsDisabledByDefault) {
  const auto r = call("POST", "/v2/repository/models/squeezenet/unload");
  EXPECT_EQ(r.status, 403);
  EXPECT_NE(r.body.find("model management is disabled"), std::string::npos);
}

}  // namespace
}  // namespace inferd::test
