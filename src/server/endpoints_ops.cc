// Operations endpoints: health (KServe v2 paths), Prometheus metrics, and the seed's
// overhead-measuring no-op.
#include "server/endpoint_context.h"

namespace inferd {

void add_ops_routes(Router& router, EndpointContext& ctx) {
  router.add("GET", "/v2/health/live", [](http::Request, PathParams, http::Respond respond) {
    http::Response r;
    r.body = "{\"live\":true}";
    respond(std::move(r));
  });
  router.add("GET", "/v2/health/ready", [&ctx](http::Request, PathParams, http::Respond respond) {
    const bool ready = ctx.ready->load() && !ctx.models->models().empty();
    http::Response r;
    r.status = ready ? 200 : 503;
    r.body = ready ? "{\"ready\":true}" : "{\"ready\":false}";
    respond(std::move(r));
  });
  router.add("GET", "/metrics", [&ctx](http::Request, PathParams, http::Respond respond) {
    http::Response r;
    r.content_type = metrics::kContentType;
    r.body = ctx.metrics->registry.render();
    respond(std::move(r));
  });
  // The seed's empty server: what HTTP alone costs. `?device=1` also launches an empty
  // kernel on GPU 0 and waits for it, on a decode thread (never block an I/O thread).
  router.add("POST", "/v1/noop", [&ctx](http::Request request, PathParams, http::Respond respond) {
    if (request.query_param("device") != "1") {
      http::Response r;
      r.body = "{}";
      return respond(std::move(r));
    }
    // A server built without the device no-op (embedders, the fuzzers) answers 501 too.
    if (ctx.device_noop == nullptr) return respond(http::error_response(501, "this server has no device no-op endpoint"));
    auto task = [&ctx, respond]() mutable {
      const Status status = ctx.device_noop->run();
      if (status.code() == StatusCode::kUnimplemented) return respond(http::error_response(501, status.message()));
      if (!status.is_ok()) return respond(error_for(status));
      http::Response r;
      r.body = "{}";
      respond(std::move(r));
    };
    const Status admitted = ctx.decoders->try_submit(std::move(task), 0);
    if (!admitted.is_ok()) respond(error_for(admitted));
  });
}

}  // namespace inferd
