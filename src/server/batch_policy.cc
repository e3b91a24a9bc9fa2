#include "server/batch_policy.h"

#include <algorithm>
#include <string>
#include <utility>

namespace inferd {

Status validate(const BatchPolicyOptions& options) {
  if (options.max_batch < 1) {
    return invalid_argument("max_batch: " + std::to_string(options.max_batch) + " is not a batch size (must be >= 1)");
  }
  if (options.max_queue_delay_us < 0) {
    return invalid_argument("batching.max_queue_delay_us: " + std::to_string(options.max_queue_delay_us) +
                            " is negative (0 = run as soon as an instance is idle)");
  }
  for (int size : options.preferred_batch) {
    if (size < 1) {
      return invalid_argument("batching.preferred_batch: " + std::to_string(size) +
                              " is not a batch size (must be >= 1)");
    }
    if (size > options.max_batch) {
      return invalid_argument("batching.preferred_batch: " + std::to_string(size) + " is larger than max_batch " +
                              std::to_string(options.max_batch));
    }
  }
  if (options.max_queue < 1) {
    return invalid_argument("batching.max_queue: " + std::to_string(options.max_queue) +
                            " admits no request (must be >= 1)");
  }
  return Status::ok();
}

Result<BatchPolicy> BatchPolicy::create(BatchPolicyOptions options) {
  RETURN_IF_ERROR(validate(options));
  auto& preferred = options.preferred_batch;
  std::sort(preferred.begin(), preferred.end());
  preferred.erase(std::unique(preferred.begin(), preferred.end()), preferred.end());
  return BatchPolicy(std::move(options));
}

int BatchPolicy::size_at_timeout(int live) const {
  const auto& preferred = options_.preferred_batch;
  // First preferred size > live; the one before it is the largest that fits.
  auto above = std::upper_bound(preferred.begin(), preferred.end(), live);
  if (above != preferred.begin()) return *(above - 1);
  return std::min(live, options_.max_batch);
}

BatchPolicy::Decision BatchPolicy::decide(const QueueState& state, BatchTime now) const {
  Decision decision;
  // Rule 1: expiry; find the live requests' count, oldest arrival and earliest deadline.
  int live = 0;
  BatchTime oldest = BatchTime::max();
  BatchTime earliest_deadline = BatchTime::max();
  for (size_t i = 0; i < state.requests.size(); ++i) {
    const QueuedRequest& request = state.requests[i];
    if (request.deadline != BatchTime::max() && request.deadline <= now) {
      decision.expired.push_back(i);
      continue;
    }
    if (live == 0) oldest = request.enqueued;
    earliest_deadline = std::min(earliest_deadline, request.deadline);
    ++live;
  }
  auto run = [&decision](int take) {
    decision.kind = Decision::Kind::kRun;
    decision.take = take;
    return std::move(decision);
  };
  if (live == 0 || state.idle_instances <= 0) return decision;  // rules 2, 3
  if (live >= options_.max_batch) return run(options_.max_batch);  // rule 4
  if (state.flush) return run(live);                                // rule 5
  const auto& preferred = options_.preferred_batch;
  if (!preferred.empty() && live >= preferred.back()) return run(preferred.back());  // rule 6
  const BatchTime timer = oldest + std::chrono::microseconds(options_.max_queue_delay_us);
  if (earliest_deadline < timer) return run(live);                   // rule 7
  if (now >= timer) return run(size_at_timeout(live));               // rule 8
  decision.wake_at = timer;                                          // rule 9
  return decision;
}

}  // namespace inferd
