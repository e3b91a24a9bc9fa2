#include "core/log.h"

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <ctime>

namespace inferd {
namespace {
std::atomic<int> g_level{static_cast<int>(LogLevel::kWarn)};

const char* level_name(LogLevel l) {
  switch (l) {
    case LogLevel::kDebug: return "debug";
    case LogLevel::kInfo: return "info";
    case LogLevel::kWarn: return "warn";
    case LogLevel::kError: return "error";
  }
  return "?";
}

bool needs_quotes(const std::string& v) {
  if (v.empty()) return true;
  for (char c : v)
    if (c == ' ' || c == '"' || c == '=' || c == '\n') return true;
  return false;
}
}  // namespace

void set_log_level(LogLevel level) { g_level = static_cast<int>(level); }
LogLevel log_level() { return static_cast<LogLevel>(g_level.load()); }

LogLine::LogLine(LogLevel level, std::string_view event)
    : enabled_(static_cast<int>(level) >= g_level.load()) {
  if (!enabled_) return;
  const auto now = std::chrono::system_clock::now();
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
  line_ = "ts=" + std::to_string(ms / 1000) + "." + std::to_string(1000 + ms % 1000).substr(1);
  line_ += " level=";
  line_ += level_name(level);
  line_ += " event=";
  line_ += event;
}

void LogLine::append(std::string_view key, const std::string& value) {
  line_ += ' ';
  line_ += key;
  line_ += '=';
  if (!needs_quotes(value)) {
    line_ += value;
    return;
  }
  line_ += '"';
  for (char c : value) {
    if (c == '"' || c == '\\') line_ += '\\';
    line_ += (c == '\n' ? ' ' : c);
  }
  line_ += '"';
}

LogLine::~LogLine() {
  if (!enabled_) return;
  line_ += '\n';
  // One write() so that lines from different threads never interleave.
  [[maybe_unused]] auto n = ::write(2, line_.data(), line_.size());
}

}  // namespace inferd
