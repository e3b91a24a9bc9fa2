// The progress line of a long run on a terminal: rewritten in place on stderr about
// once a second ("\r12 s  123456 done  12345 req/s  0 errors"), erased when the run
// ends. The caller decides whether to show it (a TTY, not --quiet).
//
// Threading: its own thread reads the LiveCounters; the destructor stops and joins it.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <string>
#include <thread>

#include "loadgen/load_run.h"

namespace inferd::loadgen {

class ProgressLine {
 public:
  // `warmup`: how long the run warms up first (shown as such); `label` prefixes the line.
  ProgressLine(const LiveCounters& live, std::FILE* out, std::chrono::nanoseconds warmup, std::string label);
  ~ProgressLine();
  ProgressLine(const ProgressLine&) = delete;
  ProgressLine& operator=(const ProgressLine&) = delete;

  // The text for one tick, public for tests.
  static std::string line(const std::string& label, double elapsed_s, bool warming_up, uint64_t done, double rate,
                          uint64_t errors);

 private:
  void loop();

  const LiveCounters& live_;
  std::FILE* out_;
  std::chrono::nanoseconds warmup_;
  std::string label_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace inferd::loadgen
