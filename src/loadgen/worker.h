// Inside run_load: a Worker is one event loop with its connections and its share of the
// schedule; a Connection is one keep-alive socket with at most one request in flight.
// Everything here runs on the worker's own thread (its io_context has one thread), so
// nothing is locked; only SharedRun's atomics are touched by several workers.
#pragma once

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "loadgen/load_run.h"
#include "loadgen/response_parser.h"

namespace inferd::loadgen {

using Clock = std::chrono::steady_clock;
namespace asio = boost::asio;

// What every worker reads; only the atomics change during the run.
struct SharedRun {
  const LoadSpec& spec;
  asio::ip::tcp::endpoint endpoint;
  Clock::time_point start;                     // the run (and its warm-up) begins
  Clock::time_point measure_start;             // the warm-up ends: requests from here on are recorded
  Clock::time_point end;                       // duration mode: no request starts after this
  std::atomic<int64_t> closed_loop_budget{0};  // -n, closed loop: request slots left
  LiveCounters* live = nullptr;
};

// One request: when it should start (its latency runs from there) and whether it counts.
struct Job {
  Clock::time_point intended;
  bool recorded = false;
};

class Worker;

class Connection {
 public:
  explicit Connection(Worker& worker);
  void start(const Job& job, const std::string& request);
  // Called by the worker's watchdog: closes the socket of a request past its deadline.
  void check_deadline(Clock::time_point now);
  void close();

 private:
  void connect();
  void on_connect(const boost::system::error_code& ec);
  void write();
  void read();
  void on_read(const boost::system::error_code& ec, size_t n);
  void parse_buffered();
  void on_eof();
  void finish();
  void fail(ErrorKind kind, const std::string& message);
  void fail(const boost::system::error_code& ec, const char* during);

  Worker& worker_;
  asio::ip::tcp::socket socket_;
  asio::steady_timer backoff_;
  std::vector<char> buffer_;
  size_t begin_ = 0, end_ = 0;  // unparsed bytes in buffer_
  std::optional<ResponseParser> parser_;
  const std::string* request_ = nullptr;
  Job job_;
  Clock::time_point deadline_;
  bool busy_ = false, connecting_ = false, timed_out_ = false, connected_before_ = false;
};

class Worker {
 public:
  // `rate` is this worker's share (0: closed loop); `open_loop_requests` its share of -n
  // in open loop; `phase` in [0, 1) staggers its schedule against the other workers'.
  Worker(SharedRun& shared, int connections, double rate, uint64_t open_loop_requests, double phase);
  ~Worker();
  void run();

  const RunStats& stats() const { return stats_; }
  Clock::time_point last_completion() const { return last_completion_; }

  // For its connections.
  asio::io_context& io() { return io_; }
  const SharedRun& shared() const { return shared_; }
  void on_started(const Job& job, Clock::time_point now);
  void on_response(const Job& job, int code, Clock::time_point now);
  void on_error(const Job& job, ErrorKind kind, const std::string& message);
  void on_bytes(const Job& job, uint64_t out, uint64_t in);
  void on_reconnect(const Job& job);
  void on_free(Connection& connection);  // the connection can take its next request

 private:
  std::optional<Job> next_job(Clock::time_point now);
  std::optional<Job> next_closed_loop_job(Clock::time_point now);
  std::optional<Job> next_open_loop_job(Clock::time_point now);
  Clock::time_point intended(uint64_t k) const;
  bool schedule_exhausted() const;
  void assign(Connection& connection, const Job& job);
  void dispatch();
  void arm_schedule_timer();
  void arm_watchdog();
  void maybe_finish();

  SharedRun& shared_;
  asio::io_context io_{1};
  asio::steady_timer schedule_timer_, watchdog_;
  std::vector<std::unique_ptr<Connection>> connections_;
  RunStats stats_;
  Clock::time_point last_completion_{};
  size_t next_request_ = 0;
  int in_flight_ = 0;  // connections that hold a job (or rest after a connect error)
  bool out_of_jobs_ = false, finished_ = false, stopping_ = false;
  // Open loop.
  bool open_loop_ = false, timer_armed_ = false;
  double interval_ns_ = 0;
  Clock::time_point origin_;
  uint64_t next_k_ = 0, recorded_scheduled_ = 0, open_loop_requests_ = 0;
  std::vector<Connection*> idle_;
};

}  // namespace inferd::loadgen
