#include "support/ort_oracle.h"

#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/file.h"
#include "support/test_util.h"

namespace inferd::test {

namespace {

std::string& temp_dir_path() {
  static std::string dir;
  return dir;
}

pid_t& temp_dir_owner() {
  static pid_t owner = 0;
  return owner;
}

// At exit, the process that made the directory removes it (a forked child exiting is not
// that process); INFERD_KEEP_TEST_FILES=1 keeps it to look at. Without this every test run
// left one directory per test binary in /tmp.
void remove_temp_dir() {
  if (::getpid() != temp_dir_owner() || std::getenv("INFERD_KEEP_TEST_FILES") != nullptr) return;
  std::error_code ec;  // no exception at exit: what cannot be removed stays
  std::filesystem::remove_all(temp_dir_path(), ec);
}

}  // namespace

std::string temp_dir() {
  static const std::string dir = [] {
    auto d = std::filesystem::temp_directory_path() / ("inferd-test-" + std::to_string(::getpid()));
    // A directory of this name is a dead process's (PIDs are reused): start empty, or its
    // files fail tests that create theirs (a sanitizer run's symlink already existing).
    std::filesystem::remove_all(d);
    std::filesystem::create_directories(d);
    temp_dir_path() = d.string();
    temp_dir_owner() = ::getpid();
    std::atexit(remove_temp_dir);
    return d.string();
  }();
  return dir;
}

Result<Tensor> run_onnx_runtime(const std::string& model_path, const Tensor& input, const std::string& optimization) {
  const std::string script = source_dir() + "/tools/ort/run_model.js";
  if (!std::filesystem::exists(source_dir() + "/tools/ort/node_modules/onnxruntime-node"))
    return failed_precondition("onnxruntime-node is not installed: run scripts/setup.sh");
  if (std::system("node --version > /dev/null 2>&1") != 0)
    return failed_precondition("node is not installed: run scripts/setup.sh");
  static int counter = 0;
  const std::string stem = temp_dir() + "/ort" + std::to_string(counter++);
  const std::string in_path = stem + ".in.bin", out_path = stem + ".out.bin";
  RETURN_IF_ERROR(write_file(in_path, {reinterpret_cast<const uint8_t*>(input.raw()), input.byte_size()}));
  std::string dims;
  for (auto d : input.shape()) dims += (dims.empty() ? "" : ",") + std::to_string(d);
  const std::string cmd = "node '" + script + "' '" + model_path + "' '" + in_path + "' " + dims + " '" + out_path +
                          "' --threads 2 --optimization " + optimization + " > '" + stem + ".json'";
  if (std::system(cmd.c_str()) != 0) return internal_error("ONNX Runtime failed: " + cmd);
  ASSIGN_OR_RETURN(auto meta, read_text_file(stem + ".json"));
  ASSIGN_OR_RETURN(auto bytes, read_file(out_path));
  // The output's element count is all we need: callers know its shape.
  Tensor out(DataType::kFloat32, {static_cast<int64_t>(bytes.size() / sizeof(float))});
  std::memcpy(out.raw(), bytes.data(), out.byte_size());
  return out;
}

}  // namespace inferd::test
