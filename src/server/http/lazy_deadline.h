// A deadline that moves far more often than it passes, over one asio timer: an HTTP
// connection's read deadline moves on every request (header, then none while the handler
// works, then idle) and its write deadline on every answer. Re-arming an asio timer each time
// costs a trip through the timer queue, a cancelled handler and, when the connection's timer
// is the I/O thread's earliest, a timerfd_settime system call: several per request, which
// showed among the HTTP path's costs against nginx (docs/benchmarks.md). Here arm() and
// disarm() only record the deadline; the timer wakes at most every `max_wait` and then
// either waits again for the deadline recorded since, does nothing (disarmed) or reports
// that the deadline passed.
//
// For arm() to start no wait while one is pending, no deadline may be armed sooner than
// `max_wait` from now (the connection passes its shortest timeout); a sooner one (the
// lingering close's second) re-arms the timer, correct and only slower.
//
// Use (on the owner's strand): if (d.arm(ms)) start a wait: gen = d.begin_wait(), then
// d.timer().async_wait(handler(gen)); the handler calls d.wake(ec, gen) and acts on its
// answer. Thread safety: none (one strand).
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/system/error_code.hpp>
#include <chrono>
#include <cstdint>

namespace inferd::http {

class LazyDeadline {
 public:
  using Clock = std::chrono::steady_clock;
  enum class Wake { kNothing, kWaitAgain, kPassed };

  LazyDeadline(const boost::asio::any_io_executor& executor, Clock::duration max_wait);

  // The deadline is now + `ms`; true when the caller must start a wait (begin_wait).
  bool arm(int ms);
  // No deadline (the pending wait, if any, wakes for nothing).
  void disarm() { deadline_ = Clock::time_point::max(); }
  // Aborts the pending wait (closing: the handler's owner reference goes).
  void cancel();
  // The generation of the wait about to start; only its handler's wake() counts.
  uint64_t begin_wait() { return ++generation_; }
  boost::asio::steady_timer& timer() { return timer_; }
  // A wait's completion: kWaitAgain (start another: the deadline moved), kPassed (the
  // deadline passed while armed) or kNothing (disarmed, cancelled, or a superseded wait).
  Wake wake(boost::system::error_code ec, uint64_t generation);

  bool armed() const { return deadline_ != Clock::time_point::max(); }

 private:
  void set_expiry(Clock::time_point now);

  boost::asio::steady_timer timer_;
  Clock::duration max_wait_;
  Clock::time_point deadline_ = Clock::time_point::max();
  uint64_t generation_ = 0;
  bool waiting_ = false;  // the latest wait has not completed
};

}  // namespace inferd::http
