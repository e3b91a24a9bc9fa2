// `inferd build MODEL [-o out.plan] [--backend cpu|cuda|auto] [--precision P] [--report] [--profile]`
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <map>
#include <memory>
#include <set>

#include "backends/api/registry.h"
#include "builder/builder.h"
#include "cli/args.h"
#include "cli/calibration_flags.h"
#include "cli/commands.h"
#include "core/file.h"
#include "core/log.h"
#include "ir/printer.h"
#include "runtime/engine.h"
#include "runtime/memory_planner.h"
#include "runtime/model_config.h"
#include "runtime/random_input.h"

namespace inferd::cli {
namespace {

void print_report(const BuildResult& r, const Backend& backend, std::ostream& os) {
  os << "import: " << r.imported_nodes << " nodes in " << r.import_ms << " ms\n";
  os << "pass                          nodes before -> after   ms\n";
  for (const auto& p : r.passes) {
    char line[160];
    std::snprintf(line, sizeof line, "%-30s %6zu -> %-6zu %8.2f\n", p.pass.c_str(), p.nodes_before, p.nodes_after,
                  p.ms);
    os << line;
    for (const auto& c : p.changes) os << "    " << c << "\n";
  }
  const auto& g = r.plan.graph;
  for (int64_t batch : {int64_t{1}, int64_t{r.plan.header.max_batch}}) {
    const auto mem = plan_memory(g, batch, [&backend](const ir::Graph& gr, const ir::Node& n, size_t k) {
      return backend.may_overwrite_input(gr, n, k);
    });
    char line[200];
    std::snprintf(line, sizeof line, "activation memory at batch %lld: planned %.2f MiB, naive %.2f MiB (%.1fx less)\n",
                  static_cast<long long>(batch), mem.arena_bytes / 1048576.0, mem.naive_bytes / 1048576.0,
                  mem.arena_bytes ? static_cast<double>(mem.naive_bytes) / static_cast<double>(mem.arena_bytes) : 0.0);
    os << line;
  }
}

// What a kernel computes, named the way the GPU Inference Engine's profile names fused
// layers: "3x3 CBR" (convolution + bias + ReLU), "1x1 CB+add" (with a residual), "FC BR",
// "1x1 CBR6+Q" (its output rounded onto an INT8 grid: output_quantization_fusion);
// a merged convolution (horizontal_conv_fusion, concat_conv_merge) lists what it merged,
// "1x1 CBR (a||b||c)".
std::string kernel_label(const ir::Graph& g, const ir::Node& n) {
  if (n.op != ir::OpKind::kConv && n.op != ir::OpKind::kGemm) return std::string(ir::to_string(n.op));
  std::string label;
  if (n.op == ir::OpKind::kConv) {
    const auto& w = g.value(n.inputs[1]).shape;
    label = w.size() == 4 ? std::to_string(w[2]) + "x" + std::to_string(w[3]) + " C" : "C";
  } else {
    label = "FC ";
  }
  if (n.inputs.size() > 2 && n.inputs[2] != ir::kNoValue) label += "B";
  const std::string act = n.attrs.get_string("activation", "");
  if (act == "Relu")
    label += "R";
  else if (act == "Clip")
    label += "R6";
  else if (!act.empty())
    label += "+" + act;
  if (n.op == ir::OpKind::kConv && n.inputs.size() > 3 && n.inputs[3] != ir::kNoValue) label += "+add";
  if (n.attrs.has("output_scale")) label += "+Q";  // the output rounded onto an INT8 grid
  if (n.attrs.has("merged")) label += " (" + n.attrs.get_string("merged", "") + ")";
  return label;
}

// Where the time goes by op and library ("Conv cudnn-graph:conv", "Slice cuda:slice", ...),
// largest first.
void print_profile_by_implementation(const Engine& engine, const std::vector<double>& median, double total,
                                     std::ostream& os) {
  std::map<std::string, std::pair<double, int>> by_impl;
  for (size_t i = 0; i < median.size(); ++i) {
    const std::string_view impl = engine.packed_op(i).implementation();
    auto& entry = by_impl[std::string(ir::to_string(engine.graph().nodes()[i].op)) + " " +
                          std::string(impl.substr(0, impl.find(' ')))];
    entry.first += median[i];
    entry.second += 1;
  }
  std::vector<std::pair<std::string, std::pair<double, int>>> rows(by_impl.begin(), by_impl.end());
  std::sort(rows.begin(), rows.end(), [](const auto& a, const auto& b) { return a.second.first > b.second.first; });
  os << "by op and library:\n";
  for (const auto& [impl, entry] : rows) {
    char line[256];
    std::snprintf(line, sizeof line, "  %8.3f ms %5.1f%%  %3d x %s\n", entry.first,
                  total > 0 ? 100.0 * entry.first / total : 0.0, entry.second, impl.c_str());
    os << line;
  }
}

// Runs the engine on a random input of `batch` images and prints per-layer times (median
// of runs): batch 1 shows latency, the plan's max batch where throughput goes.
Status print_profile(const Plan& plan, std::shared_ptr<const Backend> backend, int batch, std::ostream& os) {
  ASSIGN_OR_RETURN(auto engine, Engine::create(plan, std::move(backend)));
  ASSIGN_OR_RETURN(auto ctx, engine->create_context());
  fill_random_input(*ctx, batch);
  ctx->set_profiling(true);
  const auto& nodes = engine->graph().nodes();
  std::vector<std::vector<double>> times(nodes.size());
  for (int run = 0; run < 11; ++run) {
    RETURN_IF_ERROR(ctx->execute(batch));
    if (run == 0) continue;  // warm-up: primitive creation, caches
    for (size_t i = 0; i < nodes.size(); ++i) times[i].push_back(ctx->node_times_ms()[i]);
  }
  double total = 0;
  std::vector<double> median(nodes.size());
  for (size_t i = 0; i < nodes.size(); ++i) {
    std::sort(times[i].begin(), times[i].end());
    median[i] = times[i][times[i].size() / 2];
    total += median[i];
  }
  os << "per-kernel time at batch " << batch << " on " << engine->device().name() << " (median of 10 runs):\n";
  for (size_t i = 0; i < nodes.size(); ++i) {
    char line[512];
    std::snprintf(line, sizeof line, "  %8.3f ms %5.1f%%  %-32s %-28s %s\n", median[i],
                  total > 0 ? 100.0 * median[i] / total : 0.0, nodes[i].name.c_str(),
                  kernel_label(engine->graph(), nodes[i]).c_str(),
                  std::string(engine->packed_op(i).implementation()).c_str());
    os << line;
  }
  os << "  total " << total << " ms in " << nodes.size() << " kernels\n";
  print_profile_by_implementation(*engine, median, total, os);
  return Status::ok();
}

}  // namespace

int build_command(const Argv& argv) {
  Args args;
  args.flag("o", "output plan path (default: MODEL with .plan)", "");
  args.flag("weights", "the .caffemodel of a Caffe MODEL (deploy.prototxt)", "");
  args.flag("backend", "cpu | cuda | auto (cuda when a GPU is present)", "auto");
  args.flag("gpu", "the GPU to build (and time algorithms) on, for --backend cuda", "0");
  args.flag(
      "precision",
      "fp32 | tf32 | fp16 | bf16 | int8 | fp8 (tf32, fp16 and bf16 need cuda; int8 and fp8 need --calibration and "
      "run the layers they leave float in fp32 on the cpu, fp16 on cuda; fp8 rounds each layer's input and weights "
      "to E4M3 and computes in float; --calibration with another precision uses that one)",
      "fp32");
  args.flag("max-batch", "largest batch the plan runs (dynamic-batch models)", "32");
  args.flag("threads", "CPU threads for --profile (0 = all cores)", "0");
  args.flag("max-nodes", "refuse models with more nodes (0 = no limit)",
            std::to_string(BuildOptions::kDefaultMaxNodes));
  args.flag("disable-pass", "comma-separated passes to leave out (to measure what one buys)", "");
  args.flag("int8-layers",
            "INT8: timed (a layer stays float where that runs faster here) | all (default: the "
            "folder's quantization.int8_layers, else timed)",
            "");
  add_calibration_flags(args, "the plan's path + .calib");
  args.toggle("report", "print node counts per pass, fused groups, memory plan, calibrated activations");
  args.toggle("profile", "run the plan and print per-layer times");
  args.flag("profile-batch", "the batch size --profile runs (at most --max-batch)", "1");
  args.toggle("print-graph", "print the optimized graph");
  args.toggle("help", "show this help");
  const char* usage = "inferd build MODEL [options]";
  if (Status s = args.parse(argv); !s.is_ok()) return fail(s.message() + "\n" + args.help(usage), 2);
  if (args.on("help")) return std::cout << args.help(usage), 0;
  if (args.positional().size() != 1) return fail("build needs exactly one MODEL\n" + args.help(usage), 2);
  auto max_batch = args.get_int("max-batch", 1, 4096);
  auto threads = args.get_int("threads", 0, 1024);
  auto max_nodes = args.get_int("max-nodes", 0, 1 << 30);
  if (!max_nodes.is_ok()) return fail(max_nodes.status().message(), 2);
  auto gpu = args.get_int("gpu", 0, 1024);
  if (!gpu.is_ok()) return fail(gpu.status().message(), 2);
  if (!max_batch.is_ok()) return fail(max_batch.status().message(), 2);
  auto profile_batch = args.get_int("profile-batch", 1, *max_batch);
  if (!profile_batch.is_ok()) return fail(profile_batch.status().message(), 2);
  if (!threads.is_ok()) return fail(threads.status().message(), 2);

  // A model folder builds its versioned model file; a file builds itself.
  auto folder = load_model(args.positional()[0], "");
  if (!folder.is_ok()) return fail(folder.status().message());
  const std::string model = folder->model_path;
  auto backend = create_backend(args.get("backend"), {*threads, *gpu});
  if (!backend.is_ok()) return fail(backend.status().message());
  const auto start = std::chrono::steady_clock::now();
  BuildOptions options(*max_batch, args.get("precision"));
  options.max_nodes = static_cast<size_t>(*max_nodes);
  options.weights_path = args.get("weights").empty() ? folder->weights_path : args.get("weights");
  for (size_t pos = 0; !args.get("disable-pass").empty() && pos <= args.get("disable-pass").size();) {
    const std::string list = args.get("disable-pass");
    const size_t comma = std::min(list.find(',', pos), list.size());
    options.disabled_passes.push_back(list.substr(pos, comma - pos));
    pos = comma + 1;
  }
  std::string out = args.get("o");
  if (out.empty()) out = model.substr(0, model.rfind('.')) + ".plan";
  // --precision int8: the calibrated quantization in the graph (docs/quantization.md), and
  // the backend's best float precision where a layer runs float (fp32 on the CPU, fp16 on a GPU).
  const bool fp8 = options.precision == "fp8", int8 = options.precision == "int8" || fp8;
  if (int8) options.precision = int8_float_precision(**backend);
  if (int8 || !args.get("calibration").empty() || !args.get("calibration-cache").empty()) {
    auto table = calibration_from_flags(args, *folder, out + ".calib", fp8);
    if (!table.is_ok()) return fail(table.status().message());
    options.calibration = std::move(table).value();
    const auto& pinned = folder->config.quantization.float_layers;
    options.float_layers = std::set<std::string>(pinned.begin(), pinned.end());
    const std::string layers =
        args.get("int8-layers").empty() ? folder->config.quantization.int8_layers : args.get("int8-layers");
    if (layers != "timed" && layers != "all") return fail("--int8-layers takes timed or all, not '" + layers + "'", 2);
    options.time_int8_layers = layers == "timed";
  }
  auto result = build_plan(model, **backend, options);
  if (!result.is_ok()) return fail(result.status().message());
  const double build_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();

  if (Status s = save_plan(result->plan, out); !s.is_ok()) return fail(s.message());
  if (args.on("report")) print_report(*result, **backend, std::cout);
  if (args.on("report") && !result->calibration.empty()) {
    std::cout << (fp8 ? "FP8" : "INT8") << " calibration (" << options.calibration->method << "), "
              << result->calibration.size() << " activations:\n";
    for (const std::string& line : result->calibration) std::cout << "  " << line << "\n";
  }
  if (args.on("print-graph")) std::cout << ir::print_graph(result->plan.graph);
  if (args.on("profile")) {
    if (Status s = print_profile(result->plan, *backend, *profile_batch, std::cout); !s.is_ok())
      return fail(s.message());
  }
  std::cout << "wrote " << out << " (" << result->plan.graph.nodes().size() << " nodes, " << result->plan.header.backend
            << " " << result->plan.header.precision << " for " << result->plan.header.target << ", built in "
            << build_ms << " ms, of which tuning " << result->tune_ms << " ms)\n";
  return 0;
}

int info_command(const Argv& argv) {
  Args args;
  args.toggle("print-graph", "print the graph too");
  if (Status s = args.parse(argv); !s.is_ok() || args.positional().size() != 1)
    return fail("usage: inferd info PLAN [--print-graph]", 2);
  auto plan = load_plan(args.positional()[0]);
  if (!plan.is_ok()) return fail(plan.status().message());
  std::cout << describe_plan(*plan);
  // What this machine can run it on: a plan runs on a device whose target it matches.
  for (const auto& name : registered_backends())
    for (const auto& d : backend_devices(name))
      std::cout << "device " << name << ":" << d.index << " " << d.name << " (" << d.target
                << (d.memory_bytes ? ", " + std::to_string(d.memory_bytes >> 20) + " MiB" : std::string()) << ")\n";
  if (args.on("print-graph")) std::cout << ir::print_graph(plan->graph);
  return 0;
}

int fail(const std::string& message, int code) {
  std::cerr << "inferd: " << message << "\n";
  return code;
}

}  // namespace inferd::cli
