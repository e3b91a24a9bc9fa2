#include "support/test_util.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <random>

namespace inferd::test {

ir::Attributes fake_quantize_attrs(float scale, int64_t zero_point, int64_t qmin, int64_t qmax) {
  ir::Attributes a;
  a.set("scale", scale);
  a.set("zero_point", zero_point);
  a.set("qmin", qmin);
  a.set("qmax", qmax);
  return a;
}

Tensor random_tensor(const Shape& shape, uint32_t seed, float lo, float hi) {
  Tensor t(DataType::kFloat32, shape);
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(lo, hi);
  for (float& v : t.floats()) v = dist(rng);
  return t;
}

std::string assets_dir() {
  if (const char* env = std::getenv("INFERD_ASSETS"); env && *env) return env;
  return INFERD_ASSETS_DEFAULT;
}

// $INFERD_SOURCE_DIR lets a test binary run from another checkout (the GPU machine).
std::string source_dir() {
  if (const char* env = std::getenv("INFERD_SOURCE_DIR"); env && *env) return env;
  return INFERD_SOURCE_DIR;
}

void release_fifo_reader(const std::string& fifo) {
  // O_NONBLOCK: succeeds only while a reader has the pipe open (or waits in open()).
  const int writer = ::open(fifo.c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC);
  if (writer >= 0) ::close(writer);
}

std::string asset_path(const std::string& relative) { return assets_dir() + "/" + relative; }

std::string missing_assets(const std::vector<std::string>& relative_paths) {
  std::vector<std::string> missing;
  for (const auto& relative : relative_paths) {
    std::error_code ec;  // an unreadable path counts as missing rather than throwing
    if (!std::filesystem::exists(asset_path(relative), ec)) missing.push_back(relative);
  }
  if (missing.empty()) return "";
  // A long table (the ImageNet sample) would bury the advice: name the first few only.
  constexpr size_t kNamed = 5;
  std::string names;
  for (size_t i = 0; i < missing.size() && i < kNamed; ++i) names += (i ? ", " : "") + missing[i];
  if (missing.size() > kNamed) names += " and " + std::to_string(missing.size() - kNamed) + " more";
  return "shared assets missing from " + assets_dir() + ": " + names +
         " (they come from ../shared/assets, which a bare clone lacks; set INFERD_ASSETS to "
         "that folder to run this test)";
}

Diff compare(const Tensor& actual, const Tensor& expected) {
  Diff d;
  if (actual.size() != expected.size()) {
    d.max_abs = d.max_rel = INFINITY;
    return d;
  }
  auto a = actual.floats();
  auto b = expected.floats();
  for (size_t i = 0; i < a.size(); ++i) {
    const float err = std::fabs(a[i] - b[i]);
    if (std::isnan(a[i]) != std::isnan(b[i])) return {INFINITY, INFINITY};
    d.max_abs = std::max(d.max_abs, err);
    d.max_rel = std::max(d.max_rel, err / std::max(std::fabs(b[i]), 1e-3f));
  }
  return d;
}

bool sanitized_build() {
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
  return true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
  return true;
#else
  return false;
#endif
#else
  return false;
#endif
}

}  // namespace inferd::test
