// The server's Prometheus metrics, registered once (names in one place).
#pragma once

#include <memory>
#include <string>

#include "server/metrics.h"

namespace inferd {

struct ServerMetrics {
  metrics::Registry registry;
  metrics::CounterFamily* requests = nullptr;         // inferd_requests_total{model,code}
  metrics::HistogramFamily* request_seconds = nullptr;  // inferd_request_duration_seconds{model}
  metrics::HistogramFamily* queue_seconds = nullptr;    // inferd_queue_duration_seconds{model}
  metrics::HistogramFamily* compute_seconds = nullptr;  // inferd_compute_duration_seconds{model}
  metrics::HistogramFamily* stage_seconds = nullptr;    // inferd_batch_stage_duration_seconds{model,stage}
  metrics::HistogramFamily* batch_size = nullptr;       // inferd_batch_size{model}
  metrics::HistogramFamily* decode_seconds = nullptr;   // inferd_image_decode_duration_seconds
  metrics::HistogramFamily* answer_write_seconds = nullptr;  // inferd_answer_write_duration_seconds
  metrics::HistogramFamily* exchange_seconds = nullptr;      // inferd_exchange_duration_seconds
  metrics::GaugeFamily* in_flight = nullptr;            // inferd_inflight_requests
  metrics::CallbackGaugeFamily* queue_depth = nullptr;  // inferd_queue_depth{model}
  // Per GPU the served models run on (Device::telemetry()), labelled device="cuda:0".
  metrics::CallbackGaugeFamily* gpu_utilization = nullptr;   // inferd_gpu_utilization_ratio{device}
  metrics::CallbackGaugeFamily* gpu_power = nullptr;         // inferd_gpu_power_watts{device}
  metrics::CallbackGaugeFamily* gpu_memory_used = nullptr;   // inferd_gpu_memory_used_bytes{device}
  metrics::CallbackGaugeFamily* gpu_memory_total = nullptr;  // inferd_gpu_memory_total_bytes{device}

  // Registers every family; fails only on a bug (bad metric name).
  static Result<std::unique_ptr<ServerMetrics>> create(int max_batch_bucket);
  void count_request(const std::string& model, int status, double seconds);
};

}  // namespace inferd
