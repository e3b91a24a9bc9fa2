// What every libFuzzer harness in tests/fuzz shares: quiet logging and a check that
// turns a broken invariant into a crash the fuzzer records (asserts may be compiled out).
#pragma once

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <span>
#include <string>

#include "core/log.h"

namespace inferd::fuzz {

// Info lines (one per imported model, per engine...) would drown libFuzzer's own output
// and cost most of each run; errors stay visible.
inline void quiet_logs() {
  set_log_level(LogLevel::kError);
}

[[noreturn]] inline void fail(const char* what, const std::string& detail) {
  std::fprintf(stderr, "fuzz invariant broken: %s: %s\n", what, detail.c_str());
  std::abort();
}

inline std::span<const uint8_t> bytes_of(const uint8_t* data, size_t size) {
  return {data, size};
}

}  // namespace inferd::fuzz

#define FUZZ_CHECK(cond, detail)                        \
  do {                                                  \
    if (!(cond)) ::inferd::fuzz::fail(#cond, (detail)); \
  } while (0)
