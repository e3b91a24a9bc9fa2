// Where a request is on its way through the server (decoder queue, decode, batching):
// the stages set it as the request moves on, and the deadline timer names it in its 504.
#pragma once

#include <atomic>

namespace inferd {

struct RequestStage {
  std::atomic<const char*> name{"waiting to be served"};  // a string literal, never freed
  void set(const char* stage) { name.store(stage, std::memory_order_relaxed); }
};

}  // namespace inferd
