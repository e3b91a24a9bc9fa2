// A model folder served in INT8 (config.toml: [instances] precision = "int8" and
// [quantization] calibration = FILE, float_layers = [...]): the server and `inferd classify`
// build it with the folder's calibration table and pinned layers, as `inferd build
// --precision int8` does. Uses the bundled SqueezeNet and the calibration table kept in
// tests/model/data (data/README.md).
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>

#include "core/file.h"
#include "server/classifier.h"
#include "support/test_util.h"

namespace inferd {
namespace {

namespace fs = std::filesystem;

// The bundled SqueezeNet copied to a temp folder, config.toml extended with `extra`; with
// `table`, tests/model/data's calibration table as int8.calib.
class Int8Folder {
 public:
  Int8Folder(const std::string& extra, bool table) {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = fs::temp_directory_path() / ("inferd_int8_" + std::to_string(::getpid()) + "_" + info->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "1");
    const fs::path bundled = fs::path(test::source_dir()) / "models/squeezenet";
    for (const char* f : {"config.toml", "labels.txt", "1/model.onnx"}) fs::copy_file(bundled / f, dir_ / f);
    std::ofstream(dir_ / "config.toml", std::ios::app) << "\n" << extra;
    if (table)
      fs::copy_file(fs::path(test::source_dir()) / "tests/model/data/squeezenet1.1_qdq.calib", dir_ / "int8.calib");
  }
  ~Int8Folder() {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  std::string dir() const { return dir_.string(); }

 private:
  fs::path dir_;
};

constexpr const char* kInt8 = "[instances]\nprecision = \"int8\"\n[quantization]\ncalibration = \"int8.calib\"\n";

// Whether node `name` of the built plan (or, when split, each of its parts) reads an INT8 input.
int int8_nodes_named(const LoadedModel& m, const std::string& prefix) {
  int n = 0;
  for (const ir::Node& node : m.engine->plan().graph.nodes())
    n += node.name.starts_with(prefix) && node.attrs.has("input_scale");
  return n;
}

std::string top1(const LoadedModel& m, const std::string& image) {
  auto ctx = m.engine->create_context();
  EXPECT_TRUE(ctx.is_ok());
  auto bytes = read_file(image);
  EXPECT_TRUE(bytes.is_ok());
  EXPECT_TRUE(image_to_tensor(m, *bytes, (*ctx)->input_data(0)).is_ok());
  auto top = classify_batch(m, **ctx, 1, 1);
  EXPECT_TRUE(top.is_ok()) << top.status().message();
  return top.is_ok() ? top.value()[0][0].label : "";
}

// The folder on the CPU backend, its plan built anew.
Result<LoadedModel> load(const Int8Folder& f) {
  LoadOptions options;
  options.backend = "cpu";
  options.cache_plans = false;
  return load_classifier(f.dir(), "", options);
}

// Every layer that can run INT8 does ("all"): which layers the default ("timed") keeps in
// float depends on this machine's clock, and the tests below count INT8 layers.
const std::string kInt8All = std::string(kInt8) + "int8_layers = \"all\"\n";

TEST(Int8ModelFolder, BuildsWithTheFoldersCalibrationAndClassifies) {
  Int8Folder f(kInt8All, true);
  auto m = load(f);
  ASSERT_TRUE(m.is_ok()) << m.status().message();
  EXPECT_GT(int8_nodes_named(*m, "fire3/"), 0);
  EXPECT_GT(int8_nodes_named(*m, "conv10_1"), 0);
  EXPECT_NE(top1(*m, test::source_dir() + "/images/1.jpg").find("Angora"), std::string::npos);
}

TEST(Int8ModelFolder, PinnedLayersStayFloat) {
  Int8Folder f(kInt8All + "float_layers = [\"conv10_1\"]\n", true);
  auto m = load(f);
  ASSERT_TRUE(m.is_ok()) << m.status().message();
  EXPECT_GT(int8_nodes_named(*m, "fire3/"), 0);
  EXPECT_EQ(int8_nodes_named(*m, "conv10_1"), 0);
  EXPECT_NE(top1(*m, test::source_dir() + "/images/1.jpg").find("Angora"), std::string::npos);
}

// The default: each layer timed against its float version on this machine at build time.
// Which ones stay float is the clock's call; the answers are the same either way.
TEST(Int8ModelFolder, TimedLayersKeepTheAnswers) {
  Int8Folder timed(kInt8, true), all(kInt8All, true);
  auto t = load(timed);
  ASSERT_TRUE(t.is_ok()) << t.status().message();
  auto a = load(all);
  ASSERT_TRUE(a.is_ok()) << a.status().message();
  EXPECT_LE(int8_nodes_named(*t, ""), int8_nodes_named(*a, ""));
  for (const char* photo : {"/images/1.jpg", "/images/2.jpg"})
    EXPECT_EQ(top1(*t, test::source_dir() + photo), top1(*a, test::source_dir() + photo)) << photo;
}

TEST(Int8ModelFolder, ErrorsSayWhatIsMissing) {
  {
    Int8Folder f("[instances]\nprecision = \"int8\"\n", false);
    auto m = load(f);
    ASSERT_FALSE(m.is_ok());
    EXPECT_NE(m.status().message().find("precision \"int8\" needs a calibration table: set quantization.calibration"),
              std::string::npos)
        << m.status().message();
  }
  {
    Int8Folder f(kInt8, false);  // named, not there
    auto m = load(f);
    ASSERT_FALSE(m.is_ok());
    EXPECT_NE(m.status().message().find("quantization.calibration"), std::string::npos) << m.status().message();
    EXPECT_NE(m.status().message().find("int8.calib"), std::string::npos) << m.status().message();
  }
  {
    Int8Folder f(std::string(kInt8) + "float_layers = [\"conv99\"]\n", true);
    auto m = load(f);
    ASSERT_FALSE(m.is_ok());
    EXPECT_NE(m.status().message().find("quantization.float_layers names 'conv99'"), std::string::npos)
        << m.status().message();
  }
}

}  // namespace
}  // namespace inferd
