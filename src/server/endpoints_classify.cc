// POST /classify and POST /v1/models/{name}/classify: the seed's endpoint. Body = raw
// image bytes (image/*, application/octet-stream) or a multipart/form-data file field;
// answer = [{"confidence":0.9211,"label":"n02328150 Angora, Angora rabbit"},...].
#include <charconv>

#include "server/endpoint_context.h"
#include "server/multipart.h"

namespace inferd {
namespace {

// The media type without parameters, lower-cased: types are case-insensitive (RFC 9110 8.3.1).
std::string media_type(const std::string& content_type) {
  std::string base = content_type.substr(0, content_type.find(';'));
  while (!base.empty() && (base.back() == ' ' || base.back() == '\t')) base.pop_back();
  for (char& c : base)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return base;
}

Result<std::string> image_bytes(http::Request& request) {
  const std::string type = request.header("content-type");
  const std::string base = media_type(type);
  if (base == "multipart/form-data") {
    ASSIGN_OR_RETURN(auto file, multipart_file(request.body, type));
    if (file.empty()) return invalid_argument("the multipart file field is empty");
    return std::string(file);
  }
  // application/x-www-form-urlencoded is what `curl --data-binary @image.jpg` sends unless
  // told otherwise (the README's command): the bytes are the image, sniffed as always.
  const bool raw = type.empty() || base.starts_with("image/") || base == "application/octet-stream" ||
                   base == "application/x-www-form-urlencoded";
  if (!raw)
    return unimplemented("unsupported content type '" + type +
                         "' (send image/*, application/octet-stream or multipart/form-data)");
  if (request.body.empty()) return invalid_argument("empty body: send the image bytes");
  return std::move(request.body);
}

Result<int> top_k_of(const http::Request& request, int fallback) {
  const std::string value = request.query_param("top");
  if (value.empty()) return fallback;
  int k = 0;
  auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), k);
  if (ec != std::errc() || p != value.data() + value.size() || k < 1 || k > 1000)
    return invalid_argument("top must be an integer in 1..1000, got '" + value + "'");
  return k;
}

void classify(EndpointContext& ctx, std::shared_ptr<ServedModel> model, http::Request request, http::Respond respond) {
  auto k = top_k_of(request, model->model().folder.config.output.top_k);
  auto deadline = request_deadline(request, ctx.default_timeout_ms);
  auto bytes = image_bytes(request);
  for (const Status* s : {&k.status(), &deadline.status(), &bytes.status()}) {
    if (s->is_ok()) continue;
    return respond(http::error_response(s->code() == StatusCode::kUnimplemented ? 415 : 400, s->message()));
  }
  auto stage = std::make_shared<RequestStage>();
  respond = ctx.deadlines->guard(arrival(request), *deadline, stage, std::move(respond));
  model->classify(
      *ctx.decoders, std::move(bytes).value(), *k, *deadline,
      [respond = std::move(respond)](Result<std::vector<Prediction>> result) {
        if (!result.is_ok()) return respond(error_for(result.status()));
        http::Response r;
        r.body = predictions_json(*result);
        respond(std::move(r));
      },
      std::move(stage));
}

}  // namespace

void add_classify_routes(Router& router, EndpointContext& ctx) {
  router.add("POST", "/classify", [&ctx](http::Request request, PathParams, http::Respond respond) {
    auto model = ctx.models->only_model();
    if (!model) {
      return respond(http::error_response(
          ctx.models->models().empty() ? 503 : 400,
          ctx.models->models().empty() ? "no model is loaded" : "several models are served: use /v1/models/{name}/classify"));
    }
    classify(ctx, model, std::move(request), counted(ctx, model->name(), std::move(respond)));
  });
  router.add("POST", "/v1/models/{model}/classify", [&ctx](http::Request request, PathParams params, http::Respond respond) {
    auto model = ctx.models->find(params["model"]);
    if (!model) return respond(http::error_response(404, "unknown model '" + params["model"] + "'"));
    classify(ctx, model, std::move(request), counted(ctx, model->name(), std::move(respond)));
  });
}

}  // namespace inferd
