// Small helpers shared by tests: seeded random tensors (never zeros), asset paths,
// and comparisons with a tolerance.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/tensor.h"

namespace inferd::test {

// Uniform in [lo, hi) from a fixed seed; the same seed gives the same tensor.
Tensor random_tensor(const Shape& shape, uint32_t seed, float lo = -1.0f, float hi = 1.0f);

// $INFERD_ASSETS, else the build-time default (../shared/assets).
std::string assets_dir();
std::string source_dir();  // the repository root

// True in the ASan/UBSan and TSan builds (scripts/sanitize.sh), whose code runs several
// times slower: timing bounds written for the product build get slack there.
bool sanitized_build();

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
