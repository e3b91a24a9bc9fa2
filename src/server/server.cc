#include "server/server.h"

#include <chrono>
#include <limits>
#include <thread>

#include "core/log.h"
#include "server/cached_telemetry.h"

namespace inferd {

Result<std::unique_ptr<Server>> Server::start(const ServerOptions& options) {
  const auto t0 = std::chrono::steady_clock::now();
  std::unique_ptr<Server> s(new Server());
  // Token files first: a typo in a path should not cost a model build to find out.
  ASSIGN_OR_RETURN(s->access_, AccessPolicy::load(options.auth));
  ServeModelOptions model_options;
  model_options.max_instance_bytes = options.max_instance_bytes;
  model_options.load = options.load;
  model_options.load.cache_plans = true;
  model_options.labels = options.labels;
  ASSIGN_OR_RETURN(s->metrics_, ServerMetrics::create(64));
  auto* m = s->metrics_.get();
  model_options.on_batch = [m](const std::string& model, int batch, double queue_ms, double compute_ms,
                                std::span<const BatchStage> stages) {
    m->batch_size->with({model}).observe(batch);
    m->queue_seconds->with({model}).observe(queue_ms / 1000);
    m->compute_seconds->with({model}).observe(compute_ms / 1000);
    for (const BatchStage& stage : stages) m->stage_seconds->with({model, std::string(stage.name)}).observe(stage.ms / 1000);
  };
  model_options.on_decode = [m](double seconds) { m->decode_seconds->with().observe(seconds); };
  s->models_ = std::make_unique<ModelRepository>(options.model_repository, model_options);
  if (!options.model_repository.empty()) {
    RETURN_IF_ERROR(s->models_->load_all());
  } else if (!options.model.empty()) {
    RETURN_IF_ERROR(s->models_->load_path(options.model));
  } else {
    return invalid_argument("serve needs --model-repository DIR or a MODEL");
  }
  const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  const int decode_threads = options.decode_threads > 0 ? options.decode_threads : cores;
  WorkerPool::Limits decode_limits;
  decode_limits.max_tasks =
      static_cast<size_t>(options.max_decode_queue > 0 ? options.max_decode_queue : 32 * decode_threads);
  decode_limits.max_bytes = static_cast<size_t>(std::max<int64_t>(options.max_decode_queue_bytes, 1));
  s->decoders_ = std::make_unique<WorkerPool>(decode_threads, "inferd-decode", decode_limits);
  // One thread: loads and unloads run one at a time, each taking seconds for a large
  // model, while the I/O threads keep answering (health probes included). A few may wait.
  s->drain_timeout_ms_ = options.drain_timeout_ms;
  s->management_ = std::make_unique<WorkerPool>(1, "inferd-manage", WorkerPool::Limits{4, 0});
  s->deadlines_ = std::make_unique<DeadlineTimer>();
  s->ctx_ = {s->models_.get(), s->decoders_.get(),        s->management_.get(),       m,
             &s->ready_,       options.enable_management, options.default_timeout_ms, &s->device_noop_,
             s->deadlines_.get()};
  add_classify_routes(s->router_, s->ctx_);
  add_ops_routes(s->router_, s->ctx_);
  add_v2_routes(s->router_, s->ctx_);
  s->register_model_gauges();
  Server* self = s.get();
  // Tokens are checked on the request head, so an unauthenticated client cannot make the
  // server read (and buffer) a body. Without tokens there is no check (and no copy of the head).
  http::HeadCheck check_token;
  if (s->access_.enabled()) check_token = [self](const http::Request& head) { return self->access_.check(head); };
  HttpServerOptions http_options = options.http;
  // The health probes keep a few connections of their own beyond the limit.
  http_options.reserve_paths = {"/v2/health/live", "/v2/health/ready"};
  http_options.on_answer_written = [m](double answer, double exchange) {
    m->answer_write_seconds->with().observe(answer);
    m->exchange_seconds->with().observe(exchange);
  };
  ASSIGN_OR_RETURN(s->http_, HttpServer::start(
                                 http_options,
                                 [self](http::Request request, http::Respond respond) {
                                   self->router_.dispatch(std::move(request), std::move(respond));
                                 },
                                 std::move(check_token)));
  s->warn_about_exposure(options);
  s->ready_ = true;
  const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  log_info("server_started")
      .kv("host", options.http.host)
      .kv("port", s->http_->port())
      .kv("models", s->models_->models().size())
      .kv("io_threads", options.http.io_threads)
      .kv("decode_threads", options.decode_threads > 0 ? options.decode_threads : cores)
      .kv("auth", s->access_.guards_inference() ? "bearer" : "none")
      .kv("startup_ms", ms);
  return s;
}

void Server::warn_about_exposure(const ServerOptions& options) const {
  if (options.enable_management && options.auth.management_token_file.empty()) {
    log_warn("management_without_token")
        .kv("detail", access_.guards_management()
                          ? "model load/unload accept the inference token; set --management-token-file"
                          : "anyone who can connect may load and unload models; set --management-token-file");
  }
  const std::string& host = options.http.host;
  const bool loopback = host == "127.0.0.1" || host == "::1" || host == "localhost";
  if (!loopback && !access_.guards_inference()) {
    log_warn("listening_without_auth")
        .kv("host", host)
        .kv("detail", "inference endpoints are open to the network; set --auth-token-file and put TLS in front");
  }
}

namespace {

// "cuda:0" of "cuda:0 (NVIDIA H200)".
std::string device_label(const Device& device) {
  const std::string name = device.name();
  return name.substr(0, name.find(' '));
}

}  // namespace

// Each device's gauges read its telemetry at scrape time (once per scrape for the four of
// them: CachedTelemetry); the callbacks hold the backend
// (not the engine, whose weights an unload must free), so a device stays readable after its
// last model is gone. Devices without telemetry (the CPU) get none.
void Server::register_device_gauges(const std::shared_ptr<const Backend>& backend) {
  if (backend->device().telemetry().status().code() == StatusCode::kUnimplemented) return;
  const std::string label = device_label(backend->device());
  using Field = double DeviceTelemetry::*;
  const std::pair<metrics::CallbackGaugeFamily*, Field> gauges[] = {
      {metrics_->gpu_utilization, &DeviceTelemetry::utilization},
      {metrics_->gpu_power, &DeviceTelemetry::power_watts},
      {metrics_->gpu_memory_used, &DeviceTelemetry::memory_used_bytes},
      {metrics_->gpu_memory_total, &DeviceTelemetry::memory_total_bytes}};
  // One reading serves the four gauges of a scrape (they render within microseconds).
  auto telemetry = std::make_shared<CachedTelemetry>([backend] { return backend->device().telemetry(); },
                                                     std::chrono::milliseconds(100));
  for (const auto& [family, field] : gauges) {
    family->set({label}, [telemetry, field = field] {
      auto t = telemetry->get();
      const double v = t.is_ok() ? (*t).*field : -1;
      return v >= 0 ? v : std::numeric_limits<double>::quiet_NaN();  // unreadable: NaN, not a made-up 0
    });
  }
}

void Server::register_model_gauges() {
  for (const auto& model : models_->models()) {
    for (const auto& backend : model->backends()) register_device_gauges(backend);
    ModelRepository* repo = models_.get();
    const std::string name = model->name();
    metrics_->queue_depth->set({name}, [repo, name] {
      auto m = repo->find(name);
      return m ? static_cast<double>(m->stats().queued) : 0.0;
    });
  }
}

Status Server::reload() {
  RETURN_IF_ERROR(models_->reload_all());
  register_model_gauges();
  return Status::ok();
}

void Server::shutdown() {
  if (!http_ || stopped_) return;
  stopped_ = true;
  ready_ = false;
  http_->stop_accepting();
  // Everything already received is served normally (batchers still running) until it
  // is answered and written, for at most the drain time.
  const auto start = std::chrono::steady_clock::now();
  const auto give_up = start + std::chrono::milliseconds(drain_timeout_ms_);
  while (http_->in_flight() > 0 && std::chrono::steady_clock::now() < give_up)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  if (const size_t unanswered = http_->in_flight(); unanswered > 0) {
    // Out of time: whatever is left is answered 503 now, and the work not started yet
    // (images waiting for a decoder) is dropped rather than done for nobody.
    const std::string why = "the server is shutting down: the request could not be served within the " +
                            std::to_string(drain_timeout_ms_) + " ms drain time";
    http_->abandon_unanswered(503, why);
    const size_t dropped = decoders_->discard_queued();
    const size_t unbatched = models_->abandon_queued_all(failed_precondition(why));
    const auto written = std::chrono::steady_clock::now() + std::chrono::seconds(2);
    while (http_->abandoned_unwritten() > 0 && std::chrono::steady_clock::now() < written)
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    log_warn("drain_timed_out")
        .kv("drain_timeout_ms", drain_timeout_ms_)
        .kv("answered_503", unanswered)
        .kv("decodes_dropped", dropped)
        .kv("batch_queue_dropped", unbatched);
  }
  models_->drain_all();
  http_->stop();
  log_info("server_stopped")
      .kv("drain_ms", std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count());
}

Server::~Server() {
  shutdown();
}

}  // namespace inferd
