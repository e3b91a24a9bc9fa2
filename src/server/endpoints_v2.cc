// KServe v2 / Triton-compatible REST: server and model metadata, readiness, config,
// inference (JSON tensors, binary tensor data extension, BYTES images, FP32 tensors,
// the classification extension), and the repository extension (load/unload).
#include <algorithm>
#include <mutex>

#include "core/json.h"
#include "core/version.h"
#include "server/endpoint_context.h"
#include "server/kserve_protocol.h"

namespace inferd {
namespace {

kserve::ModelMetadata metadata_of(const ServedModel& m) {
  kserve::ModelMetadata md;
  md.name = m.name();
  md.versions = {std::to_string(m.version())};
  for (const auto& b : m.model().engine->inputs()) md.inputs.push_back({b.name, "FP32", b.shape, {}, {}});
  for (const auto& b : m.model().engine->outputs()) md.outputs.push_back({b.name, "FP32", b.shape, {}, {}});
  return md;
}

// Resolves {model} and an optional {version}: 404 unless loaded (and that version).
std::shared_ptr<ServedModel> resolve(EndpointContext& ctx, PathParams& p, const http::Respond& respond) {
  auto model = ctx.models->find(p["model"]);
  if (!model) {
    respond(http::error_response(404, "unknown model '" + p["model"] + "'"));
    return nullptr;
  }
  if (p.count("version") && p["version"] != std::to_string(model->version())) {
    respond(http::error_response(404, "model '" + p["model"] + "' has no loaded version " + p["version"]));
    return nullptr;
  }
  return model;
}

// Collects one row per sample; answers once every sample is back (or on the first error).
struct Gather {
  std::mutex mu;
  std::vector<std::vector<float>> rows;
  size_t remaining;
  bool failed = false;
  std::function<void(Result<std::vector<std::vector<float>>>)> done;
  void put(size_t i, Result<std::vector<float>> row) {
    std::unique_lock lock(mu);
    if (failed) return;
    if (!row.is_ok()) {
      failed = true;
      lock.unlock();
      return done(row.status());
    }
    rows[i] = std::move(row).value();
    if (--remaining == 0) {
      lock.unlock();
      done(std::move(rows));
    }
  }
};

// An FP32 input is N preprocessed samples: its shape must be the model input's with any batch.
Status check_fp32_shape(const kserve::TensorData& in, const ServedModel& m) {
  const auto& want = m.model().engine->inputs().at(0).shape;
  bool same = in.shape.size() == want.size();
  for (size_t d = 1; same && d < want.size(); ++d) same = in.shape[d] == want[d];
  if (same) return Status::ok();
  std::string shape = "[", model_shape = "[-1";
  for (size_t d = 0; d < in.shape.size(); ++d) shape += (d ? "," : "") + std::to_string(in.shape[d]);
  for (size_t d = 1; d < want.size(); ++d) model_shape += "," + std::to_string(want[d]);
  return invalid_argument("input '" + in.name + "' has shape " + shape + "]; model '" + m.name() + "' takes FP32 " +
                          model_shape + "] (any batch)");
}

Result<std::vector<std::vector<float>>> fp32_samples(const kserve::TensorData& in, const ServedModel& m) {
  const size_t sample = m.sample_size();
  if (in.fp32.empty() || in.fp32.size() % sample != 0)
    return invalid_argument("input '" + in.name + "' has " + std::to_string(in.fp32.size()) +
                            " values, not a multiple of one sample (" + std::to_string(sample) + ")");
  RETURN_IF_ERROR(check_fp32_shape(in, m));
  std::vector<std::vector<float>> samples;
  for (size_t i = 0; i < in.fp32.size(); i += sample)
    samples.emplace_back(in.fp32.begin() + static_cast<std::ptrdiff_t>(i),
                         in.fp32.begin() + static_cast<std::ptrdiff_t>(i + sample));
  return samples;
}

kserve::InferResult result_of(const ServedModel& m, const kserve::InferRequest& req,
                              const std::vector<std::vector<float>>& rows) {
  kserve::InferResult res{m.name(), std::to_string(m.version()), req.id, {}, {}};
  const auto& out = m.model().engine->outputs().at(0);
  std::vector<kserve::RequestedOutput> wanted = req.outputs;
  if (wanted.empty()) wanted.push_back({out.name, req.binary_data_output, 0});
  for (const auto& w : wanted) {
    kserve::TensorData t;
    t.name = w.name;
    if (w.classification > 0) {
      // More classes asked for than the model has: all of them, and the shape says so
      // (the extension's classification_output clamps the same way).
      const int k = rows.empty() ? w.classification
                                 : static_cast<int>(std::min<size_t>(static_cast<size_t>(w.classification), rows[0].size()));
      t.datatype = "BYTES";
      t.shape = {static_cast<int64_t>(rows.size()), k};
      for (const auto& row : rows)
        for (const auto& p : m.predictions(row, k))
          t.bytes.push_back(kserve::classification_string(p.confidence, p.index, p.label));
    } else {
      t.datatype = "FP32";
      t.shape = out.shape;
      t.shape[0] = static_cast<int64_t>(rows.size());
      for (const auto& row : rows) t.fp32.insert(t.fp32.end(), row.begin(), row.end());
    }
    res.outputs.push_back(std::move(t));
    res.binary.push_back(w.binary_data);
  }
  return res;
}

// Runs on the decode pool (infer_request below): parsing up to a whole body of JSON is work.
void infer(const EndpointContext& ctx, const std::shared_ptr<ServedModel>& m, const http::Request& request,
           const http::Respond& respond, ServedModel::Clock::time_point deadline,
           const std::shared_ptr<RequestStage>& stage) {
  auto header_length = kserve::parse_header_length(request.header("inference-header-content-length"));
  if (!header_length.is_ok()) return respond(http::error_response(400, header_length.status().message()));
  auto req = kserve::parse_infer_request(request.body, *header_length, m->model().engine->max_batch());
  if (!req.is_ok()) return respond(http::error_response(400, req.status().message()));
  if (req->inputs.size() != 1)
    return respond(http::error_response(400, "model '" + m->name() + "' takes exactly 1 input, got " +
                                                 std::to_string(req->inputs.size())));
  for (const auto& o : req->outputs)
    if (o.name != m->model().engine->outputs().at(0).name)
      return respond(http::error_response(400, "model '" + m->name() + "' has no output '" + o.name + "'"));
  const auto& in = req->inputs[0];
  const bool images = in.datatype == "BYTES";
  // At most one batch per request, checked before any decode or inference is queued: one
  // request of 4 M empty BYTES elements fits in a 16 MiB body and used to queue 4 M decode
  // tasks from this I/O thread (issue 13).
  const size_t elements = images ? in.bytes.size() : static_cast<size_t>(in.shape.empty() ? 0 : in.shape[0]);
  const auto max_batch = static_cast<size_t>(m->model().engine->max_batch());
  if (elements > max_batch)
    return respond(http::error_response(400, "input '" + in.name + "' has " + std::to_string(elements) +
                                                 " elements; model '" + m->name() + "' takes at most " +
                                                 std::to_string(max_batch) + " per request (its max batch)"));
  std::vector<std::vector<float>> samples;
  if (!images) {
    auto s = fp32_samples(in, *m);
    if (!s.is_ok()) return respond(http::error_response(400, s.status().message()));
    samples = std::move(s).value();
  }
  const size_t n = images ? in.bytes.size() : samples.size();
  if (n == 0) return respond(http::error_response(400, "input '" + in.name + "' is empty"));
  auto gather = std::make_shared<Gather>();
  gather->rows.resize(n);
  gather->remaining = n;
  gather->done = [m, req = std::move(req).value(), respond](Result<std::vector<std::vector<float>>> rows) {
    if (!rows.is_ok()) return respond(error_for(rows.status()));
    respond(kserve::render_infer_response(result_of(*m, req, *rows)));
  };
  if (!images) stage->set("in the batch queue or on the engine");
  for (size_t i = 0; i < n; ++i) {
    auto put = [gather, i](Result<std::vector<float>> row) { gather->put(i, std::move(row)); };
    if (images) {
      m->classify_raw(*ctx.decoders, in.bytes[i], deadline, put, stage);
    } else {
      m->infer(std::move(samples[i]), deadline, put);
    }
  }
}

// The deadline is checked and guarded here, on the I/O thread; the parse and everything
// after it go to the decode pool, admitted against its bounds (by the body's bytes) like an
// image: one body of millions of JSON elements stalled every client of its I/O thread for
// seconds when it was parsed there (issue 13).
void infer_request(EndpointContext& ctx, std::shared_ptr<ServedModel> m, http::Request request,
                   http::Respond respond) {
  auto deadline = request_deadline(request, ctx.default_timeout_ms);
  if (!deadline.is_ok()) return respond(http::error_response(400, deadline.status().message()));
  auto stage = std::make_shared<RequestStage>();
  stage->set("waiting for its body to be parsed");
  respond = ctx.deadlines->guard(arrival(request), *deadline, stage, std::move(respond));
  const size_t bytes = request.body.size();
  // The task copies the (pointer-only) context: it may run after the handler returned.
  const Status admitted = ctx.decoders->try_submit(
      [c = ctx, m = std::move(m), request = std::move(request), respond, deadline = *deadline, stage] {
        if (ServedModel::Clock::now() > deadline)
          return respond(error_for(deadline_exceeded("deadline exceeded before the request's body was parsed")));
        stage->set("parsing its body");
        infer(c, m, request, respond, deadline, stage);
      },
      bytes);
  if (!admitted.is_ok()) respond(error_for(admitted));
}

void add_model_routes(Router& router, EndpointContext& ctx, const std::string& base) {
  router.add("GET", base, [&ctx](http::Request, PathParams p, http::Respond respond) {
    if (auto m = resolve(ctx, p, respond)) {
      http::Response r;
      r.body = kserve::model_metadata_json(metadata_of(*m));
      respond(std::move(r));
    }
  });
  router.add("GET", base + "/ready", [&ctx](http::Request, PathParams p, http::Respond respond) {
    if (auto m = resolve(ctx, p, respond)) {
      http::Response r;
      r.body = "{\"name\":\"" + m->name() + "\",\"ready\":true}";
      respond(std::move(r));
    }
  });
  router.add("GET", base + "/config", [&ctx](http::Request, PathParams p, http::Respond respond) {
    if (auto m = resolve(ctx, p, respond)) {
      const auto& c = m->model().folder.config;
      http::Response r;
      r.body = "{\"name\":" + json_quote(c.name) + ",\"max_batch_size\":" + std::to_string(m->model().engine->max_batch()) +
               ",\"dynamic_batching\":{\"max_queue_delay_microseconds\":" + std::to_string(c.batching.max_queue_delay_us) +
               "},\"instance_group\":[{\"count\":" + std::to_string(c.instances.count) + ",\"kind\":\"KIND_CPU\"}]}";
      respond(std::move(r));
    }
  });
  router.add("POST", base + "/infer", [&ctx](http::Request request, PathParams p, http::Respond respond) {
    if (auto m = resolve(ctx, p, respond))
      infer_request(ctx, m, std::move(request), counted(ctx, m->name(), std::move(respond)));
  });
}

void add_repository_routes(Router& router, EndpointContext& ctx) {
  for (const char* action : {"load", "unload"}) {
    const std::string verb = action;
    router.add("POST", "/v2/repository/models/{model}/" + verb, [&ctx, verb](http::Request, PathParams p, http::Respond respond) {
      if (!ctx.management_enabled)
        return respond(http::error_response(403, "model management is disabled (start with --enable-management)"));
      // A load builds a plan (seconds for a large model): on the management thread, so the
      // I/O thread that received it goes on serving.
      const Status admitted = ctx.management->try_submit(
          [&ctx, verb, name = p["model"], respond]() {
            const Status s = verb == "load" ? ctx.models->load(name) : ctx.models->unload(name);
            if (!s.is_ok())
              return respond(http::error_response(http_status_for(s) == 503 ? 400 : http_status_for(s), s.message()));
            http::Response r;
            r.body = "{}";
            respond(std::move(r));
          },
          0);
      if (!admitted.is_ok())
        respond(error_for(resource_exhausted("model management is busy: " + std::to_string(ctx.management->pending_tasks()) +
                                             " loads/unloads are queued (retry later)")));
    });
  }
}

}  // namespace

void add_v2_routes(Router& router, EndpointContext& ctx) {
  router.add("GET", "/v2", [](http::Request, PathParams, http::Respond respond) {
    http::Response r;
    r.body = kserve::server_metadata_json(kEngineVersion);
    respond(std::move(r));
  });
  add_model_routes(router, ctx, "/v2/models/{model}");
  add_model_routes(router, ctx, "/v2/models/{model}/versions/{version}");
  add_repository_routes(router, ctx);
}

}  // namespace inferd
