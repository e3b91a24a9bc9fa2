#include "server/auth.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <vector>

#include "core/file.h"
#include "core/log.h"
#include "server/router.h"

namespace inferd {
namespace {

constexpr size_t kMaxTokenFileBytes = 4096;

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

// Reads a small regular file whole; errors name the flag and the path. A named pipe or
// device is refused before it is opened (RegularFile): opening a FIFO would hang start-up.
Result<std::string> read_small_file(const std::string& path, const std::string& flag) {
  const std::string what = flag + " " + path;
  auto opened = RegularFile::open(path);  // its messages start with the path
  if (!opened.is_ok()) return Status(opened.status().code(), flag + " " + opened.status().message());
  const RegularFile& file = *opened;
  if (file.size() > kMaxTokenFileBytes) {
    return invalid_argument(what + ": " + std::to_string(file.size()) + " bytes; a token file holds at most " +
                            std::to_string(kMaxTokenFileBytes));
  }
  if ((file.mode() & S_IROTH) != 0) log_warn("token_file_world_readable").kv("flag", flag).kv("path", path);
  std::string text(file.size(), '\0');
  size_t got = 0;
  while (got < text.size()) {
    const ssize_t n = ::read(file.fd(), text.data() + got, text.size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    got += static_cast<size_t>(n);
  }
  if (got != text.size()) return data_loss(what + ": read failed: " + std::strerror(errno));
  return text;
}

http::Response unauthorized(const std::string& message, const std::string& error_code) {
  http::Response r = http::error_response(401, message);
  r.headers["WWW-Authenticate"] =
      error_code.empty() ? "Bearer realm=\"inferd\"" : "Bearer realm=\"inferd\", error=\"" + error_code + "\"";
  return r;
}

// The token of `Authorization: Bearer <token>` (scheme case-insensitive, RFC 6750 2.1);
// nullopt when the header is something else.
std::optional<std::string_view> bearer_token(std::string_view header) {
  constexpr std::string_view kScheme = "bearer";
  if (header.size() <= kScheme.size() || !is_space(header[kScheme.size()])) return std::nullopt;
  for (size_t i = 0; i < kScheme.size(); ++i)
    if ((header[i] | 0x20) != kScheme[i]) return std::nullopt;
  std::string_view token = header.substr(kScheme.size());
  while (!token.empty() && is_space(token.front())) token.remove_prefix(1);
  if (token.empty()) return std::nullopt;
  return token;
}

}  // namespace

bool constant_time_equals(std::string_view presented, std::string_view expected) {
  if (expected.empty()) return presented.empty();
  unsigned diff = presented.size() != expected.size() ? 1u : 0u;
  size_t j = 0;
  for (size_t i = 0; i < presented.size(); ++i) {
    diff |= static_cast<unsigned char>(presented[i] ^ expected[j]);
    // Wraps j to 0 at expected's end without a branch.
    ++j;
    j *= static_cast<size_t>(j != expected.size());
    // An empty asm that "changes" diff: the compiler cannot prove the loop's result is
    // settled early and so cannot turn it into a comparison that stops at the first mismatch.
    asm volatile("" : "+r"(diff));
  }
  return diff == 0;
}

Result<std::string> read_token_file(const std::string& path, const std::string& flag) {
  if (path.empty()) return invalid_argument(flag + " needs a file name");
  ASSIGN_OR_RETURN(std::string token, read_small_file(path, flag));
  while (!token.empty() && is_space(token.back())) token.pop_back();
  if (token.empty()) return invalid_argument(flag + " " + path + ": the file is empty; write the token in it");
  for (unsigned char c : token) {
    if (c <= 0x20 || c >= 0x7F) {
      return invalid_argument(flag + " " + path +
                              ": the token has a space, control or non-ASCII byte; use printable ASCII only "
                              "(e.g. `openssl rand -hex 32`)");
    }
  }
  return token;
}

Access access_needed(std::string_view path, bool metrics_auth) {
  // The same segments the router matches, so that "//v2//repository/..." cannot slip by.
  const std::vector<std::string> parts = split_path(path);
  const auto is = [&](std::initializer_list<std::string_view> want) {
    return parts.size() == want.size() && std::equal(want.begin(), want.end(), parts.begin());
  };
  if (is({"v2", "health", "live"}) || is({"v2", "health", "ready"})) return Access::kOpen;
  if (is({"metrics"})) return metrics_auth ? Access::kInference : Access::kOpen;
  if (parts.size() >= 2 && parts[0] == "v2" && parts[1] == "repository") return Access::kManagement;
  return Access::kInference;  // everything else, unknown paths included
}

Result<AccessPolicy> AccessPolicy::load(const AuthOptions& options) {
  AccessPolicy policy;
  policy.metrics_auth_ = options.metrics_auth;
  if (!options.token_file.empty()) {
    ASSIGN_OR_RETURN(policy.inference_token_, read_token_file(options.token_file, "--auth-token-file"));
  }
  if (!options.management_token_file.empty()) {
    ASSIGN_OR_RETURN(policy.management_token_,
                     read_token_file(options.management_token_file, "--management-token-file"));
  }
  if (!policy.inference_token_.empty() && policy.inference_token_ == policy.management_token_) {
    return invalid_argument(
        "--auth-token-file and --management-token-file hold the same token; management needs "
        "its own");
  }
  if (options.metrics_auth && policy.inference_token_.empty())
    return invalid_argument("--metrics-auth needs --auth-token-file");
  return policy;
}

std::optional<http::Response> AccessPolicy::check(const http::Request& request) const {
  const Access need = access_needed(request.path(), metrics_auth_);
  if (need == Access::kOpen) return std::nullopt;
  const bool own_management_token = need == Access::kManagement && !management_token_.empty();
  const std::string& required = own_management_token ? management_token_ : inference_token_;
  if (required.empty()) return std::nullopt;
  const std::string header = request.header("authorization");
  if (header.empty()) return unauthorized("missing bearer token: send 'Authorization: Bearer <token>'", "");
  const std::optional<std::string_view> presented = bearer_token(header);
  if (!presented) return unauthorized("the Authorization header is not 'Bearer <token>'", "invalid_request");
  if (constant_time_equals(*presented, required)) return std::nullopt;
  if (own_management_token && !inference_token_.empty() && constant_time_equals(*presented, inference_token_)) {
    http::Response r =
        http::error_response(403, "the inference token may not load or unload models; send the management token");
    r.headers["WWW-Authenticate"] = "Bearer realm=\"inferd\", error=\"insufficient_scope\"";
    return r;
  }
  return unauthorized("invalid bearer token", "invalid_token");
}

}  // namespace inferd
