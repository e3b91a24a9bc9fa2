// `inferd`: wires subcommands to library code; no logic lives here.
#include <cstdio>
#include <cstring>
#include <string>

#include "cli/commands.h"

namespace {

constexpr const char* kUsage =
    "usage: inferd <command> [options]\n"
    "commands:\n"
    "  build MODEL [-o out.plan] [--backend cpu|cuda] [--precision fp16] [--report] [--profile]\n"
    "                                                                    optimize a model into a plan\n"
    "  quantize MODEL -o OUT.onnx --calibration DIR                      write an INT8 calibration as an ONNX Q/DQ model\n"
    "  classify MODEL IMAGE... [--top k] [--json]                        classify images without a server\n"
    "  info PLAN                                                         describe a plan\n"
    "  serve (--model-repository DIR | MODEL) [--host H] [--port P]      HTTP server: /classify, KServe v2, /metrics\n"
    "  bench URL [-c N] [-n N | -z 10s] [--rate R] [--sweep 1,2,4]       HTTP load generator (--engine MODEL: engine "
    "alone; --decode DIR: JPEG decoders alone)\n"
    "Run `inferd <command> --help` for the options of one command.\n";

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || !std::strcmp(argv[1], "--help") || !std::strcmp(argv[1], "-h")) {
    std::fputs(kUsage, argc < 2 ? stderr : stdout);
    return argc < 2 ? 2 : 0;
  }
  const std::string command = argv[1];
  const inferd::cli::Argv args(argv + 2, argv + argc);
  if (command == "build") return inferd::cli::build_command(args);
  if (command == "quantize") return inferd::cli::quantize_command(args);
  if (command == "classify") return inferd::cli::classify_command(args);
  if (command == "info") return inferd::cli::info_command(args);
  if (command == "serve") return inferd::cli::serve_command(args);
  if (command == "bench") return inferd::cli::bench_command(args);
  return inferd::cli::fail("unknown command '" + command + "'\n" + kUsage, 2);
}
