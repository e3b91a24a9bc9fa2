#include "loadgen/load_run.h"

#include <algorithm>
#include <exception>
#include <thread>

#include "loadgen/preflight.h"
#include "loadgen/worker.h"

namespace inferd::loadgen {
namespace {

// Worker w's share of `total` when it is split as evenly as possible over `workers`.
uint64_t share(uint64_t total, int w, int workers) {
  const auto n = static_cast<uint64_t>(workers);
  return total / n + (static_cast<uint64_t>(w) < total % n ? 1 : 0);
}

RunStats run_workers(SharedRun& shared, int workers_count) {
  const LoadSpec& spec = shared.spec;
  std::vector<std::unique_ptr<Worker>> workers;
  for (int w = 0; w < workers_count; ++w) {
    const int connections = static_cast<int>(share(static_cast<uint64_t>(spec.connections), w, workers_count));
    const uint64_t open_loop_requests = spec.rate > 0 ? share(spec.total_requests, w, workers_count) : 0;
    workers.push_back(std::make_unique<Worker>(shared, connections, spec.rate / workers_count, open_loop_requests,
                                               static_cast<double>(w) / workers_count));
  }
  std::vector<std::thread> threads;
  for (int w = 1; w < workers_count; ++w) threads.emplace_back([&, w] { workers[w]->run(); });
  workers[0]->run();
  for (auto& t : threads) t.join();

  RunStats total;
  Clock::time_point last = shared.measure_start;
  for (const auto& w : workers) {
    total.merge(w->stats());
    last = std::max(last, w->last_completion());
  }
  total.duration_s = std::chrono::duration<double>(last - shared.measure_start).count();
  return total;
}

}  // namespace

Status LoadSpec::validate() const {
  if (requests.empty()) return invalid_argument("no request to send");
  if (connections < 1) return invalid_argument("connections must be at least 1, got " + std::to_string(connections));
  if (threads < 1) return invalid_argument("threads must be at least 1, got " + std::to_string(threads));
  if ((total_requests == 0) == (duration.count() == 0))
    return invalid_argument("give exactly one of a request count (-n) and a duration (-z)");
  if (duration.count() < 0 || warmup.count() < 0) return invalid_argument("durations must not be negative");
  if (rate < 0 || rate > 1e7) return invalid_argument("rate must be in 0..10000000 requests/s");
  if (timeout.count() <= 0) return invalid_argument("timeout must be positive");
  if (connect_timeout.count() <= 0) return invalid_argument("connect timeout must be positive");
  return Status::ok();
}

Result<RunStats> run_load(const LoadSpec& spec, LiveCounters* live) {
  RETURN_IF_ERROR(spec.validate());
  ASSIGN_OR_RETURN(auto endpoint, resolve(spec.url));
  RETURN_IF_ERROR(check_connect(spec.url, endpoint, spec.connect_timeout));
  try {
    SharedRun shared{spec, endpoint, {}, {}, {}, {}, live};
    shared.closed_loop_budget.store(static_cast<int64_t>(spec.total_requests));
    shared.start = Clock::now();
    shared.measure_start = shared.start + std::chrono::duration_cast<Clock::duration>(spec.warmup);
    shared.end = spec.total_requests > 0
                     ? Clock::time_point::max()
                     : shared.measure_start + std::chrono::duration_cast<Clock::duration>(spec.duration);
    return run_workers(shared, std::min(spec.threads, spec.connections));
  } catch (const std::exception& e) {
    return internal_error(std::string("load run failed: ") + e.what());
  }
}

}  // namespace inferd::loadgen
