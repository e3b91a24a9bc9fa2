#include <charconv>

#include "server/endpoint_context.h"

namespace inferd {

int http_status_for(const Status& status) {
  switch (status.code()) {
    case StatusCode::kOk: return 200;
    case StatusCode::kInvalidArgument:
    case StatusCode::kDataLoss:
    case StatusCode::kUnimplemented: return 400;
    case StatusCode::kNotFound: return 404;
    case StatusCode::kResourceExhausted:
    case StatusCode::kFailedPrecondition: return 503;
    case StatusCode::kDeadlineExceeded: return 504;
    default: return 500;
  }
}

http::Response error_for(const Status& status) {
  auto r = http::error_response(http_status_for(status), status.message());
  if (r.status == 503) r.headers["Retry-After"] = "1";
  return r;
}

Result<std::chrono::steady_clock::time_point> request_deadline(const http::Request& request, int default_timeout_ms) {
  const std::string header = request.header("x-request-timeout-ms");
  int ms = default_timeout_ms;
  if (!header.empty()) {
    auto [p, ec] = std::from_chars(header.data(), header.data() + header.size(), ms);
    if (ec != std::errc() || p != header.data() + header.size() || ms <= 0 || ms > 3600000)
      return invalid_argument("X-Request-Timeout-Ms must be an integer in 1..3600000, got '" + header + "'");
  }
  if (ms <= 0) return std::chrono::steady_clock::time_point::max();
  return arrival(request) + std::chrono::milliseconds(ms);
}

std::chrono::steady_clock::time_point arrival(const http::Request& request) {
  return request.received == std::chrono::steady_clock::time_point{} ? std::chrono::steady_clock::now()
                                                                       : request.received;
}

http::Respond counted(EndpointContext& ctx, const std::string& model, http::Respond respond) {
  const auto start = std::chrono::steady_clock::now();
  ctx.metrics->in_flight->with().inc();
  return [&ctx, model, start, respond = std::move(respond)](http::Response r) {
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    ctx.metrics->count_request(model, r.status, seconds);
    ctx.metrics->in_flight->with().dec();
    respond(std::move(r));
  };
}

}  // namespace inferd
