// A model folder is untrusted input: every path it names resolves inside it (symlinks
// included), files that are not regular files are refused without hanging, and inferd's
// own writes never follow a planted symlink (issue 13, part 2).
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>

#include "core/file.h"
#include "plan/plan.h"
#include "runtime/model_config.h"
#include "support/test_util.h"

namespace inferd {
namespace {

namespace fs = std::filesystem;

// A fresh folder per test with a model folder "m" (version 1, a stand-in model file) and a
// secret file beside it, outside the model folder.
class Folder {
 public:
  Folder() {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    root_ = fs::temp_directory_path() / ("inferd_trust_" + std::to_string(::getpid()) + "_" + info->name());
    fs::remove_all(root_);
    write("m/1/model.onnx", "onnx");
    write("secret.txt", "root:x:0:0\nsecond line\n");
  }
  ~Folder() {
    std::error_code ec;
    fs::remove_all(root_, ec);
  }
  fs::path path(const std::string& relative) const { return root_ / relative; }
  void write(const std::string& relative, const std::string& text) const {
    fs::create_directories(path(relative).parent_path());
    std::ofstream(path(relative), std::ios::binary) << text;
  }
  std::string model() const { return path("m").string(); }

 private:
  fs::path root_;
};

std::string load_error(const Folder& f) {
  auto r = load_model_folder(f.model());
  EXPECT_FALSE(r.is_ok()) << "loaded, labels: " << (r.is_ok() && !r->labels.empty() ? r->labels[0] : "");
  return r.is_ok() ? "" : r.status().message();
}

TEST(ModelFolderTrust, LabelsOutsideTheFolderAreRefused) {
  Folder f;
  f.write("m/config.toml", "[output]\nlabels = \"../secret.txt\"\n");
  EXPECT_NE(load_error(f).find("output.labels '../secret.txt' resolves to " + f.path("secret.txt").string() +
                               ", outside the model folder"),
            std::string::npos)
      << load_error(f);
}

TEST(ModelFolderTrust, ACalibrationTableOutsideTheFolderIsRefused) {
  Folder f;
  f.write("m/config.toml", "[quantization]\ncalibration = \"../secret.txt\"\n");
  EXPECT_NE(load_error(f).find("quantization.calibration '../secret.txt' resolves to " +
                               f.path("secret.txt").string() + ", outside the model folder"),
            std::string::npos)
      << load_error(f);
  // Inside, it may be missing (a build writes it there), but not a folder.
  f.write("m/config.toml", "[quantization]\ncalibration = \"int8.calib\"\n");
  auto missing = load_model_folder(f.model());
  ASSERT_TRUE(missing.is_ok()) << missing.status().message();
  EXPECT_EQ(missing->calibration_path, fs::canonical(f.path("m")).string() + "/int8.calib");
  fs::create_directories(f.path("m/int8.calib"));
  EXPECT_NE(load_error(f).find("quantization.calibration 'int8.calib' is not a regular file"), std::string::npos)
      << load_error(f);
}

TEST(ModelFolderTrust, AbsoluteLabelsAreRefused) {
  Folder f;
  f.write("m/config.toml", "[output]\nlabels = \"" + f.path("secret.txt").string() + "\"\n");
  EXPECT_NE(load_error(f).find("is an absolute path: name a file inside the model folder"), std::string::npos)
      << load_error(f);
}

TEST(ModelFolderTrust, ALabelsSymlinkToTheOutsideIsRefused) {
  Folder f;
  fs::create_symlink(f.path("secret.txt"), f.path("m/labels.txt"));
  EXPECT_NE(load_error(f).find("outside the model folder"), std::string::npos) << load_error(f);
}

TEST(ModelFolderTrust, AModelFileSymlinkToTheOutsideIsRefused) {
  Folder f;
  fs::remove(f.path("m/1/model.onnx"));
  fs::create_symlink(f.path("secret.txt"), f.path("m/1/model.onnx"));
  EXPECT_NE(load_error(f).find("model file '1/model.onnx' resolves to"), std::string::npos) << load_error(f);
}

TEST(ModelFolderTrust, ACaffeWeightsSymlinkToTheOutsideIsRefused) {
  Folder f;
  fs::remove(f.path("m/1/model.onnx"));
  f.write("m/1/deploy.prototxt", "name: \"net\"");
  fs::create_symlink(f.path("secret.txt"), f.path("m/1/model.caffemodel"));
  EXPECT_NE(load_error(f).find("Caffe weights '1/model.caffemodel' resolves to"), std::string::npos) << load_error(f);
}

TEST(ModelFolderTrust, AMeanFileOutsideTheFolderIsRefused) {
  Folder f;
  f.write("m/config.toml", "[input]\nmean_file = \"../secret.txt\"\n");
  EXPECT_NE(load_error(f).find("input.mean_file '../secret.txt' resolves to"), std::string::npos) << load_error(f);
  Folder g;
  fs::create_symlink(g.path("secret.txt"), g.path("m/mean.binaryproto"));  // the default name, planted
  EXPECT_NE(load_error(g).find("outside the model folder"), std::string::npos) << load_error(g);
}

TEST(ModelFolderTrust, AMeanFileIsFoundByDefaultAndOptionalUnlessNamed) {
  Folder f;
  auto none = load_model_folder(f.model());
  ASSERT_TRUE(none.is_ok()) << none.status().message();
  EXPECT_EQ(none->mean_path, "");
  f.write("m/mean.binaryproto", "bytes");
  auto found = load_model_folder(f.model());
  ASSERT_TRUE(found.is_ok()) << found.status().message();
  EXPECT_EQ(found->mean_path, fs::canonical(f.path("m/mean.binaryproto")).string());
  f.write("m/config.toml", "[input]\nmean_file = \"imagenet_mean.binaryproto\"\n");
  EXPECT_NE(load_error(f).find("input.mean_file 'imagenet_mean.binaryproto' is not a file"), std::string::npos)
      << load_error(f);
  f.write("m/config.toml", "[input]\nmean_file = \"\"\n");  // "" turns the default off
  auto off = load_model_folder(f.model());
  ASSERT_TRUE(off.is_ok());
  EXPECT_EQ(off->mean_path, "");
}

TEST(ModelFolderTrust, SymlinksInsideTheFolderAreFine) {
  Folder f;
  f.write("m/classes.txt", "cat\ndog\n");
  fs::create_symlink("classes.txt", f.path("m/labels.txt"));
  auto r = load_model_folder(f.model());
  ASSERT_TRUE(r.is_ok()) << r.status().message();
  EXPECT_EQ(r->labels, (std::vector<std::string>{"cat", "dog"}));
}

// A config.toml that is a named pipe used to block the load forever in open().
TEST(ModelFolderTrust, AFifoConfigIsRefusedWithoutHanging) {
  Folder f;
  ASSERT_EQ(::mkfifo(f.path("m/config.toml").c_str(), 0600), 0);
  const auto start = std::chrono::steady_clock::now();
  const std::string error = load_error(f);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
  EXPECT_NE(error.find("config.toml: not a regular file (a named pipe): refused"), std::string::npos) << error;
}

// Every reader refuses a named pipe (directly or behind a symlink, as a Kubernetes secret
// is reached) before opening it. MappedFile (plans, Caffe weights) used to open it without
// O_NONBLOCK: a `1/model.caffemodel` or a `.plan` that was a FIFO hung the load in open().
TEST(ModelFolderTrust, EveryReaderRefusesANamedPipeWithoutWaitingForAWriter) {
  Folder f;
  const std::string fifo = f.path("m/1/model.plan").string();
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  const std::string link = f.path("m/1/link.plan").string();
  fs::create_symlink("model.plan", link);
  const struct {
    const char* reader;
    std::function<Status(const std::string&)> read;
  } readers[] = {
      {"read_file", [](const std::string& p) { return read_file(p).status(); }},
      {"MappedFile::open", [](const std::string& p) { return MappedFile::open(p).status(); }},
      {"load_plan", [](const std::string& p) { return load_plan(p).status(); }},
  };
  for (const auto& r : readers) {
    for (const std::string& path : {fifo, link}) {
      bool in_time = false;
      const Status s = test::run_against_fifo(
          fifo, std::chrono::seconds(1), [&] { return r.read(path); }, &in_time);
      EXPECT_TRUE(in_time) << r.reader << " waited on the named pipe " << path;
      EXPECT_EQ(s.message(), path + ": not a regular file (a named pipe): refused") << r.reader;
    }
  }
}

// write_file used to write "<path>.tmp" through whatever was there, a symlink included.
TEST(ModelFolderTrust, WritesNeverFollowAPlantedTempSymlink) {
  Folder f;
  const std::string target = f.path("m/cache.plan").string();
  fs::create_symlink(f.path("secret.txt"), target + ".tmp");
  const std::vector<uint8_t> bytes{1, 2, 3};
  ASSERT_TRUE(write_file(target, bytes).is_ok());
  EXPECT_EQ(read_file(target).value(), bytes);
  EXPECT_EQ(read_text_file(f.path("secret.txt").string()).value(), "root:x:0:0\nsecond line\n");
}

}  // namespace
}  // namespace inferd
