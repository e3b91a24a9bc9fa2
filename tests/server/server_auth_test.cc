// Bearer-token access control (server/auth.h): the compare, token files, which endpoint
// needs which token, and two real servers over sockets.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>

#include "http_client.h"
#include "server/auth.h"
#include "server_test_env.h"
#include "support/ort_oracle.h"

namespace inferd::test {
namespace {

namespace fs = std::filesystem;

std::string random_token(uint32_t seed, size_t length = 32) {
  std::mt19937 rng(seed);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string token(length, '0');
  for (char& c : token) c = kHex[rng() % 16];
  return token;
}

std::string write_token_file(const std::string& name, const std::string& content) {
  const fs::path dir = fs::path(temp_dir()) / "auth";
  fs::create_directories(dir);
  const std::string path = (dir / name).string();
  std::ofstream(path, std::ios::binary) << content;
  ::chmod(path.c_str(), 0600);
  return path;
}

TEST(ConstantTimeEquals, AgreesWithEqualityEverywhere) {
  const std::string token = random_token(7);
  EXPECT_TRUE(constant_time_equals(token, token));
  for (size_t i : {size_t{0}, token.size() / 2, token.size() - 1}) {
    std::string other = token;
    other[i] = other[i] == 'a' ? 'b' : 'a';
    EXPECT_FALSE(constant_time_equals(other, token)) << "differs at " << i;
  }
  EXPECT_FALSE(constant_time_equals(token.substr(0, token.size() - 1), token));  // a prefix
  EXPECT_FALSE(constant_time_equals(token + "0", token));                        // longer
  EXPECT_FALSE(constant_time_equals(token + token, token));                      // cycles through `expected` twice
  EXPECT_FALSE(constant_time_equals("", token));
  EXPECT_FALSE(constant_time_equals(token, ""));
  EXPECT_TRUE(constant_time_equals("", ""));
  std::mt19937 rng(11);
  for (int i = 0; i < 500; ++i) {
    const std::string a = random_token(rng(), 1 + rng() % 4), b = random_token(rng(), 1 + rng() % 4);
    EXPECT_EQ(constant_time_equals(a, b), a == b) << a << " vs " << b;
  }
}

TEST(TokenFile, TrailingNewlineIsTrimmed) {
  const std::string token = random_token(3);
  for (const std::string ending : {"", "\n", "\r\n", "\n\n  \t"}) {
    auto read = read_token_file(write_token_file("t", token + ending), "--auth-token-file");
    ASSERT_TRUE(read.is_ok()) << read.status().message();
    EXPECT_EQ(*read, token);
  }
}

TEST(TokenFile, BadFilesAreStartupErrorsNamingTheFile) {
  const std::string missing = (fs::path(temp_dir()) / "auth" / "missing").string();
  const std::string empty = write_token_file("empty", "\n");
  const std::string spaced = write_token_file("spaced", "two words\n");
  const std::string huge = write_token_file("huge", std::string(5000, 'a'));
  const std::string dir = (fs::path(temp_dir()) / "auth").string();
  const struct {
    std::string path, message;
  } cases[] = {
      {missing, "--auth-token-file " + missing + ": cannot open: No such file or directory"},
      {empty, "--auth-token-file " + empty + ": the file is empty; write the token in it"},
      {spaced, "--auth-token-file " + spaced + ": the token has a space, control or non-ASCII byte"},
      {huge, "--auth-token-file " + huge + ": 5000 bytes; a token file holds at most 4096"},
      {dir, "--auth-token-file " + dir + ": not a regular file"},
  };
  for (const auto& c : cases) {
    auto read = read_token_file(c.path, "--auth-token-file");
    ASSERT_FALSE(read.is_ok()) << c.path;
    EXPECT_EQ(read.status().message().rfind(c.message, 0), 0u) << read.status().message();
  }
}

// A token file that is a named pipe (mounted by mistake, or planted) used to be opened
// before it was checked: the server must refuse it at once, naming it, not wait for a
// writer. The symlink case is the Kubernetes secret layout (the file is reached through
// links), which must keep working for a regular file.
TEST(ServerAuthOptions, ANamedPipeTokenFileIsRefusedAtStartWithoutHanging) {
  const fs::path dir = fs::path(temp_dir()) / "auth_fifo";
  fs::remove_all(dir);
  fs::create_directories(dir);
  const std::string fifo = (dir / "token").string();
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0) << std::strerror(errno);
  const std::string link = (dir / "link_to_fifo").string();
  fs::create_symlink(fifo, link);
  for (const std::string& path : {fifo, link}) {
    TestServerConfig c;
    c.auth.token_file = path;
    bool in_time = false;
    const auto start = std::chrono::steady_clock::now();
    auto server = run_against_fifo(
        fifo, std::chrono::seconds(1), [&] { return try_start_test_server(c, "auth_fifo_repo"); }, &in_time);
    const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    EXPECT_TRUE(in_time) << path << ": start-up took " << ms << " ms on a named pipe";
    ASSERT_FALSE(server.is_ok()) << path;
    EXPECT_EQ(server.status().message(), "--auth-token-file " + path + ": not a regular file (a named pipe): refused");
  }
  const std::string token = random_token(301);
  const std::string real = write_token_file("behind_links", token + "\n");
  fs::create_symlink(real, dir / "link_to_file");
  auto read = read_token_file((dir / "link_to_file").string(), "--auth-token-file");
  ASSERT_TRUE(read.is_ok()) << read.status().message();
  EXPECT_EQ(*read, token);
}

TEST(AccessNeeded, HealthIsOpenManagementIsSeparateTheRestNeedsTheToken) {
  EXPECT_EQ(access_needed("/v2/health/live", false), Access::kOpen);
  EXPECT_EQ(access_needed("/v2/health/ready", false), Access::kOpen);
  EXPECT_EQ(access_needed("/metrics", false), Access::kOpen);
  EXPECT_EQ(access_needed("/metrics", true), Access::kInference);
  for (const char* path : {"/classify", "/v1/models/m/classify", "/v2", "/v2/models/m", "/v2/models/m/infer",
                           "/v1/noop", "/nothing/here", "/", "/v2/health/live/more", "/v2/health"})
    EXPECT_EQ(access_needed(path, false), Access::kInference) << path;
  // Empty segments are ignored by the router, so they must be here too.
  for (const char* path : {"/v2/repository/models/m/load", "//v2//repository/models/m/unload", "/v2/repository/index"})
    EXPECT_EQ(access_needed(path, false), Access::kManagement) << path;
}

http::Request request(const std::string& target, const std::string& authorization = "") {
  http::Request r;
  r.method = "POST";
  r.target = target;
  if (!authorization.empty()) r.headers["authorization"] = authorization;
  return r;
}

TEST(AccessPolicy, AnswersForMissingMalformedWrongAndRightTokens) {
  const std::string inference = random_token(21), management = random_token(22);
  AuthOptions options{write_token_file("inference", inference + "\n"), write_token_file("management", management),
                      false};
  auto policy = AccessPolicy::load(options);
  ASSERT_TRUE(policy.is_ok()) << policy.status().message();
  const auto status_of = [&](const http::Request& r) {
    auto denied = policy->check(r);
    return denied ? denied->status : 200;
  };
  EXPECT_EQ(status_of(request("/v2/health/live")), 200);
  EXPECT_EQ(status_of(request("/classify")), 401);
  EXPECT_EQ(status_of(request("/classify", "Bearer " + inference)), 200);
  EXPECT_EQ(status_of(request("/classify", "bearer   " + inference)), 200);  // the scheme is case-insensitive
  EXPECT_EQ(status_of(request("/classify", "Basic " + inference)), 401);
  EXPECT_EQ(status_of(request("/classify", "Bearer " + inference + "x")), 401);
  EXPECT_EQ(status_of(request("/classify", "Bearer " + management)), 401);
  EXPECT_EQ(status_of(request("/classify", "Bearer " + inference + ", Bearer " + inference)), 401);  // two headers
  EXPECT_EQ(status_of(request("/v2/repository/models/m/load", "Bearer " + management)), 200);
  EXPECT_EQ(status_of(request("/v2/repository/models/m/load", "Bearer " + inference)), 403);
  EXPECT_EQ(status_of(request("/v2/repository/models/m/load")), 401);

  const auto missing = policy->check(request("/classify"));
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->headers.at("WWW-Authenticate"), "Bearer realm=\"inferd\"");
  EXPECT_EQ(missing->body, "{\"error\":\"missing bearer token: send 'Authorization: Bearer <token>'\"}");
  const auto wrong = policy->check(request("/classify", "Bearer nope"));
  ASSERT_TRUE(wrong);
  EXPECT_EQ(wrong->headers.at("WWW-Authenticate"), "Bearer realm=\"inferd\", error=\"invalid_token\"");
  EXPECT_EQ(wrong->body, "{\"error\":\"invalid bearer token\"}");
}

TEST(AccessPolicy, WithoutTokensEverythingIsOpenAndBadCombinationsAreRefused) {
  auto open = AccessPolicy::load({});
  ASSERT_TRUE(open.is_ok());
  EXPECT_FALSE(open->enabled());
  EXPECT_FALSE(open->check(request("/v2/repository/models/m/load")));
  const std::string same = write_token_file("same", random_token(5));
  EXPECT_EQ(AccessPolicy::load({same, same, false}).status().message(),
            "--auth-token-file and --management-token-file hold the same token; management needs its own");
  EXPECT_EQ(AccessPolicy::load({"", "", true}).status().message(), "--metrics-auth needs --auth-token-file");
}

// Real servers: the check sits in front of every route.
class ServerAuth : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    inference_ = random_token(101);
    management_ = random_token(102);
    TestServerConfig c;
    c.management = true;
    c.auth.token_file = write_token_file("server_inference", inference_ + "\n");
    c.auth.management_token_file = write_token_file("server_management", management_ + "\n");
    server_ = start_test_server(c, "auth").release();
  }
  static void TearDownTestSuite() { delete server_; }
  void SetUp() override { ASSERT_NE(server_, nullptr); }

  static ClientResponse call(std::string_view method, std::string_view target, const std::string& token,
                             std::string_view body = {}) {
    HttpClient client(server_->port());
    const std::string auth = "Authorization: Bearer " + token;
    auto r = token.empty() ? client.request(method, target, body, {"Content-Type: image/jpeg"})
                           : client.request(method, target, body, {"Content-Type: image/jpeg", auth});
    EXPECT_TRUE(r.has_value()) << client.error();
    return r.value_or(ClientResponse{});
  }
  static inline Server* server_ = nullptr;
  static inline std::string inference_, management_;
};

TEST_F(ServerAuth, HealthAndMetricsAreOpen) {
  EXPECT_EQ(call("GET", "/v2/health/live", "").status, 200);
  EXPECT_EQ(call("GET", "/v2/health/ready", "").status, 200);
  EXPECT_EQ(call("GET", "/metrics", "").status, 200);
}

TEST_F(ServerAuth, InferenceAndMetadataNeedTheInferenceToken) {
  for (const char* target : {"/v2", "/v2/models/squeezenet", "/v2/models/squeezenet/ready", "/nothing/here"}) {
    const auto r = call("GET", target, "");
    EXPECT_EQ(r.status, 401) << target;
    EXPECT_EQ(r.header("www-authenticate"), "Bearer realm=\"inferd\"") << target;
    EXPECT_EQ(r.header("content-type"), "application/json");
    EXPECT_EQ(call("GET", target, management_).status, 401) << target;
  }
  EXPECT_EQ(call("GET", "/v2/models/squeezenet", inference_).status, 200);
  EXPECT_EQ(call("GET", "/nothing/here", inference_).status, 404);  // routing happens after the check
  EXPECT_EQ(call("POST", "/classify", "", image(1)).status, 401);
  EXPECT_EQ(call("POST", "/classify", random_token(103), image(1)).status, 401);
  const auto ok = call("POST", "/v1/models/squeezenet/classify", inference_, image(1));
  EXPECT_EQ(ok.status, 200);
  EXPECT_NE(ok.body.find("n02328150 Angora, Angora rabbit"), std::string::npos) << ok.body;
}

TEST_F(ServerAuth, ABodyIsNeverReadWithoutTheToken) {
  // 10 MB announced and not sent: the 401 comes on the head alone, then the connection closes.
  HttpClient client(server_->port());
  ASSERT_TRUE(
      client.send("POST /classify HTTP/1.1\r\nHost: a\r\nContent-Type: image/jpeg\r\n"
                  "Content-Length: 10000000\r\n\r\n"));
  const auto r = client.read_response();
  ASSERT_TRUE(r) << client.error();
  EXPECT_EQ(r->status, 401);
  EXPECT_EQ(r->header("www-authenticate"), "Bearer realm=\"inferd\"");
  EXPECT_TRUE(client.wait_closed(2000));
}

TEST_F(ServerAuth, ManagementNeedsTheManagementToken) {
  const auto forbidden = call("POST", "/v2/repository/models/nope/unload", inference_);
  EXPECT_EQ(forbidden.status, 403);
  EXPECT_NE(forbidden.body.find("the inference token may not load or unload models"), std::string::npos);
  EXPECT_EQ(call("POST", "//v2//repository/models/nope/unload", inference_).status, 403);  // no way around
  EXPECT_EQ(call("POST", "/v2/repository/models/nope/unload", "").status, 401);
  // Past the check, the endpoint answers: no such model.
  const auto passed = call("POST", "/v2/repository/models/nope/unload", management_);
  EXPECT_EQ(passed.status, 404) << passed.body;
}

TEST(ServerAuthOptions, MetricsAuthAndManagementFallingBackToTheInferenceToken) {
  const std::string token = random_token(201);
  TestServerConfig c;
  c.management = true;
  c.auth.token_file = write_token_file("metrics_inference", token);
  c.auth.metrics_auth = true;
  auto server = start_test_server(c, "auth_metrics");
  ASSERT_NE(server, nullptr);
  HttpClient client(server->port());
  const std::string auth = "Authorization: Bearer " + token;
  const auto status = [&](std::optional<ClientResponse> r) { return r ? r->status : -1; };
  EXPECT_EQ(status(client.request("GET", "/metrics")), 401);
  EXPECT_EQ(status(client.request("GET", "/metrics", "", {auth})), 200);
  EXPECT_EQ(status(client.request("GET", "/v2/health/ready")), 200);
  EXPECT_EQ(status(client.request("POST", "/v2/repository/models/nope/unload")), 401);
  EXPECT_EQ(status(client.request("POST", "/v2/repository/models/nope/unload", "", {auth})), 404);
}

TEST(ServerAuthOptions, AnUnreadableTokenFileStopsStartUp) {
  TestServerConfig c;
  c.auth.management_token_file = write_token_file("startup_empty", "");
  auto server = try_start_test_server(c, "auth_startup");
  ASSERT_FALSE(server.is_ok());
  EXPECT_EQ(server.status().message(),
            "--management-token-file " + c.auth.management_token_file + ": the file is empty; write the token in it");
}

}  // namespace
}  // namespace inferd::test
