// Answers a request 504 at its deadline, whichever stage holds it then.
//
// The stages check a request's deadline when they get to it (before and after its decode,
// at the batch queue), which frees the work an expired request would cost; but a request
// that waits behind a long decode, or in the batch queue while every instance runs a long
// batch, is only looked at when that work ends, seconds after its deadline (issue 13: a
// 1,000 ms timeout answered after ~10 s). The timer closes that gap: guard() wraps the
// request's Respond in a one-shot answer, and at the deadline a thread of the timer gives
// the 504 if nothing has answered yet. The stages go on as before; their own (later)
// answer is dropped by the one-shot.
//
// Threading: guard() from any thread; the returned Respond from any thread, once or more
// (the first call answers). A Respond may outlive the timer: it holds nothing of it.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "server/http/http_types.h"
#include "server/request_stage.h"

namespace inferd {

class DeadlineTimer {
 public:
  using Clock = std::chrono::steady_clock;

  DeadlineTimer();
  ~DeadlineTimer();  // joins the thread; Responds still guarded are not answered by it
  DeadlineTimer(const DeadlineTimer&) = delete;
  DeadlineTimer& operator=(const DeadlineTimer&) = delete;

  // `respond` itself when `deadline` is Clock::time_point::max() (no deadline); else a
  // one-shot Respond that the timer answers 504 at `deadline`, naming `stage` (may be null)
  // and how long the request had, measured from `received`.
  http::Respond guard(Clock::time_point received, Clock::time_point deadline, std::shared_ptr<RequestStage> stage,
                      http::Respond respond);

  size_t watched() const;  // guards not yet answered (tests, metrics)
  uint64_t expired() const { return expired_.load(); }  // 504s the timer gave

 private:
  struct Guard;
  struct Entry {
    Clock::time_point deadline;
    std::shared_ptr<Guard> guard;
  };
  void run();
  void expire(Guard& guard);
  void compact_locked();

  mutable std::mutex mu_;
  std::condition_variable wake_;
  std::vector<Entry> heap_;  // min-heap on deadline; answered entries leave lazily
  bool stopping_ = false;
  std::shared_ptr<std::atomic<size_t>> unanswered_ = std::make_shared<std::atomic<size_t>>(0);
  std::atomic<uint64_t> expired_{0};
  std::thread thread_;
};

}  // namespace inferd
