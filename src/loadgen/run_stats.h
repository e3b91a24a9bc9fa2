// What one load run measured. Every request the run started is counted exactly once:
// either as a response (with its status code and latency) or as an error of one kind.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "loadgen/histogram.h"

namespace inferd::loadgen {

enum class ErrorKind {
  kConnect,  // the TCP connection could not be opened (refused, unreachable, connect timeout)
  kTimeout,  // no complete response within --timeout
  kReset,    // the server reset or closed the connection before the response was complete
  kParse,    // the response is not valid HTTP/1.1
  kOther,    // any other socket error
};
inline constexpr size_t kErrorKinds = 5;
const char* to_string(ErrorKind kind);  // "connect", "timeout", "reset", "parse", "other"

struct RunStats {
  uint64_t requests = 0;         // responses + errors
  std::vector<uint64_t> status;  // count per status code 0..999
  std::array<uint64_t, kErrorKinds> errors{};
  std::array<std::string, kErrorKinds> first_error;  // the first message of each kind
  uint64_t reconnects = 0;               // connections opened again after the server or an error closed them
  uint64_t late_starts = 0;              // open loop: requests sent more than kLateStartNs after their intended time
  uint64_t bytes_out = 0, bytes_in = 0;  // request and response bytes on the wire
  LatencyHistogram latency;              // responses only (errors have no meaningful latency)
  double duration_s = 0;                 // from the end of the warm-up to the last completion

  RunStats();
  void add_response(int code, uint64_t latency_ns);
  void add_error(ErrorKind kind, const std::string& message);
  void merge(const RunStats& other);

  uint64_t responses() const { return latency.count(); }
  uint64_t error_count() const;
  uint64_t status_class(int hundreds) const;  // 2 -> the 2xx count
  uint64_t failures() const { return error_count() + responses() - status_class(2); }
  double rps() const { return duration_s > 0 ? static_cast<double>(requests) / duration_s : 0; }
};

// A request that starts more than this after its scheduled time is "late" (open loop).
inline constexpr int64_t kLateStartNs = 1'000'000;

}  // namespace inferd::loadgen
