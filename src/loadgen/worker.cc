// A worker's schedule. Closed loop: a free connection takes the next request at once.
// Open loop: request k of this worker is due at origin + k * interval; a free connection
// takes the oldest due request, else waits in idle_ for the schedule timer.
#include "loadgen/worker.h"

#include <algorithm>
#include <cmath>

namespace inferd::loadgen {
namespace {

using boost::system::error_code;

uint64_t nanoseconds(Clock::duration d) {
  return static_cast<uint64_t>(std::max<int64_t>(0, std::chrono::duration_cast<std::chrono::nanoseconds>(d).count()));
}

// How often deadlines are checked: a request times out between `timeout` and
// `timeout` plus this (one timer per worker instead of one per request).
Clock::duration watchdog_period(const LoadSpec& spec) {
  const auto shortest = std::min(spec.timeout, spec.connect_timeout);
  return std::clamp<Clock::duration>(shortest / 10, std::chrono::milliseconds(1), std::chrono::milliseconds(100));
}

}  // namespace

Worker::Worker(SharedRun& shared, int connections, double rate, uint64_t open_loop_requests, double phase)
    : shared_(shared), schedule_timer_(io_), watchdog_(io_) {
  for (int i = 0; i < connections; ++i) connections_.push_back(std::make_unique<Connection>(*this));
  open_loop_ = rate > 0;
  if (open_loop_) {
    interval_ns_ = 1e9 / rate;
    origin_ = shared.start + std::chrono::nanoseconds(static_cast<int64_t>(phase * interval_ns_));
    open_loop_requests_ = open_loop_requests;
  }
}

Worker::~Worker() {
  for (auto& c : connections_) c->close();
}

void Worker::run() {
  if (open_loop_) {
    for (auto& c : connections_) idle_.push_back(c.get());
    dispatch();
  } else {
    const Clock::time_point now = Clock::now();
    for (auto& c : connections_) {
      std::optional<Job> job = next_job(now);
      if (!job) {
        out_of_jobs_ = true;
        break;
      }
      assign(*c, *job);
    }
    maybe_finish();
  }
  if (!finished_) arm_watchdog();
  io_.run();
}

Clock::time_point Worker::intended(uint64_t k) const {
  return origin_ + std::chrono::nanoseconds(static_cast<int64_t>(std::llround(static_cast<double>(k) * interval_ns_)));
}

bool Worker::schedule_exhausted() const {
  if (stopping_) return true;
  const Clock::time_point t = intended(next_k_);
  if (t < shared_.measure_start) return false;
  return shared_.spec.total_requests > 0 ? recorded_scheduled_ >= open_loop_requests_ : t >= shared_.end;
}

std::optional<Job> Worker::next_job(Clock::time_point now) {
  return open_loop_ ? next_open_loop_job(now) : next_closed_loop_job(now);
}

std::optional<Job> Worker::next_closed_loop_job(Clock::time_point now) {
  if (stopping_) return std::nullopt;
  if (now < shared_.measure_start) return Job{now, false};
  if (shared_.spec.total_requests > 0) {
    if (shared_.closed_loop_budget.fetch_sub(1, std::memory_order_relaxed) <= 0) return std::nullopt;
    return Job{now, true};
  }
  if (now >= shared_.end) return std::nullopt;
  return Job{now, true};
}

std::optional<Job> Worker::next_open_loop_job(Clock::time_point now) {
  if (schedule_exhausted()) return std::nullopt;
  const Clock::time_point t = intended(next_k_);
  if (t > now) return std::nullopt;
  ++next_k_;
  const bool recorded = t >= shared_.measure_start;
  recorded_scheduled_ += recorded;
  return Job{t, recorded};
}

void Worker::assign(Connection& connection, const Job& job) {
  ++in_flight_;
  const std::string& request = shared_.spec.requests[next_request_];
  next_request_ = (next_request_ + 1) % shared_.spec.requests.size();
  connection.start(job, request);
}

void Worker::on_free(Connection& connection) {
  --in_flight_;
  if (finished_) return;
  if (std::optional<Job> job = next_job(Clock::now())) return assign(connection, *job);
  if (open_loop_) {
    idle_.push_back(&connection);
    arm_schedule_timer();
  } else {
    out_of_jobs_ = true;
    connection.close();
  }
  maybe_finish();
}

// Starts every due request on an idle connection, then waits for the next one.
void Worker::dispatch() {
  const Clock::time_point now = Clock::now();
  while (!idle_.empty()) {
    std::optional<Job> job = next_open_loop_job(now);
    if (!job) break;
    Connection* c = idle_.back();
    idle_.pop_back();
    assign(*c, *job);
  }
  arm_schedule_timer();
  maybe_finish();
}

void Worker::arm_schedule_timer() {
  if (timer_armed_ || idle_.empty() || schedule_exhausted()) return;
  timer_armed_ = true;
  schedule_timer_.expires_at(intended(next_k_));
  schedule_timer_.async_wait([this](const error_code& ec) {
    timer_armed_ = false;
    if (!ec && !finished_) dispatch();
  });
}

void Worker::arm_watchdog() {
  watchdog_.expires_after(watchdog_period(shared_.spec));
  watchdog_.async_wait([this](const error_code& ec) {
    if (ec || finished_) return;
    const Clock::time_point now = Clock::now();
    for (auto& c : connections_) c->check_deadline(now);
    if (!stopping_ && shared_.live && shared_.live->stop.load(std::memory_order_relaxed)) {
      stopping_ = out_of_jobs_ = true;
      schedule_timer_.cancel();
      maybe_finish();
      if (finished_) return;
    }
    arm_watchdog();
  });
}

// Done when no more requests will be scheduled and none is in flight: closing the
// sockets and cancelling the timers leaves io_.run() nothing to wait for.
void Worker::maybe_finish() {
  if (finished_ || in_flight_ > 0) return;
  if (!(open_loop_ ? schedule_exhausted() : out_of_jobs_)) return;
  finished_ = true;
  schedule_timer_.cancel();
  watchdog_.cancel();
  for (auto& c : connections_) c->close();
}

void Worker::on_started(const Job& job, Clock::time_point now) {
  if (job.recorded && open_loop_ && now - job.intended > std::chrono::nanoseconds(kLateStartNs)) ++stats_.late_starts;
}

void Worker::on_response(const Job& job, int code, Clock::time_point now) {
  if (!job.recorded) return;
  stats_.add_response(code, nanoseconds(now - job.intended));
  last_completion_ = std::max(last_completion_, now);
  if (shared_.live) shared_.live->done.fetch_add(1, std::memory_order_relaxed);
}

void Worker::on_error(const Job& job, ErrorKind kind, const std::string& message) {
  if (!job.recorded) return;
  stats_.add_error(kind, message);
  last_completion_ = std::max(last_completion_, Clock::now());
  if (shared_.live) {
    shared_.live->done.fetch_add(1, std::memory_order_relaxed);
    shared_.live->errors.fetch_add(1, std::memory_order_relaxed);
  }
}

void Worker::on_bytes(const Job& job, uint64_t out, uint64_t in) {
  if (!job.recorded) return;
  stats_.bytes_out += out;
  stats_.bytes_in += in;
}

void Worker::on_reconnect(const Job& job) {
  if (job.recorded) ++stats_.reconnects;
}

}  // namespace inferd::loadgen
