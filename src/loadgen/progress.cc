#include "loadgen/progress.h"

namespace inferd::loadgen {

ProgressLine::ProgressLine(const LiveCounters& live, std::FILE* out, std::chrono::nanoseconds warmup, std::string label)
    : live_(live), out_(out), warmup_(warmup), label_(std::move(label)), thread_([this] { loop(); }) {}

ProgressLine::~ProgressLine() {
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

std::string ProgressLine::line(const std::string& label, double elapsed_s, bool warming_up, uint64_t done, double rate,
                               uint64_t errors) {
  char buf[256];
  if (warming_up) {
    std::snprintf(buf, sizeof buf, "%s%.0f s  warming up", label.c_str(), elapsed_s);
  } else {
    std::snprintf(buf, sizeof buf, "%s%.0f s  %llu done  %.0f req/s  %llu errors", label.c_str(), elapsed_s,
                  static_cast<unsigned long long>(done), rate, static_cast<unsigned long long>(errors));
  }
  return buf;
}

void ProgressLine::loop() {
  const auto start = std::chrono::steady_clock::now();
  auto last_time = start;
  uint64_t last_done = 0;
  std::unique_lock lock(mutex_);
  while (!wake_.wait_for(lock, std::chrono::seconds(1), [this] { return stop_; })) {
    const auto now = std::chrono::steady_clock::now();
    const uint64_t done = live_.done.load(std::memory_order_relaxed);
    if (done < last_done) last_done = 0;  // the counters were reset (the next sweep level)
    const double dt = std::chrono::duration<double>(now - last_time).count();
    const double rate = dt > 0 ? static_cast<double>(done - last_done) / dt : 0;
    const std::string text = line(label_, std::chrono::duration<double>(now - start).count(), now - start < warmup_,
                                  done, rate, live_.errors.load(std::memory_order_relaxed));
    std::fprintf(out_, "\r\x1b[2K%s", text.c_str());  // ESC[2K erases the previous, longer line
    std::fflush(out_);
    last_time = now;
    last_done = done;
  }
  std::fputs("\r\x1b[2K", out_);
  std::fflush(out_);
}

}  // namespace inferd::loadgen
