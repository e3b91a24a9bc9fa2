#include "server/deadline_timer.h"

#include <algorithm>

#include "core/thread_name.h"

namespace inferd {

// One request's answer: the first of the handler's answer and the timer's 504 wins.
struct DeadlineTimer::Guard {
  std::atomic<bool> answered{false};
  http::Respond respond;  // touched only by the caller that set `answered`
  std::shared_ptr<RequestStage> stage;
  std::shared_ptr<std::atomic<size_t>> unanswered;
  Clock::time_point received;

  // True for the one caller that gets to answer; it must then deliver().
  bool claim() { return !answered.exchange(true); }
  void deliver(http::Response response) {
    http::Respond r = std::move(respond);
    unanswered->fetch_sub(1);
    r(std::move(response));
  }
};

namespace {
bool later(const auto& a, const auto& b) { return a.deadline > b.deadline; }  // min-heap order
}  // namespace

DeadlineTimer::DeadlineTimer() : thread_([this] { run(); }) {}

DeadlineTimer::~DeadlineTimer() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

http::Respond DeadlineTimer::guard(Clock::time_point received, Clock::time_point deadline,
                                   std::shared_ptr<RequestStage> stage, http::Respond respond) {
  if (deadline == Clock::time_point::max()) return respond;
  auto g = std::make_shared<Guard>();
  g->respond = std::move(respond);
  g->stage = std::move(stage);
  g->unanswered = unanswered_;
  g->received = received;
  unanswered_->fetch_add(1);
  bool earliest = false;
  {
    std::lock_guard lock(mu_);
    heap_.push_back({deadline, g});
    std::push_heap(heap_.begin(), heap_.end(), [](const Entry& a, const Entry& b) { return later(a, b); });
    earliest = heap_.front().guard == g;
    compact_locked();
  }
  if (earliest) wake_.notify_one();
  return [g](http::Response response) {
    if (g->claim()) g->deliver(std::move(response));
  };
}

// Answered entries stay in the heap until their deadline; with long deadlines they could
// pile up, so once they are most of it they are swept out (amortized O(1) per guard).
void DeadlineTimer::compact_locked() {
  constexpr size_t kMinSweep = 256;
  if (heap_.size() < kMinSweep || heap_.size() < 2 * unanswered_->load()) return;
  std::erase_if(heap_, [](const Entry& e) { return e.guard->answered.load(); });
  std::make_heap(heap_.begin(), heap_.end(), [](const Entry& a, const Entry& b) { return later(a, b); });
}

size_t DeadlineTimer::watched() const { return unanswered_->load(); }

void DeadlineTimer::run() {
  set_thread_name("inferd-deadline");
  std::unique_lock lock(mu_);
  while (!stopping_) {
    if (heap_.empty()) {
      wake_.wait(lock);
      continue;
    }
    const Clock::time_point next = heap_.front().deadline;
    if (Clock::now() < next) {
      wake_.wait_until(lock, next);
      continue;
    }
    std::pop_heap(heap_.begin(), heap_.end(), [](const Entry& a, const Entry& b) { return later(a, b); });
    std::shared_ptr<Guard> due = std::move(heap_.back().guard);
    heap_.pop_back();
    lock.unlock();  // the answer goes out without the lock: guard() must not wait on it
    expire(*due);
    due.reset();
    lock.lock();
  }
}

void DeadlineTimer::expire(Guard& guard) {
  if (guard.answered.load()) return;
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - guard.received).count();
  std::string message = "deadline exceeded: no answer " + std::to_string(ms) + " ms after the request arrived";
  if (guard.stage) message += std::string(" (it was ") + guard.stage->name.load(std::memory_order_relaxed) + ")";
  if (!guard.claim()) return;
  expired_.fetch_add(1);  // counted before the answer goes out: whoever sees the 504 sees the count
  guard.deliver(http::error_response(504, message));
}

}  // namespace inferd
