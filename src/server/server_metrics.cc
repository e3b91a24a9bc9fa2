#include "server/server_metrics.h"

namespace inferd {

Result<std::unique_ptr<ServerMetrics>> ServerMetrics::create(int max_batch_bucket) {
  auto m = std::make_unique<ServerMetrics>();
  auto& r = m->registry;
  const auto latency = metrics::exponential_bounds(0.0005, 2, 16);  // 0.5 ms .. 16 s
  ASSIGN_OR_RETURN(m->requests, r.add_counter("inferd_requests_total", "Requests answered, by model and HTTP status.",
                                              {"model", "code"}));
  ASSIGN_OR_RETURN(m->request_seconds,
                   r.add_histogram("inferd_request_duration_seconds",
                                   "Time from a request's arrival to its answer.", {"model"}, latency));
  ASSIGN_OR_RETURN(m->queue_seconds, r.add_histogram("inferd_queue_duration_seconds",
                                                     "Time the oldest request of a batch waited in the queue.",
                                                     {"model"}, latency));
  ASSIGN_OR_RETURN(m->compute_seconds, r.add_histogram("inferd_compute_duration_seconds",
                                                       "Engine execution time per batch.", {"model"}, latency));
  ASSIGN_OR_RETURN(m->stage_seconds,
                   r.add_histogram("inferd_batch_stage_duration_seconds",
                                   "Per batch, each part of its execution on the device's clock (instances that "
                                   "decode images on a GPU: h2d, device_decode, compute).",
                                   {"model", "stage"}, metrics::exponential_bounds(0.00005, 2, 20)));
  ASSIGN_OR_RETURN(m->batch_size, r.add_histogram("inferd_batch_size", "Requests per executed batch.", {"model"},
                                                  metrics::linear_bounds(1, 1, std::max(1, max_batch_bucket))));
  ASSIGN_OR_RETURN(m->decode_seconds, r.add_histogram("inferd_image_decode_duration_seconds",
                                                      "Image decode and preprocessing time.", {}, latency));
  ASSIGN_OR_RETURN(m->answer_write_seconds,
                   r.add_histogram("inferd_answer_write_duration_seconds",
                                   "Time from a handler's answer to its last byte handed to the socket: the hop to "
                                   "the connection's I/O thread, earlier pipelined answers, the write.",
                                   {}, metrics::exponential_bounds(0.00001, 2, 20)));
  ASSIGN_OR_RETURN(m->exchange_seconds,
                   r.add_histogram("inferd_exchange_duration_seconds",
                                   "The server's side of a handled request: from its head parsed to its answer's last "
                                   "byte handed to the socket (body read, handler, answer, write; not the client or "
                                   "the network).",
                                   {}, metrics::exponential_bounds(0.00001, 2, 24)));
  ASSIGN_OR_RETURN(m->in_flight, r.add_gauge("inferd_inflight_requests", "Requests received and not yet answered."));
  ASSIGN_OR_RETURN(m->queue_depth,
                   r.add_callback_gauge("inferd_queue_depth", "Requests waiting for a batch.", {"model"}));
  ASSIGN_OR_RETURN(m->gpu_utilization,
                   r.add_callback_gauge("inferd_gpu_utilization_ratio",
                                        "Fraction of the driver's last sample period in which a kernel ran.", {"device"}));
  ASSIGN_OR_RETURN(m->gpu_power, r.add_callback_gauge("inferd_gpu_power_watts", "Board power draw.", {"device"}));
  ASSIGN_OR_RETURN(m->gpu_memory_used,
                   r.add_callback_gauge("inferd_gpu_memory_used_bytes", "Device memory in use (all processes).", {"device"}));
  ASSIGN_OR_RETURN(m->gpu_memory_total,
                   r.add_callback_gauge("inferd_gpu_memory_total_bytes", "Device memory.", {"device"}));
  RETURN_IF_ERROR(metrics::add_process_metrics(r));
  return m;
}

void ServerMetrics::count_request(const std::string& model, int status, double seconds) {
  requests->with({model, std::to_string(status)}).inc();
  if (status < 400) request_seconds->with({model}).observe(seconds);
}

}  // namespace inferd
