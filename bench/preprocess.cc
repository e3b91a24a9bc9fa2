// bench_preprocess: where the image side of a /classify request spends its time, per
// image: the header probe, the JPEG decode alone, and the whole decode + resize + crop +
// normalise path the server runs (image::decode_and_preprocess), for each file given.
// Each figure is the median of --runs timed runs after two warm-up runs.
//
// Usage: bench_preprocess [--runs N] [--resize R --size S] IMAGE...
#include "image/preprocess.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "core/file.h"
#include "image/decode.h"

namespace {

double median_us(int runs, const std::function<void()>& fn) {
  fn();
  fn();
  std::vector<double> us;
  for (int i = 0; i < runs; ++i) {
    const auto start = std::chrono::steady_clock::now();
    fn();
    us.push_back(std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start).count());
  }
  std::nth_element(us.begin(), us.begin() + runs / 2, us.end());
  return us[static_cast<size_t>(runs / 2)];
}

[[noreturn]] void usage() {
  std::fprintf(stderr, "usage: bench_preprocess [--runs N] [--resize R] [--size S] IMAGE...\n");
  std::exit(2);
}

}  // namespace

int main(int argc, char** argv) {
  int runs = 200;
  inferd::image::PreprocessConfig cfg;
  std::vector<std::string> files;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    const bool has_value = i + 1 < argc;
    if (arg == "--runs" && has_value)
      runs = std::max(1, std::atoi(argv[++i]));
    else if (arg == "--resize" && has_value)
      cfg.resize = std::atoi(argv[++i]);
    else if (arg == "--size" && has_value)
      cfg.width = cfg.height = std::atoi(argv[++i]);
    else if (arg.rfind("--", 0) == 0)
      usage();
    else
      files.push_back(arg);
  }
  if (files.empty()) usage();
  std::vector<float> out(size_t(3) * cfg.width * cfg.height);
  for (const std::string& file : files) {
    auto bytes = inferd::read_file(file);
    if (!bytes.is_ok()) {
      std::fprintf(stderr, "%s\n", bytes.status().message().c_str());
      return 1;
    }
    const std::span<const uint8_t> data(*bytes);
    auto info = inferd::image::probe_image(data);
    if (!info.is_ok()) {
      std::fprintf(stderr, "%s: %s\n", file.c_str(), info.status().message().c_str());
      return 1;
    }
    const double probe = median_us(runs, [&] { (void)inferd::image::probe_image(data); });
    const double decode = median_us(runs, [&] { (void)inferd::image::decode_image(data); });
    const double whole = median_us(runs, [&] { (void)inferd::image::decode_and_preprocess(data, cfg, 0, out.data()); });
    std::printf(
        "{\"image\":\"%s\",\"width\":%d,\"height\":%d,\"resize\":%d,\"size\":%d,\"probe_us\":%.1f,"
        "\"decode_us\":%.1f,\"decode_and_preprocess_us\":%.1f}\n",
        file.c_str(), info->width, info->height, cfg.resize, cfg.width, probe, decode, whole);
  }
  return 0;
}
