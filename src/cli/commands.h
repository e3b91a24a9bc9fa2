// The `inferd` subcommands. Each parses its own flags and returns the exit code.
#pragma once

#include <string>
#include <vector>

namespace inferd::cli {

using Argv = std::vector<std::string>;

int build_command(const Argv& args);
int quantize_command(const Argv& args);  // `inferd quantize MODEL -o OUT.onnx` (Q/DQ export)
int classify_command(const Argv& args);
int info_command(const Argv& args);
int serve_command(const Argv& args);
int bench_command(const Argv& args);         // `inferd bench URL` (the HTTP load generator)
int engine_bench_command(const Argv& args);  // `inferd bench --engine MODEL`
int decode_bench_command(const Argv& args);  // `inferd bench --decode DIR`

// Prints "inferd: <message>" to stderr and returns 1 (or 2 for usage errors).
int fail(const std::string& message, int code = 1);

}  // namespace inferd::cli
