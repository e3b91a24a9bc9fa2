#include "server/batcher.h"

#include <algorithm>
#include <iterator>
#include <string>
#include <utility>

#include "core/thread_name.h"

namespace inferd {
namespace {

class SteadyClock final : public Clock {
 public:
  BatchTime now() const override { return BatchClock::now(); }
};

double milliseconds_between(BatchTime from, BatchTime to) {
  return std::chrono::duration<double, std::milli>(to - from).count();
}

}  // namespace

Result<std::vector<Status>> BatchExecutor::execute_with_images(int batch, std::span<const EncodedSample> encoded) {
  if (!encoded.empty()) return unimplemented("this instance does not decode images on its device");
  RETURN_IF_ERROR(execute(batch));
  return std::vector<Status>{};
}

Clock& steady_clock_source() {
  static SteadyClock clock;
  return clock;
}

Result<std::unique_ptr<Batcher>> Batcher::create(BatcherOptions options,
                                                  std::vector<std::unique_ptr<BatchExecutor>> instances,
                                                  Clock* clock) {
  ASSIGN_OR_RETURN(BatchPolicy policy, BatchPolicy::create(options.policy));
  if (instances.empty()) return invalid_argument("batcher: instances.count is 0: a model needs at least one instance");
  for (size_t i = 0; i < instances.size(); ++i) {
    if (!instances[i]) return internal_error("batcher: instance " + std::to_string(i) + " is null");
    if (instances[i]->input_size() != instances[0]->input_size()) {
      return internal_error("batcher: instance " + std::to_string(i) + " takes samples of " +
                            std::to_string(instances[i]->input_size()) + " floats, instance 0 of " +
                            std::to_string(instances[0]->input_size()));
    }
    if (instances[i]->decodes_images() != instances[0]->decodes_images())
      return internal_error("batcher: instance " + std::to_string(i) +
                            " decodes images on its device and instance 0 does not, or the reverse");
  }
  if (clock == nullptr) clock = &steady_clock_source();
  return std::unique_ptr<Batcher>(new Batcher(std::move(policy), std::move(options), std::move(instances), clock));
}

Batcher::Batcher(BatchPolicy policy, BatcherOptions options, std::vector<std::unique_ptr<BatchExecutor>> instances,
                 Clock* clock)
    : policy_(std::move(policy)),
      options_(std::move(options)),
      instances_(std::move(instances)),
      clock_(clock),
      input_size_(instances_[0]->input_size()),
      decodes_images_(instances_[0]->decodes_images()) {
  idle_instances_ = static_cast<int>(instances_.size());
  stats_.batch_size_counts.assign(static_cast<size_t>(policy_.options().max_batch) + 1, 0);
  workers_.reserve(instances_.size());
  for (const auto& instance : instances_) {
    workers_.emplace_back([this, executor = instance.get()] {
      set_thread_name("inferd-exec");  // its OpenMP workers inherit the name
      worker_loop(*executor);
    });
  }
}

Batcher::~Batcher() { drain(); }

namespace {
std::string ms_string(BatchTime::duration d) {
  return std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(d).count());
}
}  // namespace

Status Batcher::submit(BatchRequest request) {
  if (!request.done) return invalid_argument("batch request has no completion callback");
  if (request.image) {
    if (!decodes_images_) return invalid_argument("this model's instances do not decode images: send a sample");
    if (request.image->empty()) return invalid_argument("empty image");
    if (!request.input.empty()) return invalid_argument("a batch request holds a sample or an image, not both");
  } else if (request.input.size() != input_size_) {
    return invalid_argument("input has " + std::to_string(request.input.size()) + " values, the model takes " +
                            std::to_string(input_size_) + " per sample");
  }
  {
    std::lock_guard lock(mutex_);
    if (draining_) {
      ++stats_.rejected;
      return failed_precondition("the model is shutting down: not accepting new requests");
    }
    if (!policy_.admit(queue_.size())) {
      ++stats_.rejected;
      return resource_exhausted("queue is full (" + std::to_string(queue_.size()) + " waiting)");
    }
    const BatchTime now = clock_->now();
    // Expired before it was queued (the earlier stages took the time): say so, rather
    // than queue it and report "waited 0 ms".
    if (request.deadline != BatchTime::max() && now > request.deadline) {
      ++stats_.expired;
      return deadline_exceeded("deadline exceeded " + ms_string(now - request.deadline) +
                               " ms before the request reached the batch queue");
    }
    queue_.push_back(Entry{std::move(request), now});
  }
  wake_.notify_one();
  return Status::ok();
}

void Batcher::drain() {
  std::call_once(join_once_, [this] {
    {
      std::lock_guard lock(mutex_);
      draining_ = true;
    }
    wake_.notify_all();
    for (std::thread& worker : workers_) worker.join();
  });
}

size_t Batcher::abandon_queued(const Status& why) {
  std::deque<Entry> abandoned;
  {
    std::lock_guard lock(mutex_);
    abandoned.swap(queue_);
  }
  for (Entry& entry : abandoned) entry.request.done(why);  // outside the lock: done may be slow
  return abandoned.size();
}

size_t Batcher::queued() const {
  std::lock_guard lock(mutex_);
  return queue_.size();
}

bool Batcher::idle() const {
  std::lock_guard lock(mutex_);
  return queue_.empty() && idle_instances_ > 0 && !draining_;
}

Batcher::Stats Batcher::stats() const {
  std::lock_guard lock(mutex_);
  Stats copy = stats_;
  copy.queued = queue_.size();
  return copy;
}

void Batcher::worker_loop(BatchExecutor& executor) {
  std::vector<Entry> batch;
  std::vector<Entry> expired;
  batch.reserve(static_cast<size_t>(policy_.options().max_batch));
  while (next_work(batch, expired)) {
    answer_expired(expired);
    if (!batch.empty()) run_batch(executor, batch);
  }
  answer_expired(expired);
}

bool Batcher::next_work(std::vector<Entry>& batch, std::vector<Entry>& expired) {
  std::unique_lock lock(mutex_);
  for (;;) {
    if (draining_ && queue_.empty()) return false;
    snapshot_.clear();
    for (const Entry& entry : queue_) snapshot_.push_back({entry.enqueued, entry.request.deadline});
    const BatchTime now = clock_->now();
    BatchPolicy::Decision decision =
        policy_.decide(QueueState{snapshot_, idle_instances_, draining_}, now);
    take_expired(decision.expired, expired);
    if (decision.kind == BatchPolicy::Decision::Kind::kRun) {
      const auto take = static_cast<size_t>(decision.take);
      std::move(queue_.begin(), queue_.begin() + static_cast<std::ptrdiff_t>(take), std::back_inserter(batch));
      queue_.erase(queue_.begin(), queue_.begin() + static_cast<std::ptrdiff_t>(take));
      --idle_instances_;
      stats_.in_flight += take;
      // What is left may be runnable by another idle worker (or at its own wake-up time).
      if (!queue_.empty()) wake_.notify_one();
      return true;
    }
    if (!expired.empty()) return true;  // answer them unlocked, then decide again
    if (decision.wake_at == BatchTime::max()) {
      wake_.wait(lock);
    } else {
      wake_.wait_for(lock, decision.wake_at - now);
    }
  }
}

void Batcher::take_expired(const std::vector<size_t>& indices, std::vector<Entry>& expired) {
  if (indices.empty()) return;
  // Back to front so that the indices still to erase stay valid; reversed after for FIFO order.
  for (auto it = indices.rbegin(); it != indices.rend(); ++it) {
    const auto at = queue_.begin() + static_cast<std::ptrdiff_t>(*it);
    expired.push_back(std::move(*at));
    queue_.erase(at);
  }
  std::reverse(expired.end() - static_cast<std::ptrdiff_t>(indices.size()), expired.end());
  stats_.expired += indices.size();
}

void Batcher::answer_expired(std::vector<Entry>& expired) {
  if (expired.empty()) return;
  const BatchTime now = clock_->now();
  for (Entry& entry : expired) {
    entry.request.done(deadline_exceeded("deadline exceeded after waiting " + ms_string(now - entry.enqueued) +
                                         " ms in the batch queue (no instance was free in time)"));
  }
  expired.clear();
}

Batcher::BatchOutcome Batcher::execute_batch(BatchExecutor& executor, std::vector<Entry>& batch) {
  const int size = static_cast<int>(batch.size());
  std::vector<EncodedSample> encoded;
  for (int slot = 0; slot < size; ++slot) {
    const BatchRequest& request = batch[static_cast<size_t>(slot)].request;
    if (request.image) {
      encoded.push_back({slot, *request.image});
    } else {
      std::copy(request.input.begin(), request.input.end(), executor.input(slot));
    }
  }
  if (encoded.empty()) return {std::vector<Status>(batch.size(), executor.execute(size))};
  Result<std::vector<Status>> decoded = executor.execute_with_images(size, encoded);
  if (decoded.is_ok() && decoded->size() != encoded.size())
    decoded = internal_error("the instance answered " + std::to_string(decoded->size()) + " of " +
                             std::to_string(encoded.size()) + " images");
  BatchOutcome outcome{std::vector<Status>(batch.size(), decoded.status())};
  if (!decoded.is_ok()) return outcome;
  for (size_t k = 0; k < encoded.size(); ++k) outcome.statuses[static_cast<size_t>(encoded[k].slot)] = (*decoded)[k];
  outcome.images = encoded.size();
  return outcome;
}

void Batcher::run_batch(BatchExecutor& executor, std::vector<Entry>& batch) {
  const int size = static_cast<int>(batch.size());
  const BatchTime start = clock_->now();
  const BatchOutcome outcome = execute_batch(executor, batch);
  const std::vector<Status>& statuses = outcome.statuses;
  const double compute_ms = milliseconds_between(start, clock_->now());
  const auto failed = static_cast<uint64_t>(
      std::count_if(statuses.begin(), statuses.end(), [](const Status& s) { return !s.is_ok(); }));
  {
    std::lock_guard lock(mutex_);
    ++idle_instances_;
    stats_.in_flight -= batch.size();
    ++stats_.batch_size_counts[static_cast<size_t>(size)];
    ++stats_.batches;
    stats_.executed += batch.size();
    stats_.failed += failed;
    (executor.decodes_on_device() ? stats_.device_images : stats_.host_images) += outcome.images;
  }
  if (options_.on_batch) {
    const bool all_failed = failed == batch.size();
    options_.on_batch(size, milliseconds_between(batch.front().enqueued, start), compute_ms,
                      all_failed ? std::span<const BatchStage>() : executor.stages());
  }
  for (int slot = 0; slot < size; ++slot) {
    auto& done = batch[static_cast<size_t>(slot)].request.done;
    if (!statuses[static_cast<size_t>(slot)].is_ok()) {
      done(statuses[static_cast<size_t>(slot)]);
      continue;
    }
    const std::span<const float> row = executor.output(slot);
    done(std::vector<float>(row.begin(), row.end()));
  }
  batch.clear();
}

}  // namespace inferd
