// `inferd bench --engine MODEL`: the engine alone, no HTTP: a batch-size sweep with latency
// percentiles, images/s, and power (RAPL on the CPU when its counters are readable) for
// images/s/W. Output as a table, JSON lines (--json) or CSV (--csv).
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <sstream>
#include <thread>

#include "backends/api/registry.h"
#include "builder/builder.h"
#include "cli/args.h"
#include "cli/commands.h"
#include "core/json.h"
#include "core/log.h"
#include "runtime/engine_benchmark.h"
#include "runtime/model_config.h"

namespace inferd::cli {
namespace {

using Clock = std::chrono::steady_clock;
double ms_since(Clock::time_point t) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t).count();
}

Result<std::vector<int>> parse_batches(const std::string& list) {
  std::vector<int> out;
  std::stringstream ss(list);
  for (std::string item; std::getline(ss, item, ',');) {
    char* end = nullptr;
    const long b = std::strtol(item.c_str(), &end, 10);
    if (item.empty() || *end != '\0' || b < 1 || b > 65536) {
      return invalid_argument("--batch: '" + item + "' is not a batch size (1..65536) in '" + list + "'");
    }
    out.push_back(static_cast<int>(b));
  }
  if (out.empty()) return invalid_argument("--batch: empty list");
  return out;
}

// The engine as a server would load it: the plan is built (timed), saved and loaded back
// (timed: what a restart with a cached plan costs). A .plan file is only loaded.
struct LoadedEngine {
  std::shared_ptr<const Engine> engine;
  double build_ms = 0, plan_load_ms = 0;
};

Result<LoadedEngine> load_engine(const std::string& model_path, std::shared_ptr<const Backend> backend, int max_batch,
                                 const std::string& precision) {
  LoadedEngine out;
  std::string plan_path = model_path;
  const bool is_plan = model_path.size() > 5 && model_path.ends_with(".plan");
  if (!is_plan) {
    const auto start = Clock::now();
    ASSIGN_OR_RETURN(BuildResult built, build_plan(model_path, *backend, {max_batch, precision}));
    out.build_ms = ms_since(start);
    char tmp[] = "/tmp/inferd-bench-XXXXXX";
    const int fd = mkstemp(tmp);
    if (fd < 0) return internal_error("cannot create a temporary plan file in /tmp");
    close(fd);
    plan_path = tmp;
    RETURN_IF_ERROR(save_plan(built.plan, plan_path));
  }
  const auto start = Clock::now();
  auto plan = load_plan(plan_path);
  if (!is_plan) std::remove(plan_path.c_str());
  if (!plan.is_ok()) return plan.status();
  ASSIGN_OR_RETURN(out.engine, Engine::create(std::move(plan).value(), std::move(backend)));
  out.plan_load_ms = ms_since(start);
  return out;
}

std::string optional_number(const std::optional<double>& v, const char* format) {
  if (!v) return "";
  char buf[32];
  std::snprintf(buf, sizeof buf, format, *v);
  return buf;
}

void print_row(const std::string& model, const LoadedEngine& e, int threads, const BatchTiming& t, bool json,
               bool csv) {
  const std::string watts = optional_number(t.watts, "%.1f");
  const std::string per_watt = t.joules_per_image ? optional_number(1.0 / *t.joules_per_image, "%.2f") : "";
  char line[512];
  if (json) {
    std::snprintf(line, sizeof line,
                  "{\"model\":%s,\"batch\":%d,\"threads\":%d,\"runs\":%d,\"median_ms\":%.3f,\"p90_ms\":%.3f,"
                  "\"p99_ms\":%.3f,\"min_ms\":%.3f,\"images_per_s\":%.1f,\"watts\":%s,\"images_per_joule\":%s,"
                  "\"build_ms\":%.1f,\"plan_load_ms\":%.1f,\"nodes\":%zu,\"arena_mib\":%.2f,\"device\":%s}\n",
                  json_quote(model).c_str(), t.batch, threads, t.runs, t.median_ms, t.p90_ms, t.p99_ms, t.min_ms,
                  t.images_per_s, watts.empty() ? "null" : watts.c_str(), per_watt.empty() ? "null" : per_watt.c_str(),
                  e.build_ms, e.plan_load_ms, e.engine->graph().nodes().size(),
                  static_cast<double>(e.engine->memory_plan().arena_bytes) / 1048576.0,
                  json_quote(e.engine->device().name()).c_str());
  } else if (csv) {
    std::snprintf(line, sizeof line, "%d,%d,%.3f,%.3f,%.3f,%.1f,%s,%s\n", t.batch, t.runs, t.median_ms, t.p90_ms,
                  t.p99_ms, t.images_per_s, watts.c_str(), per_watt.c_str());
  } else {
    std::snprintf(line, sizeof line, "%6d %6d %10.3f %10.3f %10.3f %10.3f %12.1f %8s %10s\n", t.batch, t.runs,
                  t.median_ms, t.p90_ms, t.p99_ms, t.median_ms / t.batch, t.images_per_s,
                  watts.empty() ? "-" : watts.c_str(), per_watt.empty() ? "-" : per_watt.c_str());
  }
  std::cout << line << std::flush;
}

}  // namespace

int engine_bench_command(const Argv& argv) {
  Args args;
  args.toggle("engine", "benchmark the engine alone (no HTTP)");
  args.flag("batch", "comma-separated batch sizes", "1,2,4,8,16,32,64,128,256");
  args.flag("threads", "CPU threads (0 = all cores)", "0");
  args.flag("backend", "cpu | cuda | auto (cuda when a GPU is present)", "cpu");
  args.flag("gpu", "the GPU to run on, for --backend cuda", "0");
  args.flag("precision", "fp32 | tf32 | fp16 | bf16 (a model file is built with it)", "fp32");
  args.flag("min-seconds", "timed seconds per batch size, at least", "1");
  args.flag("min-runs", "timed runs per batch size, at least", "5");
  args.flag("powercap", "where the RAPL energy counters are (CPU)", "/sys/class/powercap");
  args.toggle("no-power", "do not read energy counters");
  args.toggle("json", "one JSON object per batch size per line");
  args.toggle("csv", "CSV with a header line");
  args.toggle("help", "show this help");
  const char* usage = "inferd bench --engine MODEL [options]   (MODEL: folder, .onnx or .plan)";
  if (Status s = args.parse(argv); !s.is_ok()) return fail(s.message() + "\n" + args.help(usage), 2);
  if (args.on("help")) return std::cout << args.help(usage), 0;
  if (args.positional().size() != 1) return fail("bench --engine needs exactly one MODEL\n" + args.help(usage), 2);
  auto batches = parse_batches(args.get("batch"));
  auto threads = args.get_int("threads", 0, 1024);
  auto gpu = args.get_int("gpu", 0, 1024);
  if (!gpu.is_ok()) return fail(gpu.status().message(), 2);
  auto min_runs = args.get_int("min-runs", 1, 1000000);
  const double min_seconds = std::atof(args.get("min-seconds").c_str());
  for (const Status& s : {batches.status(), threads.status(), min_runs.status()}) {
    if (!s.is_ok()) return fail(s.message(), 2);
  }
  if (!(min_seconds >= 0)) return fail("--min-seconds must be a number >= 0", 2);

  auto folder = load_model(args.positional()[0], "");
  const std::string model_path = folder.is_ok() ? folder->model_path : args.positional()[0];
  auto backend = create_backend(args.get("backend"), {*threads, *gpu});
  if (!backend.is_ok()) return fail(backend.status().message());
  const int max_batch = *std::max_element(batches->begin(), batches->end());
  auto engine = load_engine(model_path, *backend, max_batch, args.get("precision"));
  if (!engine.is_ok()) return fail(model_path + ": " + engine.status().message());
  auto ctx = engine->engine->create_context();
  if (!ctx.is_ok()) return fail(ctx.status().message());

  std::unique_ptr<EnergyMeter> meter;
  if (!args.on("no-power")) {
    // The CPU's RAPL counters (their folder may be overridden), or the GPU's board energy.
    auto opened = (*backend)->device().working_memory() == MemoryKind::kHost ? open_rapl_meter(args.get("powercap"))
                                                                             : (*backend)->device().open_energy_meter();
    if (opened.is_ok())
      meter = std::move(opened).value();
    else
      std::cerr << "inferd: power not measured: " << opened.status().message() << "\n";
  }
  const bool json = args.on("json"), csv = args.on("csv");
  if (csv) std::cout << "batch,runs,median_ms,p90_ms,p99_ms,images_per_s,watts,images_per_joule\n";
  if (!json && !csv) {
    std::printf("%s: build %.0f ms, plan load %.0f ms, %zu nodes, power: %s\n", model_path.c_str(), engine->build_ms,
                engine->plan_load_ms, engine->engine->graph().nodes().size(),
                meter ? meter->name().c_str() : "not measured");
    std::printf("%6s %6s %10s %10s %10s %10s %12s %8s %10s\n", "batch", "runs", "p50 ms", "p90 ms", "p99 ms",
                "ms/image", "images/s", "watts", "images/J");
  }
  const int resolved_threads = *threads > 0 ? *threads : static_cast<int>(std::thread::hardware_concurrency());
  const BatchTimingOptions options{3, *min_runs, min_seconds};
  for (int batch : *batches) {
    auto timing = time_batch(**ctx, batch, options, meter.get());
    if (!timing.is_ok()) return fail(model_path + ": " + timing.status().message());
    print_row(model_path, *engine, resolved_threads, *timing, json, csv);
  }
  return 0;
}

}  // namespace inferd::cli
