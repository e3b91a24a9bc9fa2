// BatchPolicy without threads or clocks: time points are made up, the queue is a vector.
#include "server/batch_policy.h"

#include <gtest/gtest.h>

#include <vector>

namespace inferd {
namespace {

using std::chrono::microseconds;
using std::chrono::milliseconds;
using Kind = BatchPolicy::Decision::Kind;

// A fake clock: an arbitrary origin, advanced by hand.
const BatchTime kT0 = BatchTime{} + std::chrono::hours(1);

BatchPolicy make_policy(int max_batch, int64_t delay_us, std::vector<int> preferred = {}, int max_queue = 1024) {
  BatchPolicyOptions options;
  options.max_batch = max_batch;
  options.max_queue_delay_us = delay_us;
  options.preferred_batch = std::move(preferred);
  options.max_queue = max_queue;
  auto policy = BatchPolicy::create(options);
  EXPECT_TRUE(policy.is_ok()) << policy.status().message();
  return std::move(policy).value();
}

// `count` requests arriving 100 us apart from `first`, no deadlines.
std::vector<QueuedRequest> arrivals(int count, BatchTime first = kT0) {
  std::vector<QueuedRequest> queue;
  for (int i = 0; i < count; ++i) queue.push_back({first + microseconds(100 * i), BatchTime::max()});
  return queue;
}

BatchPolicy::Decision decide(const BatchPolicy& policy, const std::vector<QueuedRequest>& queue, BatchTime now,
                             int idle = 1, bool flush = false) {
  return policy.decide(QueueState{queue, idle, flush}, now);
}

TEST(BatchPolicy, EmptyQueueWaitsForARequest) {
  auto d = decide(make_policy(8, 2000), {}, kT0);
  EXPECT_EQ(d.kind, Kind::kWait);
  EXPECT_EQ(d.wake_at, BatchTime::max());
  EXPECT_TRUE(d.expired.empty());
}

TEST(BatchPolicy, FullBatchRunsAtOnce) {
  const BatchPolicy policy = make_policy(4, 2000);
  auto exactly = decide(policy, arrivals(4), kT0 + microseconds(300));
  EXPECT_EQ(exactly.kind, Kind::kRun);
  EXPECT_EQ(exactly.take, 4);
  auto more = decide(policy, arrivals(11), kT0 + microseconds(1000));
  EXPECT_EQ(more.kind, Kind::kRun);
  EXPECT_EQ(more.take, 4);  // never more than max_batch
}

TEST(BatchPolicy, WaitsForTheOldestRequestsDelayThenRunsWhatIsThere) {
  const BatchPolicy policy = make_policy(8, 2000);
  const auto queue = arrivals(3);
  auto early = decide(policy, queue, kT0 + microseconds(500));
  EXPECT_EQ(early.kind, Kind::kWait);
  EXPECT_EQ(early.wake_at, kT0 + microseconds(2000));  // the oldest's delay, not the newest's
  auto just_before = decide(policy, queue, kT0 + microseconds(1999));
  EXPECT_EQ(just_before.kind, Kind::kWait);
  auto due = decide(policy, queue, kT0 + microseconds(2000));
  EXPECT_EQ(due.kind, Kind::kRun);
  EXPECT_EQ(due.take, 3);
}

TEST(BatchPolicy, ZeroDelayRunsAsSoonAsAnInstanceIsIdle) {
  const BatchPolicy policy = make_policy(8, 0);
  auto d = decide(policy, arrivals(1), kT0);
  EXPECT_EQ(d.kind, Kind::kRun);
  EXPECT_EQ(d.take, 1);
  auto busy = decide(policy, arrivals(1), kT0, /*idle=*/0);
  EXPECT_EQ(busy.kind, Kind::kWait);
  EXPECT_EQ(busy.wake_at, BatchTime::max());  // the instance that finishes asks again
}

TEST(BatchPolicy, NoIdleInstanceWaitsEvenWithAFullBatch) {
  auto d = decide(make_policy(2, 2000), arrivals(5), kT0 + milliseconds(10), /*idle=*/0);
  EXPECT_EQ(d.kind, Kind::kWait);
  EXPECT_EQ(d.wake_at, BatchTime::max());
}

TEST(BatchPolicy, FlushRunsEverythingWithoutWaiting) {
  const BatchPolicy policy = make_policy(8, 1'000'000, {4});
  auto d = decide(policy, arrivals(3), kT0, 1, /*flush=*/true);
  EXPECT_EQ(d.kind, Kind::kRun);
  EXPECT_EQ(d.take, 3);  // preferred sizes do not hold the last requests back
  auto many = decide(policy, arrivals(20), kT0, 1, /*flush=*/true);
  EXPECT_EQ(many.take, 8);
}

TEST(BatchPolicy, TimeoutTakesTheLargestPreferredSizeThatFits) {
  const BatchPolicy policy = make_policy(16, 2000, {2, 4, 8});
  const BatchTime due = kT0 + milliseconds(5);
  EXPECT_EQ(decide(policy, arrivals(5), due).take, 4);
  EXPECT_EQ(decide(policy, arrivals(7), due).take, 4);
  EXPECT_EQ(decide(policy, arrivals(2), due).take, 2);
  EXPECT_EQ(decide(policy, arrivals(3), due).take, 2);
  // No preferred size fits: run them all rather than leave them waiting.
  auto single = decide(policy, arrivals(1), due);
  EXPECT_EQ(single.kind, Kind::kRun);
  EXPECT_EQ(single.take, 1);
}

TEST(BatchPolicy, ReachingTheLargestPreferredSizeRunsBeforeTheDelay) {
  const BatchPolicy policy = make_policy(16, 1'000'000, {8, 2, 4});  // any order in the options
  EXPECT_EQ(policy.options().preferred_batch, (std::vector<int>{2, 4, 8}));
  auto below = decide(policy, arrivals(7), kT0 + milliseconds(1));
  EXPECT_EQ(below.kind, Kind::kWait);
  EXPECT_EQ(below.wake_at, kT0 + std::chrono::seconds(1));
  auto reached = decide(policy, arrivals(9), kT0 + milliseconds(1));
  EXPECT_EQ(reached.kind, Kind::kRun);
  EXPECT_EQ(reached.take, 8);
}

TEST(BatchPolicy, AdmitsUpToMaxQueue) {
  const BatchPolicy policy = make_policy(8, 2000, {}, /*max_queue=*/3);
  EXPECT_TRUE(policy.admit(0));
  EXPECT_TRUE(policy.admit(2));
  EXPECT_FALSE(policy.admit(3));
  EXPECT_FALSE(policy.admit(100));
}

TEST(BatchPolicy, ExpiredRequestsAreDroppedAndIgnored) {
  const BatchPolicy policy = make_policy(8, 2000);
  auto queue = arrivals(4);
  queue[0].deadline = kT0 + microseconds(400);  // expired at now
  queue[2].deadline = kT0 + microseconds(500);  // expires exactly now: counts as expired
  queue[3].deadline = kT0 + milliseconds(50);   // still alive
  const BatchTime now = kT0 + microseconds(500);
  auto d = decide(policy, queue, now);
  EXPECT_EQ(d.expired, (std::vector<size_t>{0, 2}));
  EXPECT_EQ(d.kind, Kind::kWait);
  // The oldest live request (index 1, arrived at +100 us) sets the timer.
  EXPECT_EQ(d.wake_at, kT0 + microseconds(2100));
  auto due = decide(policy, queue, kT0 + microseconds(2100));
  EXPECT_EQ(due.kind, Kind::kRun);
  EXPECT_EQ(due.take, 2);  // the live ones only
  EXPECT_EQ(due.expired, (std::vector<size_t>{0, 2}));
}

TEST(BatchPolicy, ExpiredOnlyQueueWaitsAfterDroppingThem) {
  auto queue = arrivals(2);
  queue[0].deadline = kT0;
  queue[1].deadline = kT0 + microseconds(150);
  auto d = decide(make_policy(8, 2000), queue, kT0 + milliseconds(1));
  EXPECT_EQ(d.expired, (std::vector<size_t>{0, 1}));
  EXPECT_EQ(d.kind, Kind::kWait);
  EXPECT_EQ(d.wake_at, BatchTime::max());
}

TEST(BatchPolicy, ExpiredRequestsDoNotCountTowardsAFullBatch) {
  auto queue = arrivals(4);
  queue[1].deadline = kT0;
  auto d = decide(make_policy(4, 2000), queue, kT0 + microseconds(400));
  EXPECT_EQ(d.kind, Kind::kWait);
  EXPECT_EQ(d.expired, (std::vector<size_t>{1}));
}

TEST(BatchPolicy, DeadlineBeforeTheTimerRunsEverythingNow) {
  const BatchPolicy policy = make_policy(16, 2000, {4, 8});
  auto queue = arrivals(6);
  queue[5].deadline = kT0 + microseconds(1500);  // the newest, before the oldest's timer at 2000
  auto d = decide(policy, queue, kT0 + microseconds(600));
  EXPECT_EQ(d.kind, Kind::kRun);
  EXPECT_EQ(d.take, 6);  // all of them, so the urgent one is in the batch
  queue[5].deadline = kT0 + microseconds(2500);  // after the timer: nothing urgent
  EXPECT_EQ(decide(policy, queue, kT0 + microseconds(600)).kind, Kind::kWait);
}

TEST(BatchPolicy, NoDeadlineNeverExpires) {
  auto queue = arrivals(1);
  auto d = decide(make_policy(8, 2000), queue, BatchTime::max() - std::chrono::hours(1));
  EXPECT_TRUE(d.expired.empty());
  EXPECT_EQ(d.kind, Kind::kRun);
}

TEST(BatchPolicy, RejectsOptionsThatCannotWork) {
  auto error = [](BatchPolicyOptions options) { return BatchPolicy::create(options).status().message(); };
  BatchPolicyOptions zero_batch;
  zero_batch.max_batch = 0;
  EXPECT_EQ(error(zero_batch), "max_batch: 0 is not a batch size (must be >= 1)");
  BatchPolicyOptions negative_delay;
  negative_delay.max_queue_delay_us = -1;
  EXPECT_EQ(error(negative_delay),
            "batching.max_queue_delay_us: -1 is negative (0 = run as soon as an instance is idle)");
  BatchPolicyOptions too_large;
  too_large.max_batch = 32;
  too_large.preferred_batch = {8, 64};
  EXPECT_EQ(error(too_large), "batching.preferred_batch: 64 is larger than max_batch 32");
  BatchPolicyOptions zero_preferred;
  zero_preferred.preferred_batch = {0};
  EXPECT_EQ(error(zero_preferred), "batching.preferred_batch: 0 is not a batch size (must be >= 1)");
  BatchPolicyOptions no_queue;
  no_queue.max_queue = 0;
  EXPECT_EQ(error(no_queue), "batching.max_queue: 0 admits no request (must be >= 1)");
  EXPECT_EQ(BatchPolicy::create(BatchPolicyOptions{}).status().code(), StatusCode::kOk);
}

TEST(BatchPolicy, DuplicatePreferredSizesAreMerged) {
  const BatchPolicy policy = make_policy(8, 2000, {4, 2, 4});
  EXPECT_EQ(policy.options().preferred_batch, (std::vector<int>{2, 4}));
}

}  // namespace
}  // namespace inferd
