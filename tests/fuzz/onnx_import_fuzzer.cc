// Fuzzes the path of an untrusted model file through the server: import_onnx_bytes (what
// import_onnx calls on the file's bytes: protobuf parse, op conversion, topological sort,
// shape inference), then, for models that import, what `inferd serve` does next:
// optimize_graph on the CPU backend (every pass, constant folding with the reference
// kernels), the plan cache's write and read back (serialize_plan, deserialize_plan),
// Engine::create, create_context (arenas up to 256 MiB) and, for small models (arenas up
// to 4 MiB), one batch through the kernels. External data paths are resolved against an
// empty folder, so the path checks run but no file is ever read.
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "builder/builder.h"
#include "fuzz_common.h"
#include "fuzz_engine.h"
#include "import/onnx/onnx_importer.h"
#include "plan/plan.h"

namespace {

// An empty folder for external data lookups, made once per process and removed at exit
// (the string is never destroyed: the exit handler still reads it).
const std::string& model_dir() {
  static const std::string* dir = [] {
    auto path = std::filesystem::temp_directory_path() / ("inferd-fuzz-onnx-" + std::to_string(getpid()));
    std::filesystem::create_directories(path);
    std::atexit([] {
      std::error_code ignored;
      std::filesystem::remove_all(model_dir(), ignored);
    });
    return new std::string(path.string());
  }();
  return *dir;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  inferd::fuzz::quiet_logs();
  inferd::fuzz::cpu_backend();
  model_dir();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto graph = inferd::import_onnx_bytes(inferd::fuzz::bytes_of(data, size), "fuzz.onnx", model_dir());
  if (!graph.is_ok()) {
    FUZZ_CHECK(graph.status().message().rfind("fuzz.onnx", 0) == 0, graph.status().message());
    return 0;
  }
  inferd::BuildOptions options;  // the defaults `inferd serve` builds with: max batch 32, fp32
  auto built = inferd::optimize_graph(std::move(graph).value(), *inferd::fuzz::cpu_backend(), options);
  if (!built.is_ok()) return 0;
  // The server caches the plan it builds and loads that file from then on: every plan
  // the builder writes must read back (the reader re-checks it as untrusted input).
  const std::vector<uint8_t> plan_bytes = inferd::serialize_plan(built->plan);
  auto plan = inferd::deserialize_plan(plan_bytes, "fuzz.plan");
  FUZZ_CHECK(plan.is_ok(), plan.status().message());
  auto engine = inferd::Engine::create(std::move(plan).value(), inferd::fuzz::cpu_backend());
  if (engine.is_ok()) inferd::fuzz::exercise(**engine);
  return 0;
}
