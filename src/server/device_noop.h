// What /v1/noop?device=1 runs: one empty kernel on GPU 0, launched and waited for (the GPU
// REST Engine's empty-kernel server). Beside /v1/noop (HTTP alone) it shows what a round
// trip to the GPU adds before any model runs.
//
// The CUDA backend is created on the first request, not at start-up, so that a server
// that never gets such a request pays nothing for it. Threading: run() may be called from
// any thread; each call takes a stream from a pool (made on demand) so calls overlap.
#pragma once

#include <memory>
#include <mutex>
#include <vector>

#include "backends/api/backend.h"
#include "backends/api/device.h"
#include "core/status.h"

namespace inferd {

class DeviceNoop {
 public:
  // kUnimplemented when this binary has no CUDA backend or the machine no GPU (the
  // endpoint answers 501 then); a launch or synchronization failure otherwise.
  Status run();

 private:
  Result<std::unique_ptr<Stream>> take_stream();

  std::mutex mutex_;
  bool opened_ = false;  // guarded by mutex_: the backend was asked for (once)
  Status open_status_;   // guarded by mutex_: why there is no backend
  std::shared_ptr<const Backend> backend_;
  std::vector<std::unique_ptr<Stream>> idle_;  // guarded by mutex_
};

}  // namespace inferd
