#include "server/http/lazy_deadline.h"

#include <algorithm>

namespace inferd::http {

LazyDeadline::LazyDeadline(const boost::asio::any_io_executor& executor, Clock::duration max_wait)
    : timer_(executor), max_wait_(max_wait) {}

void LazyDeadline::set_expiry(Clock::time_point now) {
  timer_.expires_at(std::min(deadline_, now + max_wait_));  // aborts a pending wait, if any
  waiting_ = true;
}

bool LazyDeadline::arm(int ms) {
  const Clock::time_point now = Clock::now();
  deadline_ = now + std::chrono::milliseconds(ms);
  if (waiting_ && timer_.expiry() <= deadline_) return false;  // it wakes first and waits again
  set_expiry(now);
  return true;
}

void LazyDeadline::cancel() {
  deadline_ = Clock::time_point::max();
  timer_.cancel();
  waiting_ = false;
}

LazyDeadline::Wake LazyDeadline::wake(boost::system::error_code ec, uint64_t generation) {
  if (generation != generation_) return Wake::kNothing;  // superseded by a sooner deadline
  waiting_ = false;
  if (ec || !armed()) return Wake::kNothing;
  const Clock::time_point now = Clock::now();
  if (now >= deadline_) return Wake::kPassed;
  set_expiry(now);
  return Wake::kWaitAgain;
}

}  // namespace inferd::http
