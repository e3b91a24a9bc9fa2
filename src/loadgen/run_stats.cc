#include "loadgen/run_stats.h"

namespace inferd::loadgen {

const char* to_string(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::kConnect:
      return "connect";
    case ErrorKind::kTimeout:
      return "timeout";
    case ErrorKind::kReset:
      return "reset";
    case ErrorKind::kParse:
      return "parse";
    case ErrorKind::kOther:
      return "other";
  }
  return "other";
}

RunStats::RunStats() : status(1000, 0) {}

void RunStats::add_response(int code, uint64_t latency_ns) {
  ++requests;
  ++status[code >= 0 && code < 1000 ? code : 0];
  latency.record(latency_ns);
}

void RunStats::add_error(ErrorKind kind, const std::string& message) {
  ++requests;
  const auto k = static_cast<size_t>(kind);
  if (errors[k]++ == 0) first_error[k] = message;
}

void RunStats::merge(const RunStats& other) {
  requests += other.requests;
  for (size_t i = 0; i < status.size(); ++i) status[i] += other.status[i];
  for (size_t k = 0; k < kErrorKinds; ++k) {
    if (errors[k] == 0 && other.errors[k] != 0) first_error[k] = other.first_error[k];
    errors[k] += other.errors[k];
  }
  reconnects += other.reconnects;
  late_starts += other.late_starts;
  bytes_out += other.bytes_out;
  bytes_in += other.bytes_in;
  latency.merge(other.latency);
}

uint64_t RunStats::error_count() const {
  uint64_t n = 0;
  for (uint64_t e : errors) n += e;
  return n;
}

uint64_t RunStats::status_class(int hundreds) const {
  uint64_t n = 0;
  for (int code = hundreds * 100; code < hundreds * 100 + 100 && code < 1000; ++code) n += status[code];
  return n;
}

}  // namespace inferd::loadgen
