// bench_engine_cpu MODEL.onnx [--batch 1,8,32] [--threads N] [--min-seconds S]
// Prints one JSON line per batch size: build, plan save/load and engine-create
// times, median/p90 latency and images/s. bench/engine_cpu.sh runs it next to
// ONNX Runtime and writes docs/benchmarks.md.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <string>
#include <vector>

#include "backends/cpu/cpu_backend.h"
#include "builder/builder.h"
#include "runtime/engine.h"
#include "runtime/random_input.h"

namespace {

using Clock = std::chrono::steady_clock;
double ms_since(Clock::time_point t) { return std::chrono::duration<double, std::milli>(Clock::now() - t).count(); }

std::vector<int> parse_list(const std::string& s) {
  std::vector<int> out;
  std::stringstream ss(s);
  for (std::string item; std::getline(ss, item, ',');) out.push_back(std::stoi(item));
  return out;
}

struct Timing {
  double median_ms, p90_ms;
};

Timing time_batch(inferd::ExecutionContext& ctx, int batch, double min_seconds) {
  inferd::fill_random_input(ctx, batch);
  for (int i = 0; i < 3; ++i) (void)ctx.execute(batch);  // warm-up: primitives, caches
  std::vector<double> times;
  const auto start = Clock::now();
  while (times.size() < 10 || ms_since(start) < min_seconds * 1000) {
    const auto t = Clock::now();
    if (!ctx.execute(batch).is_ok()) std::exit(1);
    times.push_back(ms_since(t));
  }
  std::sort(times.begin(), times.end());
  return {times[times.size() / 2], times[times.size() * 9 / 10]};
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: bench_engine_cpu MODEL.onnx [--batch 1,8,32] [--threads N] [--min-seconds S]\n");
    return 2;
  }
  std::string model = argv[1], batches = "1,8,32";
  int threads = 0;
  double min_seconds = 2;
  for (int i = 2; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--batch") batches = argv[i + 1];
    else if (flag == "--threads") threads = std::atoi(argv[i + 1]);
    else if (flag == "--min-seconds") min_seconds = std::atof(argv[i + 1]);
  }
  const auto sizes = parse_list(batches);
  std::shared_ptr<const inferd::Backend> backend = inferd::cpu::make_cpu_backend({threads});

  auto t = Clock::now();
  auto built = inferd::build_plan(model, *backend, {*std::max_element(sizes.begin(), sizes.end()), "fp32"});
  if (!built.is_ok()) return std::fprintf(stderr, "%s\n", built.status().message().c_str()), 1;
  const double build_ms = ms_since(t);
  const std::string plan_path = model + ".bench.plan";
  if (!inferd::save_plan(built->plan, plan_path).is_ok()) return 1;

  t = Clock::now();
  auto plan = inferd::load_plan(plan_path);
  if (!plan.is_ok()) return std::fprintf(stderr, "%s\n", plan.status().message().c_str()), 1;
  auto engine = inferd::Engine::create(std::move(plan).value(), backend);
  if (!engine.is_ok()) return std::fprintf(stderr, "%s\n", engine.status().message().c_str()), 1;
  auto ctx = (*engine)->create_context();
  if (!ctx.is_ok()) return 1;
  const double load_ms = ms_since(t);
  std::remove(plan_path.c_str());

  for (int batch : sizes) {
    const auto timing = time_batch(**ctx, batch, min_seconds);
    std::printf("{\"model\":\"%s\",\"batch\":%d,\"threads\":%d,\"median_ms\":%.3f,\"p90_ms\":%.3f,"
                "\"images_per_s\":%.1f,\"build_ms\":%.1f,\"plan_load_ms\":%.1f,\"nodes\":%zu,\"arena_mib\":%.2f}\n",
                model.c_str(), batch, threads, timing.median_ms, timing.p90_ms, 1000.0 * batch / timing.median_ms,
                build_ms, load_ms, (*engine)->graph().nodes().size(),
                (*engine)->memory_plan().arena_bytes / 1048576.0);
    std::fflush(stdout);
  }
  return 0;
}
