// Hostile bytes: random mutations of valid models must give an error or a graph, never
// a crash (a smoke test ahead of the libFuzzer harness; run it under ASan/UBSan too).
#include <gtest/gtest.h>

#include <random>

#include "core/file.h"
#include "core/log.h"
#include "import/onnx/onnx_importer.h"
#include "import/onnx_model_builder.h"
#include "support/test_util.h"

namespace inferd {
namespace {

using test::OnnxModelBuilder;
using test::set_attr;
using Ints = std::vector<int64_t>;

// Several ops and every kind of attribute and initializer, so mutations reach them all.
std::vector<uint8_t> varied_model() {
  OnnxModelBuilder b(13);
  b.input("x", {-1, 3, 8, 8});
  b.weight("w", {4, 3, 3, 3});
  auto& conv = b.node("Conv", {"x", "w"}, {"c"}, "conv");
  set_attr(conv, "auto_pad", std::string("SAME_UPPER"));
  set_attr(conv, "strides", Ints{2, 2});
  b.node("Relu", {"c"}, {"r"});
  auto& pool = b.node("MaxPool", {"r"}, {"p"});
  set_attr(pool, "kernel_shape", Ints{2, 2});
  set_attr(pool, "ceil_mode", int64_t{1});
  set_attr(b.node("Concat", {"p", "p"}, {"cat"}), "axis", int64_t{1});
  b.ints("shape", {0, -1});
  b.node("Reshape", {"cat", "shape"}, {"flat"});
  b.weight("fc", {5, 72});  // 8 channels x 3x3 (2x2 pool, stride 1, on 4x4)
  set_attr(b.node("Gemm", {"flat", "fc"}, {"g"}), "transB", int64_t{1});
  b.ints("axes", {2});
  b.node("Unsqueeze", {"g", "axes"}, {"u"});
  b.node("Softmax", {"u"}, {"y"});
  b.output("y");
  auto g = b.import();
  EXPECT_TRUE(g.is_ok()) << g.status().message();  // the unmutated model is valid
  return b.bytes();
}

void mutate(std::vector<uint8_t>& bytes, std::mt19937& rng) {
  std::uniform_int_distribution<size_t> pos(0, bytes.size() - 1);
  switch (rng() % 4) {
    case 0: bytes[pos(rng)] ^= static_cast<uint8_t>(1u << (rng() % 8)); break;
    case 1: bytes[pos(rng)] = static_cast<uint8_t>(rng()); break;
    case 2: bytes.resize(pos(rng)); break;
    default: {  // a varint field value turned into a big or negative number
      const size_t p = pos(rng);
      for (size_t i = p; i < std::min(bytes.size(), p + 4); ++i) bytes[i] = 0xff;
      break;
    }
  }
}

// Keeps thousands of successful imports from logging a line each.
class QuietLogs {
 public:
  QuietLogs() : saved_(log_level()) { set_log_level(LogLevel::kError); }
  ~QuietLogs() { set_log_level(saved_); }

 private:
  LogLevel saved_;
};

size_t run_mutations(const std::vector<uint8_t>& original, int iterations, uint32_t seed) {
  const QuietLogs quiet;
  std::mt19937 rng(seed);
  size_t imported = 0;
  for (int i = 0; i < iterations; ++i) {
    std::vector<uint8_t> bytes = original;
    const int edits = 1 + static_cast<int>(rng() % 3);
    for (int e = 0; e < edits && !bytes.empty(); ++e) mutate(bytes, rng);
    auto g = import_onnx_bytes(bytes, "mutated.onnx", "");
    if (g.is_ok()) {
      ++imported;
    } else {
      EXPECT_EQ(g.status().message().rfind("mutated.onnx: ", 0), 0u) << g.status().message();
    }
  }
  return imported;
}

TEST(OnnxMutation, SmallModelNeverCrashes) {
  const auto original = varied_model();
  const size_t imported = run_mutations(original, 3000, 7);
  // Some mutations only touch names or float values: both outcomes must occur.
  EXPECT_GT(imported, 0u);
  EXPECT_LT(imported, 3000u);
}

TEST(OnnxMutation, SqueezeNetNeverCrashes) {
  // The repository's model (the assets' squeezenet1.1_fp32_dynbatch_opset13.onnx), so this
  // runs from a bare clone too.
  auto bytes = read_file(test::source_dir() + "/models/squeezenet/1/model.onnx");
  ASSERT_TRUE(bytes.is_ok()) << bytes.status().message();
  run_mutations(*bytes, 40, 11);
}

}  // namespace
}  // namespace inferd
