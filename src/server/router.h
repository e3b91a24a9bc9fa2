// Maps (method, path pattern) to handlers. Patterns are literal segments and
// `{name}` captures: "/v2/models/{model}/versions/{version}/infer". Unknown paths
// answer 404, known paths with another method 405 (with Allow), both as JSON errors.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "server/http/http_types.h"

namespace inferd {

using PathParams = std::map<std::string, std::string>;

// The non-empty segments of a path as routes match them: "//v2/models/" -> {"v2", "models"}.
// No percent-decoding and no "." or ".." resolution (those never match a route).
std::vector<std::string> split_path(std::string_view path);

using RouteHandler = std::function<void(http::Request, PathParams, http::Respond)>;

class Router {
 public:
  void add(const std::string& method, const std::string& pattern, RouteHandler handler);
  // Dispatches on the calling thread; the handler answers through `respond`.
  void dispatch(http::Request request, http::Respond respond) const;

 private:
  struct Route {
    std::string method;
    std::vector<std::string> segments;
    RouteHandler handler;
  };
  std::vector<Route> routes_;
};

}  // namespace inferd
