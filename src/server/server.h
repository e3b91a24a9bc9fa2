// `inferd serve`: the HTTP server, the model repository and the endpoint groups wired
// together. A thin adapter over the engine's public API (docs/architecture.md).
//
// Threading: start() and shutdown() from one controlling thread (main); reload() may
// be called from any thread. Requests are served on the HTTP server's I/O threads,
// the decode pool and the batchers' workers.
#pragma once

#include <atomic>
#include <memory>
#include <string>

#include "server/auth.h"
#include "server/endpoint_context.h"
#include "server/http/http_server.h"

namespace inferd {

struct ServerOptions {
  HttpServerOptions http;
  std::string model_repository;  // a folder of model folders, or
  std::string model;             // one model folder or file (the short form)
  std::string labels;            // labels for a model file
  int decode_threads = 0;        // 0 = cores
  // Images admitted but not yet decoded, and their bytes: over either, 503 + Retry-After.
  // 0 images = 32 per decode thread.
  int max_decode_queue = 0;
  int64_t max_decode_queue_bytes = int64_t{256} << 20;
  // SIGTERM: requests in flight are served for at most this long, then answered 503.
  int drain_timeout_ms = 30000;
  LoadOptions load;
  bool enable_management = false;  // POST /v2/repository/models/{name}/load|unload
  int default_timeout_ms = 0;      // per-request deadline when the client sends none (0 = none)
  AuthOptions auth;                // bearer tokens (server/auth.h); none by default
  // A model whose instance needs more activation memory than this is refused at load.
  int64_t max_instance_bytes = ServeModelOptions().max_instance_bytes;
};

class Server {
 public:
  static Result<std::unique_ptr<Server>> start(const ServerOptions& options);
  ~Server();

  int port() const { return http_->port(); }
  size_t open_connections() const { return http_->open_connections(); }
  // SIGHUP: rebuilds every model from its files; requests keep flowing.
  Status reload();
  // SIGTERM: stop accepting, answer everything queued and in flight, close.
  void shutdown();

 private:
  Server() = default;
  void register_model_gauges();
  void register_device_gauges(const std::shared_ptr<const Backend>& backend);
  void warn_about_exposure(const ServerOptions& options) const;

  std::unique_ptr<ServerMetrics> metrics_;
  // Declared before models_ so that it outlives the models' batchers: a JPEG the GPU cannot
  // decode goes back to these threads from a batcher worker.
  std::unique_ptr<WorkerPool> decoders_;
  std::unique_ptr<ModelRepository> models_;
  std::unique_ptr<WorkerPool> management_;  // model load/unload, off the I/O threads
  std::unique_ptr<DeadlineTimer> deadlines_;
  DeviceNoop device_noop_;
  std::atomic<bool> ready_{false};
  bool stopped_ = false;
  int drain_timeout_ms_ = 30000;
  AccessPolicy access_;
  EndpointContext ctx_;
  Router router_;
  std::unique_ptr<HttpServer> http_;
};

}  // namespace inferd
