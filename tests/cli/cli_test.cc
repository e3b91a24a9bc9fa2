// The `inferd` command as users and scripts see it: output format, exit codes, messages.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "support/ort_oracle.h"
#include "support/test_util.h"

namespace inferd {
namespace {

struct Run {
  int code;
  std::string out;  // stdout and stderr together
};

Run inferd(const std::string& args) {
  const std::string cmd = std::string(INFERD_BINARY_DIR) + "/inferd " + args + " 2>&1";
  FILE* pipe = popen(cmd.c_str(), "r");
  std::string out;
  char buf[4096];
  while (size_t n = fread(buf, 1, sizeof buf, pipe)) out.append(buf, n);
  const int status = pclose(pipe);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

const std::string kModel = test::source_dir() + "/models/squeezenet";

// Under a descriptor limit too small for --max-connections, serve says so and lowers the
// connection limit rather than failing accepts (EMFILE) at the limit.
TEST(Cli, ServeFitsItsConnectionLimitToTheDescriptorLimit) {
  const std::string cmd = "sh -c 'ulimit -n 300 && exec timeout 3 " + std::string(INFERD_BINARY_DIR) +
                          "/inferd serve " + kModel + " --port 0' 2>&1";
  FILE* pipe = popen(cmd.c_str(), "r");
  ASSERT_NE(pipe, nullptr);
  std::string out;
  char buf[4096];
  while (size_t n = fread(buf, 1, sizeof buf, pipe)) out.append(buf, n);
  pclose(pipe);
  EXPECT_NE(out.find("event=connections_capped_by_descriptors max_connections=1024 now=164 descriptor_limit=300"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("max_connections=164"), std::string::npos) << out;
  EXPECT_NE(out.find("serving on http://127.0.0.1:"), std::string::npos) << out;
}

TEST(Cli, ClassifyPrintsTheSeedsRabbit) {
  const auto r = inferd("classify " + kModel + " " + test::source_dir() + "/images/1.jpg");
  EXPECT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("/images/1.jpg\n0.92"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(" n02328150 Angora, Angora rabbit\n"), std::string::npos) << r.out;
}

TEST(Cli, ClassifyJsonIsOneObjectPerImage) {
  const std::string img = test::source_dir() + "/images/3.jpg";
  const auto r = inferd("classify " + kModel + " " + img + " " + img + " --json --top 2");
  EXPECT_EQ(r.code, 0) << r.out;
  const std::string line = "{\"image\":\"" + img + "\",\"top\":[{\"confidence\":0.99";
  EXPECT_EQ(r.out.find(line), 0u) << r.out;
  EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 2);
  EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '{'), 6);  // 2 images x (1 + 2 predictions)
  EXPECT_NE(r.out.find("\"label\":\"n01882714 koala"), std::string::npos) << r.out;
}

TEST(Cli, BadImageIsReportedAndOthersStillClassified) {
  const std::string bad = test::temp_dir() + "/truncated.jpg";
  std::ifstream in(test::source_dir() + "/images/2.jpg", std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), {});
  std::ofstream(bad, std::ios::binary) << bytes.substr(0, bytes.size() / 2);
  const auto r = inferd("classify " + kModel + " " + bad + " " + test::source_dir() + "/images/4.jpg");
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.out.find(bad + ": corrupt JPEG"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("ptarmigan"), std::string::npos) << r.out;
}

TEST(Cli, UsageErrorsExitWithTwo) {
  EXPECT_EQ(inferd("").code, 2);
  EXPECT_EQ(inferd("frobnicate").code, 2);
  const auto r = inferd("classify " + kModel + " --top nope x.jpg");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.out.find("--top must be an integer"), std::string::npos) << r.out;
  EXPECT_EQ(inferd("classify " + kModel + " --bogus x.jpg").code, 2);
}

TEST(Cli, MissingModelSaysWhat) {
  const auto r = inferd("classify /nonexistent/model.onnx x.jpg");
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.out.find("/nonexistent/model.onnx"), std::string::npos) << r.out;
}

TEST(Cli, BuildThenInfoThenClassifyFromThePlan) {
  // A model folder whose version holds only the built plan.
  const std::string folder = test::temp_dir() + "/plan_model";
  std::filesystem::create_directories(folder + "/1");
  std::filesystem::copy_file(kModel + "/config.toml", folder + "/config.toml",
                             std::filesystem::copy_options::overwrite_existing);
  std::filesystem::copy_file(kModel + "/labels.txt", folder + "/labels.txt",
                             std::filesystem::copy_options::overwrite_existing);
  const std::string plan = folder + "/1/model.plan";
  auto r = inferd("build " + kModel + " -o " + plan + " --max-batch 8 --report");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("conv_activation_fusion"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("activation memory at batch 1: planned"), std::string::npos) << r.out;
  r = inferd("info " + plan);
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("max batch: 8"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("input  data_0 float32[N,3,224,224]"), std::string::npos) << r.out;
  r = inferd("classify " + folder + " " + test::source_dir() + "/images/5.jpg");
  EXPECT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("German short-haired pointer"), std::string::npos) << r.out;
}

// A model folder holding the real SqueezeNet 1.1 in Caffe's format (deploy.prototxt +
// model.caffemodel) classifies every bundled photo as the repository's ONNX twin does;
// `inferd build` takes a prototxt with --weights, and says what is missing without.
TEST(Cli, CaffeModelFolderClassifiesLikeItsOnnxTwin) {
  const char* prototxt = "models/caffe_prototxt/squeezenet_v1.1_deploy.prototxt";
  const char* weights = "models/squeezenet1.1.caffemodel";
  if (auto missing = test::missing_assets({prototxt, weights}); !missing.empty()) GTEST_SKIP() << missing;
  const std::string folder = test::temp_dir() + "/caffe_model";
  std::filesystem::remove_all(folder);
  std::filesystem::create_directories(folder + "/1");
  for (const char* file : {"config.toml", "labels.txt"})
    std::filesystem::copy_file(kModel + "/" + file, folder + "/" + file);
  std::filesystem::copy_file(test::asset_path(weights), folder + "/1/model.caffemodel");
  {  // The published prototxt declares 227x227; the ONNX twin (and config.toml) use 224.
    std::ifstream in(test::asset_path(prototxt));
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const auto at = text.find("dim: 227 dim: 227");
    ASSERT_NE(at, std::string::npos);
    text.replace(at, 17, "dim: 224 dim: 224");
    std::ofstream(folder + "/1/deploy.prototxt") << text;
  }
  const std::string images = test::source_dir() + "/images/*.jpg";
  const auto caffe = inferd("classify " + folder + " " + images + " --json");
  const auto onnx = inferd("classify " + kModel + " " + images + " --json");
  ASSERT_EQ(caffe.code, 0) << caffe.out;
  ASSERT_EQ(onnx.code, 0) << onnx.out;
  EXPECT_EQ(caffe.out, onnx.out);  // labels and scores as printed, every photo
  EXPECT_NE(caffe.out.find("Angora"), std::string::npos) << caffe.out;

  const std::string plan = test::temp_dir() + "/caffe_squeezenet.plan";
  auto r = inferd("build " + folder + "/1/deploy.prototxt --weights " + folder + "/1/model.caffemodel -o " + plan);
  EXPECT_EQ(r.code, 0) << r.out;
  EXPECT_TRUE(std::filesystem::exists(plan));
  r = inferd("build " + folder + "/1/deploy.prototxt -o " + plan);
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_NE(r.out.find("deploy.prototxt: a Caffe prototxt needs its weights: --weights model.caffemodel"),
            std::string::npos)
      << r.out;
}

TEST(Cli, BenchEngineSweepsTheBatchSizes) {
  auto r = inferd("bench --engine " + kModel + " --batch 1,3 --min-seconds 0 --min-runs 2 --json --no-power");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("\"batch\":1,"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\"batch\":3,"), std::string::npos) << r.out;
  EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 2) << r.out;
  EXPECT_NE(r.out.find("\"runs\":2,"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\"watts\":null"), std::string::npos) << r.out;

  r = inferd("bench --engine " + kModel + " --batch 2 --min-seconds 0 --min-runs 1 --csv --no-power");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_EQ(r.out.rfind("batch,runs,median_ms,p90_ms,p99_ms,images_per_s,watts,images_per_joule\n2,1,", 0), 0u)
      << r.out;
}

// The decode ceiling measures the CPU decoders everywhere; without a GPU (or libnvjpeg) the
// GPU line says why instead of failing the run. On a GPU machine the GPU line has figures.
TEST(Cli, BenchDecodeMeasuresTheCpuAndSaysWhyNotTheGpu) {
  auto r = inferd("bench --decode " + test::source_dir() + "/images --seconds 0.2 --threads 2 --json");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("{\"decoder\":\"cpu\",\"threads\":2,"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\"failed\":0,"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("{\"decoder\":\"gpu\",\"gpu\":0,"), std::string::npos) << r.out;
  const bool gpu_measured = r.out.find("\"backend\":\"nvjpeg") != std::string::npos;
  const bool gpu_explained = r.out.find("\"error\":\"") != std::string::npos;
  EXPECT_TRUE(gpu_measured != gpu_explained) << r.out;

  r = inferd("bench --decode " + test::source_dir() + "/images --seconds 0.2 --threads 1");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("5 JPEGs"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("cpu (libjpeg-turbo, 1 threads):"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("gpu 0"), std::string::npos) << r.out;

  r = inferd("bench --decode /nonexistent/photos");
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.out.find("/nonexistent/photos"), std::string::npos) << r.out;
  r = inferd("bench --decode " + test::source_dir() + "/images --seconds 0");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.out.find("--seconds must be a number > 0"), std::string::npos) << r.out;
}

TEST(Cli, BenchEngineErrorsNameTheProblem) {
  auto r = inferd("bench --engine " + kModel + " --batch 1,0");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.out.find("--batch: '0' is not a batch size"), std::string::npos) << r.out;
  r = inferd("bench --engine /nonexistent/model.onnx --no-power");
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.out.find("/nonexistent/model.onnx"), std::string::npos) << r.out;
  r = inferd("bench --engine " + kModel + " --batch 1 --min-runs 1 --min-seconds 0 --powercap /nonexistent");
  EXPECT_EQ(r.code, 0) << r.out;  // no counters: the figures still come, power is marked missing
  EXPECT_NE(r.out.find("power not measured: no RAPL energy counters: /nonexistent does not exist"), std::string::npos)
      << r.out;
}

}  // namespace
// `inferd quantize` writes the calibration as an ONNX Q/DQ model that a model folder serves
// like any other (here calibrated on the bundled photos, enough to check the path).
TEST(Cli, QuantizeWritesAQdqModelThatClassifies) {
  const auto usage = inferd("quantize " + kModel);
  EXPECT_EQ(usage.code, 2) << usage.out;
  EXPECT_NE(usage.out.find("quantize needs one MODEL and -o OUT.onnx"), std::string::npos) << usage.out;
  const std::string folder = test::temp_dir() + "/qdq_model";
  std::filesystem::remove_all(folder);
  std::filesystem::create_directories(folder + "/1");
  for (const char* file : {"config.toml", "labels.txt"})
    std::filesystem::copy_file(kModel + "/" + file, folder + "/" + file);
  const auto r = inferd("quantize " + kModel + " -o " + folder + "/1/model.onnx --calibration " + test::source_dir() +
                        "/images --calibration-cache " + folder + "/table.calib");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("INT8 Q/DQ, entropy calibration"), std::string::npos) << r.out;
  const auto classified = inferd("classify " + folder + " " + test::source_dir() + "/images/1.jpg");
  ASSERT_EQ(classified.code, 0) << classified.out;
  EXPECT_NE(classified.out.find("Angora"), std::string::npos) << classified.out;

  // FP8: float8 pairs (opset 19), served and classified the same way; the INT8 table cached
  // above is not reused for it (a table of the other kind is refused, naming the flag).
  const auto reused = inferd("quantize " + kModel + " -o " + folder +
                             "/1/model.onnx --precision fp8 --calibration-cache " + folder + "/table.calib");
  EXPECT_EQ(reused.code, 1) << reused.out;
  EXPECT_NE(reused.out.find("calibrate again with --precision fp8"), std::string::npos) << reused.out;
  const auto fp8 = inferd("quantize " + kModel + " -o " + folder + "/1/model.onnx --precision fp8 --calibration " +
                          test::source_dir() + "/images --calibration-cache " + folder + "/fp8.calib");
  ASSERT_EQ(fp8.code, 0) << fp8.out;
  EXPECT_NE(fp8.out.find("FP8 Q/DQ, max calibration"), std::string::npos) << fp8.out;
  const auto fp8_classified = inferd("classify " + folder + " " + test::source_dir() + "/images/1.jpg");
  ASSERT_EQ(fp8_classified.code, 0) << fp8_classified.out;
  EXPECT_NE(fp8_classified.out.find("Angora"), std::string::npos) << fp8_classified.out;
  const auto int4 = inferd("quantize " + kModel + " -o x.onnx --precision int4 --calibration " + test::source_dir());
  EXPECT_EQ(int4.code, 2) << int4.out;
  EXPECT_NE(int4.out.find("--precision is int8 or fp8, not 'int4'"), std::string::npos) << int4.out;
}

}  // namespace inferd

namespace inferd {

// `inferd build --precision int8` reports each layer's INT8-or-float choice with the times
// it was made on, and --int8-layers all makes every choice INT8 without a clock.
TEST(Cli, Int8BuildsReportTheClocksChoices) {
  const std::string out = test::temp_dir() + "/int8_cli";
  std::filesystem::remove_all(out);
  std::filesystem::create_directories(out);
  const std::string common = "build " + kModel + " --backend cpu --precision int8 --calibration " +
                             test::source_dir() + "/images --calibration-cache " + out + "/table.calib --report";
  const auto timed = inferd(common + " -o " + out + "/timed.plan");
  ASSERT_EQ(timed.code, 0) << timed.out;
  EXPECT_NE(timed.out.find(" ms for its FakeQuantize)"), std::string::npos) << timed.out;
  const auto all = inferd(common + " --int8-layers all -o " + out + "/all.plan");
  ASSERT_EQ(all.code, 0) << all.out;
  EXPECT_EQ(all.out.find(" ms for its FakeQuantize)"), std::string::npos) << all.out;
  EXPECT_EQ(all.out.find("kept "), std::string::npos) << all.out;
  const auto bad = inferd(common + " --int8-layers some -o " + out + "/bad.plan");
  EXPECT_EQ(bad.code, 2) << bad.out;
  EXPECT_NE(bad.out.find("--int8-layers takes timed or all, not 'some'"), std::string::npos) << bad.out;
}

// A model folder whose config.toml names a calibration table gets it written there by the
// first `inferd build --calibration` (the server reads it from there), reused afterwards.
TEST(Cli, ABuildWritesTheCalibrationTableTheFolderNames) {
  const std::string out = test::temp_dir() + "/folder_calibration";
  std::filesystem::remove_all(out);
  std::filesystem::create_directories(out);
  std::filesystem::copy(kModel, out + "/squeezenet", std::filesystem::copy_options::recursive);
  std::filesystem::remove_all(out + "/squeezenet/1/.inferd-cache");
  {
    std::ofstream config(out + "/squeezenet/config.toml", std::ios::app);
    config << "\n[quantization]\ncalibration = \"int8.calib\"\n";
  }
  const std::string build = "build " + out + "/squeezenet --backend cpu --precision int8 --calibration " +
                            test::source_dir() + "/images --calibration-images 4 --int8-agreement 0 -o " + out +
                            "/model.plan";
  const auto first = inferd(build);
  ASSERT_EQ(first.code, 0) << first.out;
  EXPECT_TRUE(std::filesystem::exists(out + "/squeezenet/int8.calib")) << first.out;
  EXPECT_FALSE(std::filesystem::exists(out + "/model.plan.calib")) << first.out;
  const auto second = inferd(build);
  ASSERT_EQ(second.code, 0) << second.out;
  EXPECT_NE(second.out.find("calibration: reused " + out + "/squeezenet/int8.calib"), std::string::npos) << second.out;
}

// `inferd build --precision fp8` calibrates with max by default and reports E4M3 activations;
// its table is refused by an INT8 build (and entropy by FP8), each with the reason.
TEST(Cli, Fp8BuildsCalibrateWithMaxAndKeepTheirTableApart) {
  const std::string out = test::temp_dir() + "/fp8_cli";
  std::filesystem::remove_all(out);
  std::filesystem::create_directories(out);
  const std::string images = " --calibration " + test::source_dir() + "/images";
  const std::string table = " --calibration-cache " + out + "/table.calib";
  const auto fp8 = inferd("build " + kModel + " --backend cpu --precision fp8 --report" + images + table + " -o " + out +
                          "/fp8.plan");
  ASSERT_EQ(fp8.code, 0) << fp8.out;
  EXPECT_NE(fp8.out.find("FP8 calibration (max)"), std::string::npos) << fp8.out;
  EXPECT_NE(fp8.out.find(": e4m3, threshold "), std::string::npos) << fp8.out;
  const auto int8 = inferd("build " + kModel + " --backend cpu --precision int8" + table + " -o " + out + "/int8.plan");
  EXPECT_NE(int8.code, 0) << int8.out;
  EXPECT_NE(int8.out.find("holds an FP8 calibration and the build is INT8"), std::string::npos) << int8.out;
  const auto entropy = inferd("build " + kModel + " --backend cpu --precision fp8 --calibrator entropy" + images +
                              " --calibration-cache " + out + "/other.calib -o " + out + "/e.plan");
  EXPECT_NE(entropy.code, 0) << entropy.out;
  EXPECT_NE(entropy.out.find("FP8 calibration takes max or percentile"), std::string::npos) << entropy.out;
}

}  // namespace inferd
