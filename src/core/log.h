// One line per event, key=value pairs: `ts=... level=info event=plan_built model=... ms=12.3`.
#pragma once

#include <sstream>
#include <string>
#include <string_view>

namespace inferd {

enum class LogLevel { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3 };

void set_log_level(LogLevel level);
LogLevel log_level();

// Builds one log line; written to stderr (atomically, one write) when destroyed.
class LogLine {
 public:
  LogLine(LogLevel level, std::string_view event);
  ~LogLine();
  LogLine(const LogLine&) = delete;
  LogLine& operator=(const LogLine&) = delete;

  template <typename T>
  LogLine& kv(std::string_view key, const T& value) {
    if (enabled_) {
      std::ostringstream os;
      os << value;
      append(key, os.str());
    }
    return *this;
  }

 private:
  void append(std::string_view key, const std::string& value);
  bool enabled_;
  std::string line_;
};

inline LogLine log_info(std::string_view event) { return LogLine(LogLevel::kInfo, event); }
inline LogLine log_debug(std::string_view event) { return LogLine(LogLevel::kDebug, event); }
inline LogLine log_warn(std::string_view event) { return LogLine(LogLevel::kWarn, event); }
inline LogLine log_error(std::string_view event) { return LogLine(LogLevel::kError, event); }

}  // namespace inferd
