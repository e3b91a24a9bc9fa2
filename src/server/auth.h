// Bearer-token access control for `inferd serve` (RFC 6750, `Authorization: Bearer <token>`).
//
// Two independent tokens, each read from a file at start-up:
// - the inference token (--auth-token-file) guards everything except the health probes
//   and, unless --metrics-auth, /metrics: /classify, /v1/..., /v2, /v2/models/...;
// - the management token (--management-token-file) guards
//   POST /v2/repository/models/{name}/load|unload. Without one, those endpoints accept
//   the inference token if there is one, else anybody (the server warns at start-up).
// Without any token file nothing is checked (the default, with the default 127.0.0.1 bind).
//
// Answers: no or malformed Authorization -> 401 with `WWW-Authenticate: Bearer realm="inferd"`;
// a wrong token -> 401 with `error="invalid_token"`; the inference token on a management
// endpoint -> 403. Every answer body is {"error": "..."}.
//
// Threading: an AccessPolicy is immutable after load(); check() may run on any thread.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "core/status.h"
#include "server/http/http_types.h"

namespace inferd {

struct AuthOptions {
  std::string token_file;             // --auth-token-file: inference + metadata endpoints
  std::string management_token_file;  // --management-token-file: model load/unload
  bool metrics_auth = false;          // --metrics-auth: /metrics needs the inference token too
};

// True when `presented` equals `expected`. The time taken depends only on
// presented.size(), never on where the strings differ nor on expected's length or
// contents (beyond the trivial: the loop reads expected's bytes cyclically).
bool constant_time_equals(std::string_view presented, std::string_view expected);

// The token a file holds: its bytes without trailing whitespace (the newline an editor
// or `echo` adds). Errors name `flag` and the file: unreadable, not a regular file,
// empty, over 4 KiB, or holding bytes a header cannot carry (whitespace inside, control
// characters, non-ASCII).
Result<std::string> read_token_file(const std::string& path, const std::string& flag);

// What a path needs, whatever the method (a wrong method is the router's 405, after the check).
enum class Access { kOpen, kInference, kManagement };
Access access_needed(std::string_view path, bool metrics_auth);

class AccessPolicy {
 public:
  // Reads the token files; an empty AuthOptions gives a policy that allows everything.
  static Result<AccessPolicy> load(const AuthOptions& options);

  bool enabled() const { return !inference_token_.empty() || !management_token_.empty(); }
  bool guards_inference() const { return !inference_token_.empty(); }
  bool guards_management() const { return !management_token_.empty() || !inference_token_.empty(); }

  // nullopt when the request may go on; else the 401/403 answer to send.
  std::optional<http::Response> check(const http::Request& request) const;

 private:
  std::string inference_token_;
  std::string management_token_;
  bool metrics_auth_ = false;
};

}  // namespace inferd
