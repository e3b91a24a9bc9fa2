// `inferd bench URL [options]`: the HTTP load generator (src/loadgen), and
// `inferd bench --engine MODEL`, the engine alone (bench_engine_command.cc).
// This file only turns flags into a LoadSpec, runs it and prints the reports.
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <boost/json.hpp>
#include <charconv>
#include <csignal>
#include <cstdio>
#include <iostream>
#include <memory>

#include "cli/args.h"
#include "cli/commands.h"
#include "loadgen/load_run.h"
#include "loadgen/preflight.h"
#include "loadgen/progress.h"
#include "loadgen/report.h"
#include "loadgen/request_builder.h"
#include "loadgen/sweep.h"

namespace inferd::cli {
namespace {

using namespace inferd::loadgen;

constexpr const char* kUsage =
    "inferd bench URL [-n N | -z DURATION] [-c N] [--rate R] [-m METHOD] [-D FILE | --images DIR]\n"
    "                 [--mode raw|classify|kserve-binary|kserve-json] [-H 'Name: value']... [--sweep 1,2,4,...]\n"
    "                 [--p99-budget-ms B] [--json | --csv]\n"
    "       inferd bench --engine MODEL [...]   (the engine alone, no HTTP)\n"
    "       inferd bench --decode DIR [...]     (JPEG decode + preprocess alone: CPU and GPU decoders)\n"
    "Single-letter options take one dash or two (-n 1000, --n=1000); -H may repeat.";

void declare_flags(Args& args) {
  args.flag("n", "measured requests (instead of -z)", "");
  args.flag("z", "measured duration, e.g. 30s, 500ms, 2m (default 10s when -n is not given)", "");
  args.flag("c", "connections, each with one request in flight at a time", "8");
  args.flag("threads", "event-loop threads", "1");
  args.flag("rate", "open loop: requests/s on a constant schedule, latency from the scheduled time (0 = closed loop)",
            "0");
  args.flag("warmup", "load before the measurement, not recorded", "0s");
  args.flag("timeout", "per request: no complete response in this time is a timeout error", "30s");
  args.flag("connect-timeout", "per connection attempt", "5s");
  args.flag("m", "HTTP method (default GET without a body, POST with one)", "");
  args.flag("D", "request body from this file", "");
  args.flag("images", "request bodies from every *.jpg/*.jpeg/*.png of this folder, round-robin", "");
  args.flag("T", "Content-Type of a raw body", "application/octet-stream");
  args.flag("mode", "body: raw | classify | kserve-binary | kserve-json", "raw");
  args.flag("input-name", "KServe input name (default: from the model's metadata, else 'image')", "");
  args.flag("output-name", "KServe output name (default: from the model's metadata)", "");
  args.flag("classification", "KServe: ask for the top-k classes (0 = the whole output tensor)", "5");
  args.flag("sweep", "concurrency levels, e.g. 1,2,4,8,16: one run per level", "");
  args.flag("p99-budget-ms", "sweep: stop at the first level whose p99 exceeds this", "");
  args.flag("name", "the run's name in --json and --csv", "run");
  args.toggle("json", "one JSON object per run or sweep level");
  args.toggle("csv", "CSV: a header, then one row per run or sweep level");
  args.toggle("quiet", "no progress line");
  args.toggle("help", "show this help");
}

// -H / --header may repeat, which Args does not do: take them out first.
Result<std::vector<Header>> take_headers(Argv& argv) {
  std::vector<Header> headers;
  for (size_t i = 0; i < argv.size();) {
    const std::string& a = argv[i];
    if (a != "-H" && a != "--H" && a != "--header") {
      ++i;
      continue;
    }
    if (i + 1 >= argv.size()) return invalid_argument("option " + a + " needs a value, 'Name: value'");
    ASSIGN_OR_RETURN(Header h, parse_header(argv[i + 1]));
    headers.push_back(std::move(h));
    argv.erase(argv.begin() + static_cast<ptrdiff_t>(i), argv.begin() + static_cast<ptrdiff_t>(i) + 2);
  }
  return headers;
}

Result<double> get_double(const Args& args, const std::string& name, double min, double max) {
  const std::string& s = args.get(name);
  double v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || !(v >= min && v <= max))
    return invalid_argument("--" + name + " must be a number in " + std::to_string(min) + ".." + std::to_string(max) +
                            ", got '" + s + "'");
  return v;
}

Result<std::chrono::nanoseconds> get_duration(const Args& args, const std::string& name) {
  auto d = parse_duration(args.get(name));
  if (!d.is_ok()) return d.status().with_context("--" + name);
  return d;
}

Status load_schedule(const Args& args, LoadSpec& spec) {
  ASSIGN_OR_RETURN(spec.connections, args.get_int("c", 1, 100000));
  ASSIGN_OR_RETURN(spec.threads, args.get_int("threads", 1, 256));
  ASSIGN_OR_RETURN(spec.rate, get_double(args, "rate", 0, 1e7));
  ASSIGN_OR_RETURN(spec.warmup, get_duration(args, "warmup"));
  ASSIGN_OR_RETURN(spec.timeout, get_duration(args, "timeout"));
  ASSIGN_OR_RETURN(spec.connect_timeout, get_duration(args, "connect-timeout"));
  if (spec.timeout.count() == 0 || spec.connect_timeout.count() == 0)
    return invalid_argument("--timeout and --connect-timeout must be longer than 0");
  if (!args.get("n").empty() && !args.get("z").empty()) return invalid_argument("give -n or -z, not both");
  if (!args.get("n").empty()) {
    ASSIGN_OR_RETURN(int n, args.get_int("n", 1, 2000000000));
    spec.total_requests = static_cast<uint64_t>(n);
  } else {
    ASSIGN_OR_RETURN(spec.duration, parse_duration(args.get("z").empty() ? "10s" : args.get("z")));
    if (spec.duration.count() == 0) return invalid_argument("-z must be longer than 0");
  }
  return Status::ok();
}

// Fills in the KServe input and output names the user did not give, from
// GET /v2/models/NAME[/versions/V] (the infer URL without "/infer").
Status complete_kserve_names(const Url& url, std::chrono::nanoseconds timeout, RequestOptions& o) {
  const bool need_output = o.output_name.empty() && o.classification > 0;
  if (!need_output && !o.input_name.empty()) return Status::ok();
  Url metadata_url = url;
  metadata_url.target = url.target.substr(0, url.target.find('?'));
  const std::string suffix = "/infer";
  const bool is_infer = metadata_url.target.size() > suffix.size() && metadata_url.target.ends_with(suffix);
  metadata_url.target.resize(metadata_url.target.size() - (is_infer ? suffix.size() : 0));
  auto doc = is_infer ? fetch(metadata_url, timeout)
                      : Result<FetchedDocument>(invalid_argument("the URL does not end in /infer"));
  std::string input, output, why = doc.is_ok() ? "" : doc.status().message();
  if (doc.is_ok()) {
    boost::system::error_code ec;
    const boost::json::value v = boost::json::parse(doc->body, ec);
    const auto name_of = [&](const char* list) -> std::string {
      const auto* items = v.is_object() ? v.as_object().if_contains(list) : nullptr;
      if (!items || !items->is_array() || items->as_array().empty() || !items->as_array()[0].is_object()) return "";
      const auto* name = items->as_array()[0].as_object().if_contains("name");
      return name && name->is_string() ? std::string(name->as_string()) : "";
    };
    if (!ec) input = name_of("inputs"), output = name_of("outputs");
    if (doc->status != 200 || output.empty())
      why = "GET " + metadata_url.str() + " answered " + std::to_string(doc->status) + " without outputs[0].name";
  }
  if (o.input_name.empty()) o.input_name = input.empty() ? "image" : input;
  if (need_output && output.empty())
    return failed_precondition("cannot find the model's output name (" + why +
                               "): give --output-name, or --classification 0");
  if (need_output) o.output_name = output;
  return Status::ok();
}

Result<RequestOptions> request_options(const Args& args, const Url& url, std::vector<Header> headers) {
  RequestOptions o;
  o.method = args.get("m");
  if (!o.method.empty() && o.method.find_first_of(" \t\r\n") != std::string::npos)
    return invalid_argument("-m '" + o.method + "' is not an HTTP method");
  o.headers = std::move(headers);
  o.content_type = args.get("T");
  ASSIGN_OR_RETURN(o.mode, parse_body_mode(args.get("mode")));
  o.input_name = args.get("input-name");
  o.output_name = args.get("output-name");
  ASSIGN_OR_RETURN(o.classification, args.get_int("classification", 0, 1000));
  if (o.mode == BodyMode::kKserveBinary || o.mode == BodyMode::kKserveJson) {
    ASSIGN_OR_RETURN(auto timeout, get_duration(args, "connect-timeout"));
    RETURN_IF_ERROR(complete_kserve_names(url, timeout, o));
  }
  return o;
}

Result<std::vector<BodyFile>> bodies(const Args& args) {
  if (!args.get("D").empty() && !args.get("images").empty()) return invalid_argument("give -D or --images, not both");
  if (!args.get("images").empty()) return read_image_dir(args.get("images"));
  if (args.get("D").empty()) return std::vector<BodyFile>{};
  ASSIGN_OR_RETURN(BodyFile f, read_body_file(args.get("D")));
  return std::vector<BodyFile>{std::move(f)};
}

// Each connection is a file descriptor: raise the soft limit to what the run needs (up to
// the hard limit) rather than meet "Too many open files" in the middle of it.
Status ensure_descriptors(int connections) {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return Status::ok();
  const auto needed = static_cast<rlim_t>(connections) + 64;
  if (limit.rlim_cur >= needed) return Status::ok();
  limit.rlim_cur = std::min(needed, limit.rlim_max);
  if (setrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur < needed)
    return failed_precondition(std::to_string(connections) + " connections need about " + std::to_string(needed) +
                               " open files, but the limit is " + std::to_string(limit.rlim_cur) +
                               " (raise it with ulimit -n)");
  return Status::ok();
}

struct Plan {
  LoadSpec spec;
  RunReport label;
  std::vector<int> sweep;
  double p99_budget_ms = 0;
};

Result<Plan> make_plan(const Args& args, std::vector<Header> headers) {
  if (args.positional().size() != 1)
    return invalid_argument(std::string("bench takes one URL\nusage: ") + kUsage +
                            "\nRun `inferd bench --help` for every option.");
  Plan plan;
  ASSIGN_OR_RETURN(plan.spec.url, parse_url(args.positional()[0]));
  RETURN_IF_ERROR(load_schedule(args, plan.spec));
  if (!args.get("sweep").empty()) {
    ASSIGN_OR_RETURN(plan.sweep, parse_int_list(args.get("sweep")));
    if (plan.spec.rate > 0) return invalid_argument("--sweep varies connections in closed loop; drop --rate");
  }
  if (!args.get("p99-budget-ms").empty()) {
    if (plan.sweep.empty()) return invalid_argument("--p99-budget-ms applies to a --sweep");
    ASSIGN_OR_RETURN(plan.p99_budget_ms, get_double(args, "p99-budget-ms", 1e-3, 1e7));
  }
  if (args.on("json") && args.on("csv")) return invalid_argument("give --json or --csv, not both");
  RETURN_IF_ERROR(ensure_descriptors(plan.sweep.empty() ? plan.spec.connections : plan.sweep.back()));
  ASSIGN_OR_RETURN(std::vector<BodyFile> files, bodies(args));
  ASSIGN_OR_RETURN(RequestOptions options, request_options(args, plan.spec.url, std::move(headers)));
  ASSIGN_OR_RETURN(plan.spec.requests, build_requests(plan.spec.url, options, files));
  plan.label = {args.get("name"),
                plan.spec.url.str(),
                to_string(options.mode),
                options.method.empty() ? (files.empty() ? "GET" : "POST") : options.method,
                plan.spec.connections,
                plan.spec.rate,
                {},
                std::nullopt};
  return plan;
}

void print_report(const Args& args, const RunReport& report, bool sweeping) {
  if (args.on("json")) {
    std::cout << format_json(report) << std::endl;
  } else if (args.on("csv")) {
    std::cout << format_csv(report) << std::endl;
  } else {
    std::cout << (sweeping ? format_sweep_row(report) + "\n" : format_summary(report)) << std::flush;
  }
}

std::unique_ptr<ProgressLine> progress_line(const Args& args, const LiveCounters& live, const LoadSpec& spec) {
  if (args.on("quiet") || !isatty(STDERR_FILENO)) return nullptr;
  return std::make_unique<ProgressLine>(live, stderr, spec.warmup, "");
}

// Ctrl-C ends the run early and still prints what was measured (as hey does); a second
// Ctrl-C kills at once.
std::atomic<bool>* g_stop = nullptr;

extern "C" void on_interrupt(int) {
  if (g_stop) g_stop->store(true);
  std::signal(SIGINT, SIG_DFL);
}

class InterruptStops {
 public:
  explicit InterruptStops(LiveCounters& live) {
    g_stop = &live.stop;
    std::signal(SIGINT, on_interrupt);
  }
  ~InterruptStops() {
    std::signal(SIGINT, SIG_DFL);
    g_stop = nullptr;
  }
};

// 0 when some request got an answer; 1 when every one failed (a dead server).
int exit_code(const RunStats& stats) {
  return stats.requests > 0 && stats.responses() == 0 ? 1 : 0;
}

int run_single(const Args& args, const Plan& plan) {
  LiveCounters live;
  InterruptStops interrupt(live);
  Result<RunStats> stats = [&] {
    auto progress = progress_line(args, live, plan.spec);
    return run_load(plan.spec, &live);
  }();
  if (!stats.is_ok()) return fail(stats.status().message());
  if (live.stop) std::cerr << "inferd: interrupted; the report covers the requests sent until then" << std::endl;
  RunReport report = plan.label;
  report.stats = std::move(stats).value();
  print_report(args, report, false);
  return exit_code(report.stats);
}

int run_sweep_levels(const Args& args, const Plan& plan) {
  if (!args.on("json") && !args.on("csv")) {
    std::cout << plan.label.method << " " << plan.label.url << "  (" << plan.label.mode << ", closed-loop sweep)\n"
              << sweep_table_header() << std::endl;
  }
  LiveCounters live;
  InterruptStops interrupt(live);
  auto outcome = [&] {
    auto progress = progress_line(args, live, plan.spec);
    return run_sweep(
        plan.spec, plan.label, plan.sweep, plan.p99_budget_ms, [&](const RunReport& r) { print_report(args, r, true); },
        &live);
  }();
  if (!outcome.is_ok()) return fail(outcome.status().message());
  if (live.stop) std::cerr << "inferd: interrupted; the sweep ends at its last level" << std::endl;
  if (args.on("json")) {
    std::cout << format_sweep_conclusion_json(*outcome) << std::endl;
  } else if (!args.on("csv")) {
    std::cout << format_sweep_conclusion(*outcome) << std::endl;
  }
  return exit_code(outcome->levels.back().stats);
}

bool wants_mode(const Argv& argv, const std::string& flag) {
  return std::any_of(argv.begin(), argv.end(),
                     [&](const std::string& a) { return a == flag || a.starts_with(flag + "="); });
}

}  // namespace

int bench_command(const Argv& argv_in) {
  if (wants_mode(argv_in, "--engine")) return engine_bench_command(argv_in);
  if (wants_mode(argv_in, "--decode")) return decode_bench_command(argv_in);
  Args args;
  declare_flags(args);
  Argv argv = argv_in;
  auto headers = take_headers(argv);
  if (!headers.is_ok()) return fail(headers.status().message() + "\n" + args.help(kUsage), 2);
  if (Status s = args.parse(argv); !s.is_ok()) return fail(s.message() + "\n" + args.help(kUsage), 2);
  if (args.on("help")) return std::cout << args.help(kUsage), 0;
  auto plan = make_plan(args, std::move(headers).value());
  if (!plan.is_ok()) {
    const StatusCode code = plan.status().code();
    const bool usage = code == StatusCode::kInvalidArgument || code == StatusCode::kUnimplemented;
    return fail(plan.status().message(), usage ? 2 : 1);
  }
  if (args.on("csv")) std::cout << csv_header() << "\n";
  return plan->sweep.empty() ? run_single(args, *plan) : run_sweep_levels(args, *plan);
}

}  // namespace inferd::cli
