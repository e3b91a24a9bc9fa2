// What the endpoint groups share: the models, the decode pool, metrics and state.
// Each endpoint group is one file with one add_*_routes() function.
#pragma once

#include <atomic>
#include <chrono>
#include <string>

#include "server/deadline_timer.h"
#include "server/device_noop.h"
#include "server/model_repository.h"
#include "server/router.h"
#include "server/server_metrics.h"
#include "server/worker_pool.h"

namespace inferd {

struct EndpointContext {
  ModelRepository* models = nullptr;
  WorkerPool* decoders = nullptr;
  WorkerPool* management = nullptr;  // model load/unload run here, never on an I/O thread
  ServerMetrics* metrics = nullptr;
  std::atomic<bool>* ready = nullptr;  // false while starting or draining
  bool management_enabled = false;     // /v2/repository/models/{name}/load|unload
  int default_timeout_ms = 0;          // 0 = no deadline unless X-Request-Timeout-Ms
  DeviceNoop* device_noop = nullptr;   // /v1/noop?device=1
  DeadlineTimer* deadlines = nullptr;  // answers 504 at a request's deadline, whatever holds it
};

// HTTP status for an engine/batcher Status (400 bad input, 503 full/draining, 504 deadline...).
int http_status_for(const Status& status);
// The JSON error answer for a failed request, with Retry-After on a 503.
http::Response error_for(const Status& status);

// The deadline of a request: X-Request-Timeout-Ms, else the server default, counted from
// the request's arrival (time_point::max() when there is none); an invalid header value is
// an error (400).
Result<std::chrono::steady_clock::time_point> request_deadline(const http::Request& request, int default_timeout_ms);
// When the request arrived: its `received`, or now for a request made in code.
std::chrono::steady_clock::time_point arrival(const http::Request& request);

// Wraps `respond` so that the answer is counted in the metrics (model, status, latency).
http::Respond counted(EndpointContext& ctx, const std::string& model, http::Respond respond);

void add_classify_routes(Router& router, EndpointContext& ctx);
void add_ops_routes(Router& router, EndpointContext& ctx);  // health, metrics, noop
void add_v2_routes(Router& router, EndpointContext& ctx);   // KServe v2

}  // namespace inferd
