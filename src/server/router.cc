#include "server/router.h"

#include <set>

namespace inferd {

std::vector<std::string> split_path(std::string_view path) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (start <= path.size()) {
    const size_t slash = path.find('/', start);
    const auto part = path.substr(start, slash == std::string_view::npos ? std::string_view::npos : slash - start);
    if (!part.empty()) parts.emplace_back(part);
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  return parts;
}

namespace {

bool match(const std::vector<std::string>& pattern, const std::vector<std::string>& path, PathParams& params) {
  if (pattern.size() != path.size()) return false;
  for (size_t i = 0; i < pattern.size(); ++i) {
    const auto& p = pattern[i];
    if (p.size() > 2 && p.front() == '{' && p.back() == '}') {
      params[p.substr(1, p.size() - 2)] = path[i];
    } else if (p != path[i]) {
      return false;
    }
  }
  return true;
}

}  // namespace

void Router::add(const std::string& method, const std::string& pattern, RouteHandler handler) {
  routes_.push_back({method, split_path(pattern), std::move(handler)});
}

void Router::dispatch(http::Request request, http::Respond respond) const {
  const auto path = split_path(request.path());
  std::set<std::string> allowed;
  for (const auto& route : routes_) {
    PathParams params;
    if (!match(route.segments, path, params)) continue;
    if (route.method != request.method) {
      allowed.insert(route.method);
      continue;
    }
    route.handler(std::move(request), std::move(params), std::move(respond));
    return;
  }
  if (allowed.empty()) {
    respond(http::error_response(404, "no route for " + std::string(request.path())));
    return;
  }
  std::string allow;
  for (const auto& m : allowed) allow += (allow.empty() ? "" : ", ") + m;
  auto r = http::error_response(405, "method " + request.method + " is not allowed on " +
                                         std::string(request.path()) + " (allowed: " + allow + ")");
  r.headers["Allow"] = allow;
  respond(std::move(r));
}

}  // namespace inferd
