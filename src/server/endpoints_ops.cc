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
  // The seed's empty server: what HTTP alone costs. `?device=1` waits for a GPU backend.
  router.add("POST", "/v1/noop", [](http::Request request, PathParams, http::Respond respond) {
    if (request.query_param("device") == "1")
      return respond(http::error_response(501, "device=1 needs the CUDA backend, which this build does not have"));
    http::Response r;
    r.body = "{}";
    respond(std::move(r));
  });
}

}  // namespace inferd
