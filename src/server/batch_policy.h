// When to run a batch: the dynamic batcher's rules as a pure function of the queue and
// the time (a pure class with an injected clock, so that its tests control time).
// BatchPolicy owns no thread, no clock and no request: the Batcher (batcher.h) asks it
// what to do, passing `now`, and does it. Tests drive it with made-up time points.
//
// The rules, applied in this order by decide() (n = live requests, see 1):
//   1. Expiry. A request whose deadline is <= now is expired: its deadline passed before
//      it could run. decide() lists it in Decision::expired (the caller answers it with
//      "deadline exceeded" and removes it) and every other rule ignores it. A deadline of
//      time_point::max() never expires.
//   2. Nothing to do. n == 0 -> wait for a new request (wake_at = time_point::max()).
//   3. No idle instance. idle_instances == 0 -> wait: the instance that finishes asks again.
//   4. Full batch. n >= max_batch -> run max_batch now.
//   5. Flush. QueueState::flush (the batcher is draining) -> run all n now: nothing more
//      is coming, waiting would only delay shutdown.
//   6. Largest preferred size reached. n >= the largest preferred size -> run that size
//      now (as Triton does: preferred sizes are the batches worth waiting for; once the
//      largest one is there, waiting longer cannot give a preferred batch that is larger).
//   7. Deadline before the timer. A live request's deadline comes before the oldest live
//      request's delay ends -> run all n now (preferred sizes aside, so that the urgent
//      request, wherever it is in the queue, is in the batch): an instance is idle, and
//      waiting would let that request expire for nothing.
//   8. Delay over. The oldest live request waited >= max_queue_delay_us -> run: the
//      largest preferred size <= n if any, else all n. With max_queue_delay_us == 0 this
//      rule always holds: any queued request runs as soon as an instance is idle.
//   9. Otherwise wait until the oldest live request's delay ends (wake_at).
// admit() is the one rule applied at submit time: the queue holds at most max_queue
// waiting requests (running ones do not count); the server answers 503 + Retry-After.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <span>
#include <utility>
#include <vector>

#include "core/status.h"

namespace inferd {

using BatchClock = std::chrono::steady_clock;
using BatchTime = BatchClock::time_point;

struct BatchPolicyOptions {
  int max_batch = 32;                   // largest batch an instance runs (>= 1)
  int64_t max_queue_delay_us = 0;       // how long the oldest request may wait for company (>= 0)
  std::vector<int> preferred_batch;     // each in 1..max_batch, any order; empty = any size
  int max_queue = 1024;                 // waiting requests admitted (>= 1)
};

// Checks the options; the message names the config key ("batching.preferred_batch: 64 is
// larger than max_batch 32").
Status validate(const BatchPolicyOptions& options);

// What the policy needs to know about one queued request.
struct QueuedRequest {
  BatchTime enqueued;
  BatchTime deadline = BatchTime::max();  // max() = no deadline
};

struct QueueState {
  std::span<const QueuedRequest> requests;  // in arrival order: front = oldest
  int idle_instances = 1;                   // instances that could start a batch now
  bool flush = false;                       // draining: no new request will arrive
};

class BatchPolicy {
 public:
  struct Decision {
    enum class Kind { kWait, kRun };
    Kind kind = Kind::kWait;
    // kWait: when to ask again (time_point::max() = only when something changes: a new
    // request, an instance becoming idle).
    BatchTime wake_at = BatchTime::max();
    // kRun: how many requests to take from the front of the queue once the expired
    // ones are removed (1..max_batch).
    int take = 0;
    // Both kinds: indices into QueueState::requests, ascending, of the expired requests.
    std::vector<size_t> expired;
  };

  // Fails when validate(options) does; sorts and de-duplicates preferred_batch.
  static Result<BatchPolicy> create(BatchPolicyOptions options);

  Decision decide(const QueueState& state, BatchTime now) const;

  // Whether one more request fits in a queue that holds `queue_size` waiting requests.
  bool admit(size_t queue_size) const { return queue_size < static_cast<size_t>(options_.max_queue); }

  const BatchPolicyOptions& options() const { return options_; }

 private:
  explicit BatchPolicy(BatchPolicyOptions options) : options_(std::move(options)) {}
  // Rule 8's batch size: the largest preferred size <= live, else live (capped at max_batch).
  int size_at_timeout(int live) const;

  BatchPolicyOptions options_;
};

}  // namespace inferd
