// Small helpers shared by tests: seeded random tensors (never zeros), asset paths,
// and comparisons with a tolerance.
#pragma once

#include <chrono>
#include <cstdint>
#include <future>
#include <string>
#include <vector>

#include "core/tensor.h"
#include "ir/graph.h"

namespace inferd::test {

// Uniform in [lo, hi) from a fixed seed; the same seed gives the same tensor.
Tensor random_tensor(const Shape& shape, uint32_t seed, float lo = -1.0f, float hi = 1.0f);

// A FakeQuantize node's attributes: x / scale rounded half to even, plus zero_point,
// saturated to [qmin, qmax], then back to float.
ir::Attributes fake_quantize_attrs(float scale, int64_t zero_point, int64_t qmin, int64_t qmax);

// $INFERD_ASSETS, else the build-time default (../shared/assets).
std::string assets_dir();
std::string source_dir();  // the repository root

// True in the ASan/UBSan and TSan builds (scripts/sanitize.sh), whose code runs several
// times slower: timing bounds written for the product build get slack there.
bool sanitized_build();

// Opens the named pipe `fifo` for writing and closes it again, which lets a reader blocked
// in open() on it go on (no-op when no reader waits).
void release_fifo_reader(const std::string& fifo);

// Runs `read` (code that is given the named pipe `fifo` as a file) and says in *in_time
// whether it returned within `limit`. Opening a FIFO for reading waits for a writer: if
// `read` is stuck there, the pipe is released until it lets go, so that a test of that
// bug fails instead of hanging.
template <typename Read>
auto run_against_fifo(const std::string& fifo, std::chrono::milliseconds limit, Read read, bool* in_time) {
  auto running = std::async(std::launch::async, read);
  *in_time = running.wait_for(limit) == std::future_status::ready;
  while (running.wait_for(std::chrono::milliseconds(10)) != std::future_status::ready) release_fifo_reader(fifo);
  return running.get();
}

// assets_dir() + "/" + relative.
std::string asset_path(const std::string& relative);

// The shared assets are not in the repository, and the README promises that the test
// command passes from a bare clone. So a test that needs them checks first and skips,
// never fails or crashes on a missing file:
//   if (auto missing = test::missing_assets({"images/winml/fish.png"}); !missing.empty())
//     GTEST_SKIP() << missing;
// Returns "" when every file (or folder) is there, else a message naming the missing ones
// and where they come from. Prefer a file the repository carries (models/squeezenet,
// images/1.jpg..5.jpg) where any such file would do, so the test still runs.
std::string missing_assets(const std::vector<std::string>& relative_paths);

struct Diff {
  float max_abs = 0;  // max |a - b|
  float max_rel = 0;  // max |a - b| / max(|b|, 1e-3)
};
Diff compare(const Tensor& actual, const Tensor& expected);

}  // namespace inferd::test
