// Runs the bad-input corpus (tests/server/bad_inputs/cases.toml; the format is described
// at its top) against ONE in-process server. After every case: every connection is
// closed again and a good POST /classify still answers correctly.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <set>
#include <thread>

#include "core/file.h"
#include "core/toml.h"
#include "http_client.h"
#include "server/http/http_types.h"
#include "server_test_env.h"
#include "support/ort_oracle.h"

namespace inferd::test {
namespace {

namespace fs = std::filesystem;

constexpr int kHeaderTimeoutMs = 500;
constexpr int kMaxConnections = 8;
constexpr size_t kMaxBodyBytes = 1 << 20;
constexpr int kMinCases = 30;

std::string corpus_dir() {
  return source_dir() + "/tests/server/bad_inputs";
}

struct Case {
  std::string name, kind = "request";
  std::string method = "POST", target;
  std::vector<std::string> headers;
  std::string body;
  std::vector<int64_t> chunks;
  int64_t flood_count = 0, flood_bytes = 0;
  std::string raw, then_raw;
  int status = 0, then_status = 0;
  std::string message, then_message;
  bool closes = false, same_as_good = false;
  std::vector<std::string> files;  // body_file / raw_file, relative to the corpus folder
};

// Reads one case table; unknown keys are errors (a typo must not silently test less).
class CaseReader {
 public:
  CaseReader(std::string name, const toml::Table& table) : table_(table) { case_.name = std::move(name); }

  Result<Case> read() {
    static const std::set<std::string> kKeys{"what",        "kind",        "method",       "target",   "headers",
                                             "body",        "body_file",   "fill",         "chunks",   "flood_count",
                                             "flood_bytes", "raw",         "raw_file",     "then_raw", "status",
                                             "message",     "then_status", "then_message", "closes",   "same_as_good"};
    for (size_t i = 0; i < table_.size(); ++i)
      if (!kKeys.count(table_.key(i))) return fail("unknown key '" + table_.key(i) + "'");
    RETURN_IF_ERROR(text("kind", case_.kind));
    RETURN_IF_ERROR(text("method", case_.method));
    RETURN_IF_ERROR(text("target", case_.target));
    RETURN_IF_ERROR(text("body", case_.body));
    RETURN_IF_ERROR(file("body_file", case_.body));
    RETURN_IF_ERROR(text("raw", case_.raw));
    RETURN_IF_ERROR(file("raw_file", case_.raw));
    RETURN_IF_ERROR(text("then_raw", case_.then_raw));
    RETURN_IF_ERROR(text("message", case_.message));
    RETURN_IF_ERROR(text("then_message", case_.then_message));
    int64_t fill = 0, status = 0, then_status = 0;
    RETURN_IF_ERROR(integer("fill", fill));
    case_.body.append(static_cast<size_t>(fill), 'x');
    RETURN_IF_ERROR(integer("status", status));
    RETURN_IF_ERROR(integer("then_status", then_status));
    case_.status = static_cast<int>(status);
    case_.then_status = static_cast<int>(then_status);
    RETURN_IF_ERROR(integer("flood_count", case_.flood_count));
    RETURN_IF_ERROR(integer("flood_bytes", case_.flood_bytes));
    RETURN_IF_ERROR(boolean("closes", case_.closes));
    RETURN_IF_ERROR(boolean("same_as_good", case_.same_as_good));
    RETURN_IF_ERROR(list("headers", [&](const toml::Value& v) -> Status {
      if (!v.is_string()) return fail("headers must be strings");
      case_.headers.push_back(v.as_string());
      return Status::ok();
    }));
    RETURN_IF_ERROR(list("chunks", [&](const toml::Value& v) -> Status {
      if (!v.is_integer() || v.as_integer() <= 0) return fail("chunks must be positive integers");
      case_.chunks.push_back(v.as_integer());
      return Status::ok();
    }));
    return check();
  }

 private:
  Status fail(const std::string& what) const { return invalid_argument("case [" + case_.name + "]: " + what); }

  Status text(const char* key, std::string& out) const {
    const toml::Value* v = table_.find(key);
    if (!v) return Status::ok();
    if (!v->is_string()) return fail(std::string(key) + " must be a string");
    out = v->as_string();
    return Status::ok();
  }
  Status file(const char* key, std::string& out) {
    std::string relative;
    RETURN_IF_ERROR(text(key, relative));
    if (relative.empty()) return Status::ok();
    ASSIGN_OR_RETURN(out, read_text_file(corpus_dir() + "/" + relative));
    case_.files.push_back(relative);
    return Status::ok();
  }
  Status integer(const char* key, int64_t& out) const {
    const toml::Value* v = table_.find(key);
    if (!v) return Status::ok();
    if (!v->is_integer() || v->as_integer() < 0) return fail(std::string(key) + " must be a non-negative integer");
    out = v->as_integer();
    return Status::ok();
  }
  Status boolean(const char* key, bool& out) const {
    const toml::Value* v = table_.find(key);
    if (!v) return Status::ok();
    if (!v->is_bool()) return fail(std::string(key) + " must be true or false");
    out = v->as_bool();
    return Status::ok();
  }
  template <typename F>
  Status list(const char* key, F each) const {
    const toml::Value* v = table_.find(key);
    if (!v) return Status::ok();
    if (!v->is_array()) return fail(std::string(key) + " must be an array");
    for (const toml::Value& e : v->as_array()) RETURN_IF_ERROR(each(e));
    return Status::ok();
  }
  Result<Case> check() const {
    const std::string& k = case_.kind;
    if (k != "request" && k != "stall" && k != "idle_connections") return fail("unknown kind '" + k + "'");
    if (k == "request" && case_.raw.empty() && case_.target.empty()) return fail("needs a target or raw bytes");
    if (k == "stall" && case_.raw.empty()) return fail("a stall needs raw bytes");
    if (k != "stall" && case_.status == 0) return fail("needs the expected status");
    if (k != "stall" && case_.message.empty()) return fail("needs the expected message");
    if (!case_.then_raw.empty() && case_.then_status == 0) return fail("then_raw needs then_status");
    return case_;
  }

  const toml::Table& table_;
  Case case_;
};

Result<std::vector<Case>> load_cases() {
  const std::string path = corpus_dir() + "/cases.toml";
  ASSIGN_OR_RETURN(const std::string text, read_text_file(path));
  ASSIGN_OR_RETURN(const toml::Table root, toml::parse(text, path));
  std::vector<Case> cases;
  for (size_t i = 0; i < root.size(); ++i) {
    if (!root.value(i).is_table()) return invalid_argument(path + ": '" + root.key(i) + "' is not a case table");
    ASSIGN_OR_RETURN(Case c, CaseReader(root.key(i), root.value(i).as_table()).read());
    cases.push_back(std::move(c));
  }
  return cases;
}

std::string chunked(const std::vector<int64_t>& sizes) {
  std::string out;
  for (int64_t size : sizes) {
    char hex[32];
    std::snprintf(hex, sizeof hex, "%llx\r\n", static_cast<unsigned long long>(size));
    out += hex + std::string(static_cast<size_t>(size), 'x') + "\r\n";
  }
  return out + "0\r\n\r\n";
}

std::string request_bytes(const Case& c) {
  if (!c.raw.empty()) return c.raw + c.then_raw;
  std::string out = c.method + " " + c.target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n";
  for (const auto& h : c.headers) out += h + "\r\n";
  for (int64_t i = 0; i < c.flood_count; ++i)
    out += "X-Flood-" + std::to_string(i) + ": " + std::string(static_cast<size_t>(c.flood_bytes), 'f') + "\r\n";
  if (!c.chunks.empty()) return out + "Transfer-Encoding: chunked\r\n\r\n" + chunked(c.chunks) + c.then_raw;
  if (!c.body.empty() || c.method == "POST") out += "Content-Length: " + std::to_string(c.body.size()) + "\r\n";
  return out + "\r\n" + c.body + c.then_raw;
}

bool eventually(const std::function<bool()>& condition, int timeout_ms = 5000) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (!condition()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}

void expect_answer(const std::optional<ClientResponse>& r, int status, const std::string& message,
                   const std::string& error) {
  ASSERT_TRUE(r.has_value()) << "no answer: " << error;
  EXPECT_EQ(r->status, status) << r->body.substr(0, 300);
  EXPECT_NE(r->body.find(message), std::string::npos) << "wanted '" << message << "' in " << r->body.substr(0, 300);
  EXPECT_EQ(http::valid_utf8_prefix(r->body), r->body.size()) << "the body is not UTF-8";
  if (status >= 400) {
    EXPECT_EQ(r->header("content-type"), "application/json");
    EXPECT_EQ(r->body.rfind("{\"error\":\"", 0), 0u) << r->body;
    EXPECT_EQ(r->body.back(), '}') << r->body;
  }
}

class BadInputs : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    TestServerConfig config;
    config.max_body_bytes = kMaxBodyBytes;
    config.management = true;
    config.header_timeout_ms = kHeaderTimeoutMs;
    config.body_timeout_ms = kHeaderTimeoutMs;
    config.max_connections = kMaxConnections;
    server_ = start_test_server(config, "bad_inputs").release();
    if (!server_) return;
    // After start-up (which loads every folder): only the load cases touch these.
    const fs::path repository = fs::path(temp_dir()) / "bad_inputs";
    fs::copy(corpus_dir() + "/models", repository, fs::copy_options::recursive | fs::copy_options::overwrite_existing);
  }
  static void TearDownTestSuite() { delete server_; }

  void SetUp() override { ASSERT_NE(server_, nullptr); }

  static std::optional<ClientResponse> good_request() {
    HttpClient client(server_->port());
    return client.request("POST", "/classify", image(1), {"Content-Type: image/jpeg"});
  }

  // The case's own answers.
  void run_request(const Case& c, const std::string& good_body) {
    HttpClient client(server_->port());
    ASSERT_TRUE(client.send(request_bytes(c))) << client.error();
    const auto r = client.read_response(c.method == "HEAD");
    expect_answer(r, c.status, c.message, client.error());
    if (c.same_as_good && r) {
      EXPECT_EQ(r->body, good_body);
    }
    if (c.then_status != 0) expect_answer(client.read_response(), c.then_status, c.then_message, client.error());
    if (c.closes) {
      EXPECT_TRUE(client.wait_closed(3000)) << "the server kept the connection open";
    }
  }

  // A client that stalls half-way is disconnected without an answer.
  void run_stall(const Case& c) {
    HttpClient client(server_->port(), kHeaderTimeoutMs + 5000);
    ASSERT_TRUE(client.send(c.raw)) << client.error();
    const auto r = client.read_response();
    EXPECT_FALSE(r.has_value()) << "answered " << r->status << " " << r->body;
    EXPECT_NE(client.error(), "timeout") << "the server never closed the connection";
  }

  void run_idle_connections(const Case& c) {
    // The previous good request's connection may not be closed on the server's side yet:
    // counted, it would take one of the slots this case fills.
    ASSERT_TRUE(eventually([] { return server_->open_connections() == 0; }));
    std::vector<std::unique_ptr<HttpClient>> idle;
    for (int i = 0; i < kMaxConnections; ++i) {
      idle.push_back(std::make_unique<HttpClient>(server_->port()));
      ASSERT_TRUE(idle.back()->connected()) << idle.back()->error();
    }
    ASSERT_TRUE(eventually([] { return server_->open_connections() == kMaxConnections; }));
    // Over the limit a connection lands on the health probes' reserve: a probe would be
    // answered, anything else is refused.
    HttpClient extra(server_->port());
    expect_answer(extra.request("GET", "/v2/models/squeezenet"), c.status, c.message, extra.error());
    EXPECT_TRUE(extra.wait_closed(3000));
  }

  static inline Server* server_ = nullptr;
};

TEST(BadInputsCorpus, ManifestIsWellFormedAndLargeEnough) {
  auto cases = load_cases();
  ASSERT_TRUE(cases.is_ok()) << cases.status().message();
  EXPECT_GE(cases->size(), static_cast<size_t>(kMinCases));
  std::set<int> statuses;
  std::set<std::string> used;
  for (const Case& c : *cases) {
    statuses.insert(c.status);
    used.insert(c.files.begin(), c.files.end());
  }
  for (int status : {200, 400, 404, 405, 413, 415, 431, 503}) EXPECT_TRUE(statuses.count(status)) << status;
  // Every payload make_corpus.py writes is used by some case (no stale files).
  for (const auto& entry : fs::directory_iterator(corpus_dir() + "/files"))
    EXPECT_TRUE(used.count("files/" + entry.path().filename().string())) << entry.path() << " is used by no case";
}

TEST(BadInputsCorpus, ErrorMessagesAreAlwaysUtf8) {
  EXPECT_EQ(http::valid_utf8_prefix("plain ascii"), 11u);
  EXPECT_EQ(http::valid_utf8_prefix("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x90\x87"), 14u);
  EXPECT_EQ(http::valid_utf8_prefix("ab\xff"), 2u);
  EXPECT_EQ(http::valid_utf8_prefix("\xc0\xaf"), 0u);          // overlong '/'
  EXPECT_EQ(http::valid_utf8_prefix("\xed\xa0\x80"), 0u);      // a surrogate
  EXPECT_EQ(http::valid_utf8_prefix("\xf4\x90\x80\x80"), 0u);  // above U+10FFFF
  EXPECT_EQ(http::valid_utf8_prefix("x\xe2\x82"), 1u);         // cut short
  EXPECT_EQ(http::error_response(404, "unknown model '\xff\xfe'").body,
            "{\"error\":\"unknown model '\xef\xbf\xbd\xef\xbf\xbd'\"}");
}

TEST_F(BadInputs, EveryCaseIsAnsweredAsListedAndTheServerStaysCorrect) {
  auto cases = load_cases();
  ASSERT_TRUE(cases.is_ok()) << cases.status().message();
  const auto good = good_request();
  ASSERT_TRUE(good.has_value());
  ASSERT_EQ(good->status, 200) << good->body;
  ASSERT_NE(good->body.find("{\"confidence\":0.92"), std::string::npos) << good->body;
  for (const Case& c : *cases) {
    SCOPED_TRACE("case [" + c.name + "]");
    if (c.kind == "stall") {
      run_stall(c);
    } else if (c.kind == "idle_connections") {
      run_idle_connections(c);
    } else {
      run_request(c, good->body);
    }
    EXPECT_TRUE(eventually([] { return server_->open_connections() == 0; }))
        << server_->open_connections() << " connections still open after the case";
    const auto after = good_request();
    ASSERT_TRUE(after.has_value()) << "the server did not answer the good request after this case";
    ASSERT_EQ(after->status, 200) << after->body;
    EXPECT_EQ(after->body, good->body);
  }
}

}  // namespace
}  // namespace inferd::test
