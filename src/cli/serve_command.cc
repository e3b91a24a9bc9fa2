// `inferd serve (--model-repository DIR | MODEL) [--host 127.0.0.1] [--port 8000] ...`
// SIGTERM/SIGINT: graceful drain, exit 0. SIGHUP: reload every model from its files.
#include <sys/resource.h>

#include <csignal>
#include <iostream>

#include "cli/args.h"
#include "cli/commands.h"
#include "core/log.h"
#include "server/server.h"

namespace inferd::cli {
namespace {

Result<ServerOptions> server_options(const Args& args) {
  ServerOptions o;
  o.model_repository = args.get("model-repository");
  o.model = args.get("model");
  if (!args.positional().empty()) {
    if (!o.model.empty() || args.positional().size() > 1) return invalid_argument("serve takes one MODEL");
    o.model = args.positional()[0];
  }
  if (o.model_repository.empty() == o.model.empty())
    return invalid_argument("serve needs exactly one of --model-repository DIR or a MODEL");
  o.labels = args.get("labels");
  o.http.host = args.get("host");
  ASSIGN_OR_RETURN(o.http.port, args.get_int("port", 0, 65535));
  ASSIGN_OR_RETURN(o.http.io_threads, args.get_int("io-threads", 1, 256));
  ASSIGN_OR_RETURN(o.decode_threads, args.get_int("decode-threads", 0, 256));
  ASSIGN_OR_RETURN(o.max_decode_queue, args.get_int("max-decode-queue", 0, 1000000));
  ASSIGN_OR_RETURN(int decode_queue_mib, args.get_int("max-decode-queue-mib", 1, 1 << 20));
  o.max_decode_queue_bytes = int64_t{decode_queue_mib} << 20;
  ASSIGN_OR_RETURN(o.load.threads, args.get_int("threads", 0, 1024));
  ASSIGN_OR_RETURN(int max_nodes, args.get_int("max-nodes", 0, 1 << 30));
  o.load.max_nodes = static_cast<size_t>(max_nodes);
  ASSIGN_OR_RETURN(o.load.gpu, args.get_int("gpu", 0, 1024));
  o.load.gpus = args.get("gpus");
  o.load.backend = args.get("backend");
  o.load.precision = args.get("precision");
  ASSIGN_OR_RETURN(int max_body_mib, args.get_int("max-body-mib", 1, 1024));
  o.http.max_body_bytes = static_cast<size_t>(max_body_mib) << 20;
  ASSIGN_OR_RETURN(o.http.max_connections, args.get_int("max-connections", 1, 1000000));
  ASSIGN_OR_RETURN(o.default_timeout_ms, args.get_int("request-timeout-ms", 0, 3600000));
  ASSIGN_OR_RETURN(int drain_s, args.get_int("drain-timeout-s", 0, 3600));
  o.drain_timeout_ms = drain_s * 1000;
  o.enable_management = args.on("enable-management");
  o.auth.token_file = args.get("auth-token-file");
  o.auth.management_token_file = args.get("management-token-file");
  o.auth.metrics_auth = args.on("metrics-auth");
  ASSIGN_OR_RETURN(int instance_mib, args.get_int("max-instance-memory-mib", 0, 1 << 20));
  o.max_instance_bytes = int64_t{instance_mib} << 20;
  return o;
}

void print_config(const ServerOptions& o) {
  log_info("config")
      .kv("model_repository", o.model_repository)
      .kv("model", o.model)
      .kv("host", o.http.host)
      .kv("port", o.http.port)
      .kv("io_threads", o.http.io_threads)
      .kv("decode_threads", o.decode_threads)
      .kv("max_decode_queue", o.max_decode_queue)
      .kv("max_decode_queue_bytes", o.max_decode_queue_bytes)
      .kv("max_body_bytes", o.http.max_body_bytes)
      .kv("max_connections", o.http.max_connections)
      .kv("request_timeout_ms", o.default_timeout_ms)
      .kv("drain_timeout_ms", o.drain_timeout_ms)
      .kv("management", o.enable_management)
      .kv("auth_token_file", o.auth.token_file)
      .kv("management_token_file", o.auth.management_token_file)
      .kv("metrics_auth", o.auth.metrics_auth)
      .kv("max_instance_bytes", o.max_instance_bytes);
}

// Every connection holds a descriptor, and so do model files, plans, logs and the event
// machinery. Under the common soft limit of 1024 descriptors, new connections failed
// before the 1024-connection limit was reached (accept: EMFILE) and health probes got no
// answer. Raise the soft limit to the hard one, and size the connection limit (plus the
// health probes' reserve) to what is left after a margin for everything else.
void fit_connections_to_descriptors(ServerOptions& o) {
  constexpr rlim_t kOtherDescriptors = 128;
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return;
  if (limit.rlim_cur < limit.rlim_max) {
    rlimit raised = limit;
    raised.rlim_cur = limit.rlim_max == RLIM_INFINITY ? rlim_t{1} << 20 : limit.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &raised) == 0) limit = raised;
  }
  const rlim_t reserve = static_cast<rlim_t>(o.http.reserve_connections);
  const rlim_t wanted = static_cast<rlim_t>(o.http.max_connections) + reserve + kOtherDescriptors;
  if (limit.rlim_cur >= wanted) return;
  const rlim_t room =
      limit.rlim_cur > reserve + kOtherDescriptors + 1 ? limit.rlim_cur - reserve - kOtherDescriptors : 1;
  log_warn("connections_capped_by_descriptors")
      .kv("max_connections", o.http.max_connections)
      .kv("now", static_cast<int64_t>(room))
      .kv("descriptor_limit", static_cast<int64_t>(limit.rlim_cur))
      .kv("fix", "raise the hard limit (ulimit -Hn, LimitNOFILE=) or lower --max-connections");
  o.http.max_connections = static_cast<int>(room);
}

// Waits for a signal on this thread (the others have them blocked).
int wait_for_signals(Server& server) {
  sigset_t set;
  sigemptyset(&set);
  for (int s : {SIGTERM, SIGINT, SIGHUP}) sigaddset(&set, s);
  for (;;) {
    int sig = 0;
    if (sigwait(&set, &sig) != 0) return 1;
    if (sig == SIGHUP) {
      log_info("reload_requested");
      if (Status s = server.reload(); !s.is_ok()) log_error("reload_failed").kv("error", s.message());
      continue;
    }
    log_info("shutdown_requested").kv("signal", sig == SIGTERM ? "SIGTERM" : "SIGINT");
    server.shutdown();
    return 0;
  }
}

}  // namespace

int serve_command(const Argv& argv) {
  Args args;
  args.flag("model-repository", "folder of model folders", "");
  args.flag("model", "one model folder or file (same as the MODEL argument)", "");
  args.flag("labels", "labels file when MODEL is a model file", "");
  args.flag("host", "address to listen on", "127.0.0.1");
  args.flag("port", "TCP port (0 = any free port)", "8000");
  args.flag("io-threads", "HTTP I/O threads", "2");
  args.flag("decode-threads", "image decode threads (0 = cores)", "0");
  args.flag("max-decode-queue", "images admitted but not yet decoded, at most (0 = 32 per decode thread)", "0");
  args.flag("max-decode-queue-mib", "bytes of images admitted but not yet decoded, at most", "256");
  args.flag("threads", "engine threads per instance (0 = cores)", "0");
  args.flag("max-nodes", "refuse models with more nodes (0 = no limit)",
            std::to_string(BuildOptions::kDefaultMaxNodes));
  args.flag("backend", "cpu | cuda | auto, for every model (default: each model's config.toml)", "");
  args.flag("precision", "fp32 | tf32 | fp16 | bf16, for every model (default: each config.toml)", "");
  args.flag("gpu", "the GPU models run on with the cuda backend", "0");
  args.flag("gpus",
            "the GPUs every cuda model's instances run on: all, or 0,1 (default: each config.toml's, else --gpu)", "");
  args.flag("max-body-mib", "largest request body", "16");
  args.flag("max-connections", "open connections at most", "1024");
  args.flag("request-timeout-ms", "deadline for requests without X-Request-Timeout-Ms (0 = none)", "0");
  args.flag("drain-timeout-s", "on SIGTERM, serve what is in flight this long, then answer it 503", "30");
  args.toggle("enable-management", "allow POST /v2/repository/models/{name}/load|unload");
  args.flag("auth-token-file", "file holding the bearer token for inference and metadata endpoints", "");
  args.flag("management-token-file", "file holding the bearer token for model load/unload", "");
  args.toggle("metrics-auth", "GET /metrics needs the --auth-token-file token too");
  args.flag("max-instance-memory-mib", "refuse models needing more activation memory per instance (0 = no limit)",
            "4096");
  args.toggle("quiet", "log warnings and errors only");
  args.toggle("help", "show this help");
  const char* usage = "inferd serve (--model-repository DIR | [--model] MODEL [--labels FILE]) [options]";
  if (Status s = args.parse(argv); !s.is_ok()) return fail(s.message() + "\n" + args.help(usage), 2);
  if (args.on("help")) return std::cout << args.help(usage), 0;
  auto options = server_options(args);
  if (!options.is_ok()) return fail(options.status().message() + "\n" + args.help(usage), 2);
  set_log_level(args.on("quiet") ? LogLevel::kWarn : LogLevel::kInfo);
  fit_connections_to_descriptors(*options);
  print_config(*options);

  // Block the signals in every thread the server starts; only wait_for_signals takes them.
  sigset_t set;
  sigemptyset(&set);
  for (int s : {SIGTERM, SIGINT, SIGHUP}) sigaddset(&set, s);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  std::signal(SIGPIPE, SIG_IGN);

  auto server = Server::start(*options);
  if (!server.is_ok()) return fail(server.status().message());
  std::cout << "serving on http://" << options->http.host << ":" << (*server)->port() << std::endl;
  return wait_for_signals(**server);
}

}  // namespace inferd::cli
