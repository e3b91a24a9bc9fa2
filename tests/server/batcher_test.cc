// Batcher with fake executors: real threads, no model. Timing is only ever used with wide
// margins (a 10 s delay that must not be waited for, a 5 s bound that must not be hit);
// where an order matters the test holds executors at a gate instead of sleeping.
#include "server/batcher.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <future>
#include <latch>
#include <map>
#include <random>
#include <regex>
#include <thread>

namespace inferd {
namespace {

using namespace std::chrono_literals;
constexpr size_t kSampleSize = 16;
constexpr auto kPatience = 5s;  // far beyond any wait these tests expect

// Holds executors inside execute() until opened (or kPatience passed, so a failing test
// cannot hang its Batcher's destructor). Counts how many are inside at once.
class Gate {
 public:
  void enter() {
    std::unique_lock lock(mutex_);
    ++inside_;
    max_inside_ = std::max(max_inside_, inside_);
    changed_.notify_all();
    changed_.wait_for(lock, kPatience, [this] { return open_; });
    --inside_;
  }
  void open() {
    std::lock_guard lock(mutex_);
    open_ = true;
    changed_.notify_all();
  }
  bool wait_until_inside(int count) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, kPatience, [&] { return inside_ >= count; });
  }
  int max_inside() const {
    std::lock_guard lock(mutex_);
    return max_inside_;
  }

 private:
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  bool open_ = false;
  int inside_ = 0;
  int max_inside_ = 0;
};

// What every executor of a test ran: the id (element 0) of each executed sample.
struct ExecutionLog {
  std::mutex mutex;
  std::vector<int> ids;
  std::vector<int> sorted_ids() {
    std::lock_guard lock(mutex);
    auto copy = ids;
    std::sort(copy.begin(), copy.end());
    return copy;
  }
};

struct FakeBehaviour {
  std::chrono::microseconds compute_time{0};
  Gate* gate = nullptr;
  Status fail_with;
};

// output row = input * 2, element by element.
class FakeExecutor final : public BatchExecutor {
 public:
  FakeExecutor(int max_batch, std::shared_ptr<ExecutionLog> log, FakeBehaviour behaviour)
      : inputs_(kSampleSize * static_cast<size_t>(max_batch), -1.0f),
        outputs_(inputs_.size()),
        log_(std::move(log)),
        behaviour_(behaviour) {}

  size_t input_size() const override { return kSampleSize; }
  float* input(int slot) override { return inputs_.data() + kSampleSize * static_cast<size_t>(slot); }
  Status execute(int batch) override {
    {
      std::lock_guard lock(log_->mutex);
      for (int slot = 0; slot < batch; ++slot) log_->ids.push_back(static_cast<int>(input(slot)[0]));
    }
    if (behaviour_.gate) behaviour_.gate->enter();
    std::this_thread::sleep_for(behaviour_.compute_time);
    if (!behaviour_.fail_with.is_ok()) return behaviour_.fail_with;
    for (size_t i = 0; i < kSampleSize * static_cast<size_t>(batch); ++i) outputs_[i] = inputs_[i] * 2.0f;
    return Status::ok();
  }
  std::span<const float> output(int slot) const override {
    return {outputs_.data() + kSampleSize * static_cast<size_t>(slot), kSampleSize};
  }
  std::span<const BatchStage> stages() const override { return {&kStage, 1}; }

 private:
  static constexpr BatchStage kStage{"fake", 0.25};
  std::vector<float> inputs_;
  std::vector<float> outputs_;
  std::shared_ptr<ExecutionLog> log_;
  FakeBehaviour behaviour_;
};

// One sample: its id in element 0, random values (seeded by the id) after it.
std::vector<float> sample(int id) {
  std::mt19937 rng(static_cast<uint32_t>(1000 + id));
  std::uniform_real_distribution<float> dist(-3.0f, 3.0f);
  std::vector<float> values(kSampleSize);
  values[0] = static_cast<float>(id);
  for (size_t i = 1; i < kSampleSize; ++i) values[i] = dist(rng);
  return values;
}

std::vector<float> doubled(std::vector<float> values) {
  for (float& v : values) v *= 2.0f;
  return values;
}

// The answer of one request; counts calls so that a second answer is caught.
struct Reply {
  std::promise<Result<std::vector<float>>> promise;
  std::future<Result<std::vector<float>>> future = promise.get_future();
  std::atomic<int> calls{0};

  bool ready() { return future.wait_for(kPatience) == std::future_status::ready; }
};

BatchRequest request_for(int id, const std::shared_ptr<Reply>& reply, BatchTime deadline = BatchTime::max()) {
  return BatchRequest{sample(id), deadline, [reply](Result<std::vector<float>> result) {
                        if (reply->calls.fetch_add(1) == 0) reply->promise.set_value(std::move(result));
                      },
                      nullptr};
}

struct BatcherSetup {
  int max_batch = 8;
  int64_t delay_us = 2000;
  int max_queue = 1024;
  int instances = 1;
  FakeBehaviour behaviour;
  std::function<void(int, double, double, std::span<const BatchStage>)> on_batch;
};

std::unique_ptr<Batcher> make_batcher(const BatcherSetup& setup, const std::shared_ptr<ExecutionLog>& log) {
  BatcherOptions options;
  options.policy.max_batch = setup.max_batch;
  options.policy.max_queue_delay_us = setup.delay_us;
  options.policy.max_queue = setup.max_queue;
  options.on_batch = setup.on_batch;
  std::vector<std::unique_ptr<BatchExecutor>> executors;
  for (int i = 0; i < setup.instances; ++i) {
    executors.push_back(std::make_unique<FakeExecutor>(setup.max_batch, log, setup.behaviour));
  }
  auto batcher = Batcher::create(std::move(options), std::move(executors));
  EXPECT_TRUE(batcher.is_ok()) << batcher.status().message();
  return batcher.is_ok() ? std::move(batcher).value() : nullptr;
}

std::vector<int> ids_up_to(int count) {
  std::vector<int> ids(static_cast<size_t>(count));
  for (int i = 0; i < count; ++i) ids[static_cast<size_t>(i)] = i;
  return ids;
}

TEST(Batcher, ConcurrentSubmittersEachGetTheirOwnAnswer) {
  constexpr int kClients = 64;
  auto log = std::make_shared<ExecutionLog>();
  std::mutex hook_mutex;
  std::map<int, int> hook_sizes;
  BatcherSetup setup;
  setup.delay_us = 5000;
  setup.behaviour.compute_time = 1ms;
  setup.on_batch = [&](int size, double queue_ms, double compute_ms, std::span<const BatchStage> stages) {
    EXPECT_GE(queue_ms, 0.0);
    EXPECT_GE(compute_ms, 0.5);  // the fake sleeps 1 ms
    ASSERT_EQ(stages.size(), 1u);  // the executor's own, passed through
    EXPECT_EQ(stages[0].name, "fake");
    EXPECT_EQ(stages[0].ms, 0.25);
    std::lock_guard lock(hook_mutex);
    ++hook_sizes[size];
  };
  auto batcher = make_batcher(setup, log);
  ASSERT_NE(batcher, nullptr);

  std::vector<std::shared_ptr<Reply>> replies(kClients);
  std::latch start(kClients);
  std::vector<std::thread> clients;
  for (int id = 0; id < kClients; ++id) {
    replies[static_cast<size_t>(id)] = std::make_shared<Reply>();
    clients.emplace_back([&, id] {
      start.arrive_and_wait();
      EXPECT_TRUE(batcher->submit(request_for(id, replies[static_cast<size_t>(id)])).is_ok());
    });
  }
  for (auto& client : clients) client.join();
  for (int id = 0; id < kClients; ++id) {
    auto& reply = *replies[static_cast<size_t>(id)];
    ASSERT_TRUE(reply.ready()) << "request " << id << " was never answered";
    auto result = reply.future.get();
    ASSERT_TRUE(result.is_ok()) << result.status().message();
    EXPECT_EQ(result.value(), doubled(sample(id))) << "request " << id << " got another request's answer";
  }
  batcher->drain();
  for (const auto& reply : replies) EXPECT_EQ(reply->calls.load(), 1);
  EXPECT_EQ(log->sorted_ids(), ids_up_to(kClients));  // each executed once, none lost

  const Batcher::Stats stats = batcher->stats();
  EXPECT_EQ(stats.executed, uint64_t{kClients});
  EXPECT_EQ(stats.queued, 0u);
  EXPECT_EQ(stats.in_flight, 0u);
  uint64_t samples = 0, batches = 0, largest = 0;
  for (size_t size = 0; size < stats.batch_size_counts.size(); ++size) {
    samples += size * stats.batch_size_counts[size];
    batches += stats.batch_size_counts[size];
    if (stats.batch_size_counts[size] > 0) largest = size;
    EXPECT_EQ(stats.batch_size_counts[size], static_cast<uint64_t>(hook_sizes[static_cast<int>(size)]))
        << "on_batch missed batches of " << size;
  }
  EXPECT_EQ(samples, uint64_t{kClients});
  EXPECT_EQ(batches, stats.batches);
  EXPECT_GT(largest, 1u) << "no batch formed under concurrency";
}

TEST(Batcher, FullBatchRunsWithoutWaitingForTheDelay) {
  auto log = std::make_shared<ExecutionLog>();
  BatcherSetup setup;
  setup.max_batch = 4;
  setup.delay_us = 60'000'000;  // a minute: only a full batch can run within the test
  auto batcher = make_batcher(setup, log);
  ASSERT_NE(batcher, nullptr);
  std::vector<std::shared_ptr<Reply>> replies;
  for (int id = 0; id < 4; ++id) {
    replies.push_back(std::make_shared<Reply>());
    ASSERT_TRUE(batcher->submit(request_for(id, replies.back())).is_ok());
  }
  for (auto& reply : replies) ASSERT_TRUE(reply->ready());
  EXPECT_EQ(batcher->stats().batch_size_counts[4], 1u);
}

TEST(Batcher, FullQueueIsRefusedWithTheExactError) {
  auto log = std::make_shared<ExecutionLog>();
  Gate gate;
  BatcherSetup setup;
  setup.max_batch = 1;
  setup.delay_us = 0;
  setup.max_queue = 2;
  setup.behaviour.gate = &gate;
  auto batcher = make_batcher(setup, log);
  ASSERT_NE(batcher, nullptr);
  std::vector<std::shared_ptr<Reply>> replies;
  for (int id = 0; id < 4; ++id) replies.push_back(std::make_shared<Reply>());

  ASSERT_TRUE(batcher->submit(request_for(0, replies[0])).is_ok());
  ASSERT_TRUE(gate.wait_until_inside(1));  // request 0 runs; the queue is empty again
  ASSERT_TRUE(batcher->submit(request_for(1, replies[1])).is_ok());
  ASSERT_TRUE(batcher->submit(request_for(2, replies[2])).is_ok());
  const Status refused = batcher->submit(request_for(3, replies[3]));
  EXPECT_EQ(refused.code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(refused.message(), "queue is full (2 waiting)");
  Batcher::Stats stats = batcher->stats();
  EXPECT_EQ(stats.queued, 2u);
  EXPECT_EQ(stats.in_flight, 1u);
  EXPECT_EQ(stats.rejected, 1u);

  gate.open();
  batcher->drain();
  for (int id = 0; id < 3; ++id) ASSERT_TRUE(replies[static_cast<size_t>(id)]->future.get().is_ok());
  EXPECT_EQ(replies[3]->calls.load(), 0);  // refused requests are never answered through done
  EXPECT_EQ(log->sorted_ids(), ids_up_to(3));
}

TEST(Batcher, IdleMeansNothingQueuedAnInstanceFreeAndNotDraining) {
  auto log = std::make_shared<ExecutionLog>();
  Gate gate;
  BatcherSetup setup;
  setup.max_batch = 1;
  setup.delay_us = 0;
  setup.behaviour.gate = &gate;
  auto batcher = make_batcher(setup, log);
  ASSERT_NE(batcher, nullptr);
  EXPECT_TRUE(batcher->idle());
  auto first = std::make_shared<Reply>(), second = std::make_shared<Reply>();
  ASSERT_TRUE(batcher->submit(request_for(0, first)).is_ok());
  ASSERT_TRUE(gate.wait_until_inside(1));
  EXPECT_FALSE(batcher->idle()) << "its only instance is running";
  gate.open();
  ASSERT_TRUE(first->ready());
  EXPECT_TRUE(batcher->idle()) << "the instance is counted free before its requests are answered";
  ASSERT_TRUE(batcher->submit(request_for(1, second)).is_ok());
  ASSERT_TRUE(second->ready());
  batcher->drain();
  EXPECT_FALSE(batcher->idle()) << "a drained batcher takes nothing";
}

TEST(Batcher, ExpiredRequestsAreAnsweredAndNeverExecuted) {
  auto log = std::make_shared<ExecutionLog>();
  Gate gate;
  BatcherSetup setup;
  setup.max_batch = 4;
  setup.delay_us = 0;
  setup.behaviour.gate = &gate;
  auto batcher = make_batcher(setup, log);
  ASSERT_NE(batcher, nullptr);
  std::vector<std::shared_ptr<Reply>> replies;
  for (int id = 0; id < 4; ++id) replies.push_back(std::make_shared<Reply>());

  ASSERT_TRUE(batcher->submit(request_for(0, replies[0])).is_ok());
  ASSERT_TRUE(gate.wait_until_inside(1));  // the only instance is busy from here on
  const BatchTime now = BatchClock::now();
  ASSERT_TRUE(batcher->submit(request_for(1, replies[1], now + 20ms)).is_ok());
  // Already past when submitted: refused at once, naming that it expired before the queue.
  const Status late = batcher->submit(request_for(2, replies[2], now - 1ms));
  EXPECT_EQ(late.code(), StatusCode::kDeadlineExceeded);
  EXPECT_TRUE(std::regex_match(late.message(),
                               std::regex(R"(deadline exceeded [0-9]+ ms before the request reached the batch queue)")))
      << late.message();
  ASSERT_TRUE(batcher->submit(request_for(3, replies[3], now + 60s)).is_ok());
  std::this_thread::sleep_for(100ms);  // request 1's deadline passes while the instance is busy
  gate.open();
  batcher->drain();

  auto result = replies[1]->future.get();
  ASSERT_FALSE(result.is_ok());
  EXPECT_EQ(result.status().code(), StatusCode::kDeadlineExceeded);
  // It waited ~100 ms behind the busy instance: the message says so, not "waited 0 ms".
  std::smatch waited;
  const std::string message = result.status().message();
  ASSERT_TRUE(std::regex_match(message, waited,
                               std::regex(R"(deadline exceeded after waiting ([0-9]+) ms in the batch queue .*)")))
      << message;
  EXPECT_GE(std::stoi(waited[1]), 20);
  EXPECT_TRUE(replies[0]->future.get().is_ok());
  EXPECT_EQ(replies[3]->future.get().value(), doubled(sample(3)));
  EXPECT_EQ(log->sorted_ids(), (std::vector<int>{0, 3}));  // the expired ones never ran
  EXPECT_EQ(batcher->stats().expired, 2u);
  EXPECT_EQ(batcher->stats().executed, 2u);
}

TEST(Batcher, DrainRunsEverythingQueuedThenRefuses) {
  auto log = std::make_shared<ExecutionLog>();
  BatcherSetup setup;
  setup.max_batch = 8;
  setup.delay_us = 60'000'000;  // nothing would run for a minute without the drain
  auto batcher = make_batcher(setup, log);
  ASSERT_NE(batcher, nullptr);
  std::vector<std::shared_ptr<Reply>> replies;
  for (int id = 0; id < 20; ++id) {
    replies.push_back(std::make_shared<Reply>());
    ASSERT_TRUE(batcher->submit(request_for(id, replies.back())).is_ok());
  }
  const auto start = BatchClock::now();
  batcher->drain();
  EXPECT_LT(BatchClock::now() - start, kPatience);
  for (int id = 0; id < 20; ++id) {
    auto& reply = *replies[static_cast<size_t>(id)];
    ASSERT_EQ(reply.future.wait_for(0s), std::future_status::ready) << "drain returned before answering " << id;
    EXPECT_EQ(reply.future.get().value(), doubled(sample(id)));
  }
  EXPECT_EQ(log->sorted_ids(), ids_up_to(20));

  auto late = std::make_shared<Reply>();
  const Status refused = batcher->submit(request_for(99, late));
  EXPECT_EQ(refused.code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(refused.message(), "the model is shutting down: not accepting new requests");
  batcher->drain();  // idempotent
  EXPECT_EQ(late->calls.load(), 0);
}

TEST(Batcher, DestructorDrains) {
  auto log = std::make_shared<ExecutionLog>();
  BatcherSetup setup;
  setup.delay_us = 60'000'000;
  auto batcher = make_batcher(setup, log);
  ASSERT_NE(batcher, nullptr);
  auto reply = std::make_shared<Reply>();
  ASSERT_TRUE(batcher->submit(request_for(7, reply)).is_ok());
  batcher.reset();
  ASSERT_EQ(reply->future.wait_for(0s), std::future_status::ready);
  EXPECT_EQ(reply->future.get().value(), doubled(sample(7)));
}

TEST(Batcher, TwoInstancesRunBatchesConcurrently) {
  auto log = std::make_shared<ExecutionLog>();
  Gate gate;
  BatcherSetup setup;
  setup.max_batch = 1;
  setup.delay_us = 0;
  setup.instances = 2;
  setup.behaviour.gate = &gate;
  auto batcher = make_batcher(setup, log);
  ASSERT_NE(batcher, nullptr);
  auto first = std::make_shared<Reply>();
  auto second = std::make_shared<Reply>();
  ASSERT_TRUE(batcher->submit(request_for(0, first)).is_ok());
  ASSERT_TRUE(batcher->submit(request_for(1, second)).is_ok());
  EXPECT_TRUE(gate.wait_until_inside(2)) << "the second instance never started while the first was busy";
  gate.open();
  batcher->drain();
  EXPECT_EQ(gate.max_inside(), 2);
  EXPECT_EQ(first->future.get().value(), doubled(sample(0)));
  EXPECT_EQ(second->future.get().value(), doubled(sample(1)));
}

TEST(Batcher, ExecuteErrorAnswersEveryRequestOfTheBatch) {
  auto log = std::make_shared<ExecutionLog>();
  BatcherSetup setup;
  setup.max_batch = 4;
  setup.behaviour.fail_with = internal_error("conv1: out of workspace");
  auto batcher = make_batcher(setup, log);
  ASSERT_NE(batcher, nullptr);
  std::vector<std::shared_ptr<Reply>> replies;
  for (int id = 0; id < 4; ++id) {
    replies.push_back(std::make_shared<Reply>());
    ASSERT_TRUE(batcher->submit(request_for(id, replies.back())).is_ok());
  }
  batcher->drain();
  for (auto& reply : replies) {
    auto result = reply->future.get();
    ASSERT_FALSE(result.is_ok());
    EXPECT_EQ(result.status().message(), "conv1: out of workspace");
    EXPECT_EQ(reply->calls.load(), 1);
  }
  EXPECT_EQ(batcher->stats().failed, 4u);
  EXPECT_EQ(batcher->stats().executed, 4u);
}

TEST(Batcher, SubmitRefusesMalformedRequests) {
  auto log = std::make_shared<ExecutionLog>();
  auto batcher = make_batcher(BatcherSetup{}, log);
  ASSERT_NE(batcher, nullptr);
  auto reply = std::make_shared<Reply>();
  BatchRequest short_input = request_for(0, reply);
  short_input.input.resize(3);
  const Status wrong_size = batcher->submit(std::move(short_input));
  EXPECT_EQ(wrong_size.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(wrong_size.message(), "input has 3 values, the model takes 16 per sample");
  BatchRequest no_callback{sample(1), BatchTime::max(), nullptr, nullptr};
  EXPECT_EQ(batcher->submit(std::move(no_callback)).code(), StatusCode::kInvalidArgument);
  batcher->drain();
  EXPECT_EQ(reply->calls.load(), 0);
  EXPECT_EQ(batcher->stats().rejected, 0u);
}

TEST(Batcher, CreateRejectsUnusableInstances) {
  auto log = std::make_shared<ExecutionLog>();
  auto none = Batcher::create(BatcherOptions{}, {});
  EXPECT_EQ(none.status().message(), "batcher: instances.count is 0: a model needs at least one instance");

  BatcherOptions bad_options;
  bad_options.policy.max_queue = 0;
  std::vector<std::unique_ptr<BatchExecutor>> one;
  one.push_back(std::make_unique<FakeExecutor>(8, log, FakeBehaviour{}));
  EXPECT_EQ(Batcher::create(bad_options, std::move(one)).status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace inferd
