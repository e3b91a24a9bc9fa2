// One load run of `inferd bench URL`: connections, schedule, measurement.
//
// Closed loop (rate == 0): each of `connections` keeps one request in flight and sends
// the next as soon as the answer arrives; a request's latency runs from its send.
// Open loop (rate > 0): requests are scheduled at a constant rate, independently of the
// answers, and a request's latency runs from its *scheduled* time (as wrk2 does), so a
// server stall shows up in the latency of every request that had to wait for it instead
// of silently lowering the offered load ("coordinated omission", Gil Tene). At most
// `connections` requests are in flight; a due request waits for a free connection.
//
// Threading: run_load blocks. It runs `threads` event loops (one io_context each, the
// calling thread included), every one owning connections/threads of the connections and
// rate/threads of the schedule; they share nothing but a request budget and the live
// counters. `live` may be read from any thread while the run goes on.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "core/status.h"
#include "loadgen/run_stats.h"
#include "loadgen/url.h"

namespace inferd::loadgen {

struct LoadSpec {
  Url url;
  std::vector<std::string> requests;  // whole serialized HTTP requests, sent round-robin
  int connections = 1;
  int threads = 1;                                              // event loops; more than `connections` are not used
  uint64_t total_requests = 0;                                  // measured requests (-n); 0: run for `duration`
  std::chrono::nanoseconds duration{0};                         // measured time (-z), when total_requests is 0
  std::chrono::nanoseconds warmup{0};                           // load before the measurement, not recorded
  double rate = 0;                                              // requests/s over all connections; 0 = closed loop
  std::chrono::nanoseconds timeout = std::chrono::seconds(30);  // per request
  std::chrono::nanoseconds connect_timeout = std::chrono::seconds(5);  // per connection attempt

  Status validate() const;
};

// Progress of a run as it goes (recorded requests only), for a progress line.
struct LiveCounters {
  std::atomic<uint64_t> done{0};
  std::atomic<uint64_t> errors{0};
  // Set from anywhere (a SIGINT handler too: the store is lock-free) to end the run early:
  // no request starts after the workers see it (within 100 ms), the ones in flight
  // finish, and run_load returns what was measured.
  std::atomic<bool> stop{false};
};

// Resolves the host and opens one connection first, so an unreachable server is one
// clear error ("cannot connect to 127.0.0.1:9: Connection refused") rather than a run
// of connect errors; then runs the load. Errors during the run are counted, not returned.
Result<RunStats> run_load(const LoadSpec& spec, LiveCounters* live = nullptr);

}  // namespace inferd::loadgen
