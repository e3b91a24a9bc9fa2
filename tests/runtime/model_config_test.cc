#include "runtime/model_config.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "core/file.h"
#include "support/test_util.h"

namespace inferd {
namespace {

namespace fs = std::filesystem;

std::string squeezenet_dir() { return test::source_dir() + "/models/squeezenet"; }

// A fresh, empty folder per test, removed afterwards.
class TempDir {
 public:
  TempDir() {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    path_ = fs::temp_directory_path() /
            ("inferd_model_config_" + std::to_string(::getpid()) + "_" + info->name());
    fs::remove_all(path_);
    fs::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const fs::path& path() const { return path_; }
  // Writes text to path()/relative, creating folders on the way.
  std::string write(const std::string& relative, const std::string& text) const {
    const fs::path p = path_ / relative;
    fs::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary) << text;
    return p.string();
  }

 private:
  fs::path path_;
};

std::string config_error(const std::string& toml) {
  Result<ModelConfig> r = parse_model_config(toml, "config.toml");
  EXPECT_FALSE(r.is_ok()) << "accepted: " << toml;
  return r.is_ok() ? "" : r.status().message();
}

void expect_default_config(const ModelConfig& c) {
  EXPECT_EQ(c.max_batch, 32);
  EXPECT_EQ(c.input.width, 0);
  EXPECT_EQ(c.input.height, 0);
  EXPECT_EQ(c.input.resize, 256);
  EXPECT_EQ(c.input.channel_order, ChannelOrder::kRgb);
  EXPECT_FLOAT_EQ(c.input.scale, 1.0f / 255);
  EXPECT_EQ(c.input.mean, (std::array<float, 3>{0.485f, 0.456f, 0.406f}));
  EXPECT_EQ(c.input.std, (std::array<float, 3>{0.229f, 0.224f, 0.225f}));
  EXPECT_EQ(c.output.labels, "labels.txt");
  EXPECT_TRUE(c.output.softmax);
  EXPECT_EQ(c.output.top_k, 5);
  EXPECT_EQ(c.batching.max_queue_delay_us, 0);
  EXPECT_TRUE(c.batching.preferred_batch.empty());
  EXPECT_EQ(c.batching.max_queue, 1024);
  EXPECT_EQ(c.instances.count, 1);
  EXPECT_EQ(c.instances.backend, "auto");
  EXPECT_EQ(c.instances.precision, "fp32");
}

TEST(ModelConfig, ParsesTheBundledSqueezeNetConfig) {
  const std::string path = squeezenet_dir() + "/config.toml";
  Result<std::string> text = read_text_file(path);
  ASSERT_TRUE(text.is_ok()) << text.status().message();
  Result<ModelConfig> r = parse_model_config(*text, path);
  ASSERT_TRUE(r.is_ok()) << r.status().message();
  const ModelConfig& c = *r;
  EXPECT_EQ(c.name, "squeezenet");
  EXPECT_EQ(c.max_batch, 32);
  EXPECT_EQ(c.input.width, 224);
  EXPECT_EQ(c.input.height, 224);
  EXPECT_EQ(c.input.resize, 256);
  EXPECT_EQ(c.input.channel_order, ChannelOrder::kBgr);
  EXPECT_EQ(c.input.scale, 1.0f);
  EXPECT_EQ(c.input.mean, (std::array<float, 3>{104.0f, 117.0f, 123.0f}));
  EXPECT_EQ(c.input.std, (std::array<float, 3>{1.0f, 1.0f, 1.0f}));
  EXPECT_EQ(c.output.labels, "labels.txt");
  EXPECT_FALSE(c.output.softmax);
  EXPECT_EQ(c.output.top_k, 5);
  EXPECT_EQ(c.batching.max_queue, 1024);  // sections the file leaves out keep their defaults
  EXPECT_EQ(c.instances.backend, "auto");
}

TEST(ModelConfig, LoadsTheBundledSqueezeNetFolder) {
  Result<ModelFolder> r = load_model_folder(squeezenet_dir());
  ASSERT_TRUE(r.is_ok()) << r.status().message();
  EXPECT_EQ(r->dir, squeezenet_dir());
  EXPECT_EQ(r->config.name, "squeezenet");
  EXPECT_EQ(r->version, 1);
  EXPECT_TRUE(r->model_path.ends_with("/1/model.onnx")) << r->model_path;
  EXPECT_TRUE(fs::is_regular_file(r->model_path));
  ASSERT_EQ(r->labels.size(), 1000u);
  EXPECT_EQ(r->labels[0], "n01440764 tench, Tinca tinca");
  EXPECT_EQ(r->labels[999], "n15075141 toilet tissue, toilet paper, bathroom tissue");
  EXPECT_EQ(r->config.input.channel_order, ChannelOrder::kBgr);
}

TEST(ModelConfig, EverythingIsOptional) {
  Result<ModelConfig> empty = parse_model_config("", "config.toml");
  ASSERT_TRUE(empty.is_ok()) << empty.status().message();
  EXPECT_EQ(empty->name, "");
  expect_default_config(*empty);
  Result<ModelConfig> sections = parse_model_config("[input]\n[output]\n[batching]\n[instances]\n", "c.toml");
  ASSERT_TRUE(sections.is_ok()) << sections.status().message();
  expect_default_config(*sections);
}

TEST(ModelConfig, ReadsEveryKey) {
  Result<ModelConfig> r = parse_model_config(R"(name = "resnet-50.v2"
max_batch = 64
instances.count = 64       # dotted keys work as well as [sections]
instances.backend = "cpu"
instances.precision = "bf16"
[input]
width = 299
height = 300
resize = 0
channel_order = "bgr"
scale = 2                  # integers are accepted where floats are expected
mean = [1, 2.5, -3]
std = [0.5, 1, 2e-1]
[output]
labels = "synset.txt"
softmax = false
top_k = 1
[batching]
max_queue_delay_us = 0
preferred_batch = [8, 16, 64]
max_queue = 7
)",
                                             "config.toml");
  ASSERT_TRUE(r.is_ok()) << r.status().message();
  const ModelConfig& c = *r;
  EXPECT_EQ(c.name, "resnet-50.v2");
  EXPECT_EQ(c.max_batch, 64);
  EXPECT_EQ(c.input.width, 299);
  EXPECT_EQ(c.input.height, 300);
  EXPECT_EQ(c.input.resize, 0);
  EXPECT_EQ(c.input.channel_order, ChannelOrder::kBgr);
  EXPECT_EQ(c.input.scale, 2.0f);
  EXPECT_EQ(c.input.mean, (std::array<float, 3>{1.0f, 2.5f, -3.0f}));
  EXPECT_EQ(c.input.std, (std::array<float, 3>{0.5f, 1.0f, 0.2f}));
  EXPECT_EQ(c.output.labels, "synset.txt");
  EXPECT_FALSE(c.output.softmax);
  EXPECT_EQ(c.output.top_k, 1);
  EXPECT_EQ(c.batching.max_queue_delay_us, 0);
  EXPECT_EQ(c.batching.preferred_batch, (std::vector<int>{8, 16, 64}));
  EXPECT_EQ(c.batching.max_queue, 7);
  EXPECT_EQ(c.instances.count, 64);
  EXPECT_EQ(c.instances.backend, "cpu");
  EXPECT_EQ(c.instances.precision, "bf16");
}

TEST(ModelConfig, UnknownKeysAreErrors) {
  EXPECT_EQ(config_error("[input]\nwidht = 224\n"),
            "config.toml: unknown key 'input.widht' (keys of [input]: channel_order, height, mean, mean_file, "
            "resize, scale, std, width)");
  EXPECT_EQ(config_error("nmae = \"x\"\n"),
            "config.toml: unknown key 'nmae' (top-level keys: batching, input, instances, max_batch, name, "
            "output, quantization)");
  EXPECT_EQ(config_error("[inptu]\nwidth = 1\n"),
            "config.toml: unknown key 'inptu' (top-level keys: batching, input, instances, max_batch, name, "
            "output, quantization)");
  EXPECT_EQ(config_error("[output.extra]\n"),
            "config.toml: unknown key 'output.extra' (keys of [output]: labels, softmax, top_k)");
  EXPECT_EQ(config_error("[batching]\nmax_delay_us = 5\n"),
            "config.toml: unknown key 'batching.max_delay_us' (keys of [batching]: max_queue, "
            "max_queue_delay_us, preferred_batch)");
  EXPECT_EQ(config_error("[instances]\ngpu_count = 2\n"),
            "config.toml: unknown key 'instances.gpu_count' (keys of [instances]: backend, count, decode, gpus, "
            "precision)");
}

TEST(ModelConfig, InstanceGroupGpusAreAllOrAnIndexList) {
  for (const char* good : {"all", "0", "0,1", "3,1,2"}) {
    auto config = parse_model_config(std::string("[instances]\ngpus = \"") + good + "\"\n", "config.toml");
    ASSERT_TRUE(config.is_ok()) << good << ": " << config.status().message();
    EXPECT_EQ(config->instances.gpus, good);
  }
  for (const char* bad : {"any", "0,,1", ",0", "0,", "-1", "1 2", "ALL"}) {
    EXPECT_EQ(config_error(std::string("[instances]\ngpus = \"") + bad + "\"\n"),
              "config.toml: 'instances.gpus' must be \"all\" or GPU indices such as \"0,1\"")
        << bad;
  }
  EXPECT_EQ(config_error("[instances]\ngpus = 2\n"), "config.toml: 'instances.gpus' must be a string, got an integer");
}

TEST(ModelConfig, ImagesAreDecodedWhereInstancesDecodeSays) {
  auto defaults = parse_model_config("", "config.toml");
  ASSERT_TRUE(defaults.is_ok()) << defaults.status().message();
  EXPECT_EQ(defaults->instances.decode, "auto");
  for (const char* good : {"auto", "cpu", "gpu"}) {
    auto config = parse_model_config(std::string("[instances]\ndecode = \"") + good + "\"\n", "config.toml");
    ASSERT_TRUE(config.is_ok()) << good << ": " << config.status().message();
    EXPECT_EQ(config->instances.decode, good);
  }
  EXPECT_EQ(config_error("[instances]\ndecode = \"nvjpeg\"\n"),
            "config.toml: 'instances.decode' must be one of auto | cpu | gpu, got \"nvjpeg\"");
}

TEST(ModelConfig, WrongTypesAreErrors) {
  EXPECT_EQ(config_error("max_batch = 2.5"), "config.toml: 'max_batch' must be an integer, got a float");
  EXPECT_EQ(config_error("max_batch = \"32\""), "config.toml: 'max_batch' must be an integer, got a string");
  EXPECT_EQ(config_error("name = 3"), "config.toml: 'name' must be a string, got an integer");
  EXPECT_EQ(config_error("input = 3"), "config.toml: 'input' must be a table, got an integer");
  EXPECT_EQ(config_error("[input]\nchannel_order = 1"),
            "config.toml: 'input.channel_order' must be a string, got an integer");
  EXPECT_EQ(config_error("[input]\nscale = \"1/255\""),
            "config.toml: 'input.scale' must be a number, got a string");
  EXPECT_EQ(config_error("[input]\nmean = 0.5"),
            "config.toml: 'input.mean' must be an array of 3 numbers, got a float");
  EXPECT_EQ(config_error("[input]\nstd = [1, \"a\", 3]"),
            "config.toml: 'input.std' must hold numbers, got a string (element 1)");
  EXPECT_EQ(config_error("[output]\nsoftmax = \"yes\""),
            "config.toml: 'output.softmax' must be a boolean (true or false), got a string");
  EXPECT_EQ(config_error("[output]\nlabels = 3"),
            "config.toml: 'output.labels' must be a string, got an integer");
  EXPECT_EQ(config_error("[batching]\npreferred_batch = 8"),
            "config.toml: 'batching.preferred_batch' must be an array of integers, got an integer");
  EXPECT_EQ(config_error("[batching]\npreferred_batch = [1.5]"),
            "config.toml: 'batching.preferred_batch' must hold integers, got a float");
  EXPECT_EQ(config_error("[instances]\ncount = true"),
            "config.toml: 'instances.count' must be an integer, got a boolean");
  EXPECT_EQ(config_error("[quantization]\nfloat_layers = \"conv1\""),
            "config.toml: 'quantization.float_layers' must be an array of strings, got a string");
  EXPECT_EQ(config_error("[quantization]\nfloat_layers = [\"conv1\", 2]"),
            "config.toml: 'quantization.float_layers' must hold strings, got an integer");
  EXPECT_EQ(config_error("[quantization]\ncalibration = 1"),
            "config.toml: 'quantization.calibration' must be a string, got an integer");
}

TEST(ModelConfig, ReadsTheQuantizationTable) {
  auto c = parse_model_config("[quantization]\ncalibration = \"int8.calib\"\nfloat_layers = [\"conv1\", \"fc\"]\n",
                              "config.toml");
  ASSERT_TRUE(c.is_ok()) << c.status().message();
  EXPECT_EQ(c->quantization.calibration, "int8.calib");
  EXPECT_EQ(c->quantization.float_layers, (std::vector<std::string>{"conv1", "fc"}));
  auto none = parse_model_config("", "config.toml");
  ASSERT_TRUE(none.is_ok());
  EXPECT_TRUE(none->quantization.calibration.empty());
  EXPECT_TRUE(none->quantization.float_layers.empty());
  EXPECT_EQ(none->quantization.int8_layers, "timed");
  auto all = parse_model_config("[quantization]\nint8_layers = \"all\"\n", "config.toml");
  ASSERT_TRUE(all.is_ok()) << all.status().message();
  EXPECT_EQ(all->quantization.int8_layers, "all");
  EXPECT_EQ(config_error("[quantization]\nint8_layers = \"some\"\n"),
            "config.toml: 'quantization.int8_layers' must be one of timed | all, got \"some\"");
}

TEST(ModelConfig, OutOfRangeValuesAreErrors) {
  EXPECT_EQ(config_error("max_batch = 0"), "config.toml: 'max_batch' must be in 1..4096, got 0");
  EXPECT_EQ(config_error("max_batch = 4097"), "config.toml: 'max_batch' must be in 1..4096, got 4097");
  EXPECT_EQ(config_error("[input]\nwidth = -1"), "config.toml: 'input.width' must be in 0..16384, got -1");
  EXPECT_EQ(config_error("[input]\nheight = 16385"),
            "config.toml: 'input.height' must be in 0..16384, got 16385");
  EXPECT_EQ(config_error("[input]\nresize = 99999999999"),
            "config.toml: 'input.resize' must be in 0..16384, got 99999999999");
  EXPECT_EQ(config_error("[input]\nchannel_order = \"RGB\""),
            "config.toml: 'input.channel_order' must be one of rgb | bgr, got \"RGB\"");
  EXPECT_EQ(config_error("[input]\nscale = 0"),
            "config.toml: 'input.scale' must not be 0 (it would erase every pixel)");
  EXPECT_EQ(config_error("[input]\nscale = 1e300"),
            "config.toml: 'input.scale' value 1e+300 does not fit in a 32-bit float");
  EXPECT_EQ(config_error("[input]\nmean = [1, 2]"),
            "config.toml: 'input.mean' must be an array of 3 numbers (one per channel), got 2");
  EXPECT_EQ(config_error("[input]\nmean = [1, 2, 3, 4]"),
            "config.toml: 'input.mean' must be an array of 3 numbers (one per channel), got 4");
  EXPECT_EQ(config_error("[input]\nstd = [1, 0, 1]"),
            "config.toml: 'input.std' must not contain 0 (pixels are divided by it)");
  EXPECT_EQ(config_error("[output]\ntop_k = 0"),
            "config.toml: 'output.top_k' must be in 1..2147483647, got 0");
  EXPECT_EQ(config_error("[batching]\nmax_queue_delay_us = -1"),
            "config.toml: 'batching.max_queue_delay_us' must be in 0..60000000, got -1");
  EXPECT_EQ(config_error("[batching]\nmax_queue = 0"),
            "config.toml: 'batching.max_queue' must be in 1..1000000, got 0");
  EXPECT_EQ(config_error("max_batch = 16\n[batching]\npreferred_batch = [4, 32]"),
            "config.toml: 'batching.preferred_batch' entries must be in 1..max_batch (16), got 32");
  EXPECT_EQ(config_error("[batching]\npreferred_batch = [0]"),
            "config.toml: 'batching.preferred_batch' entries must be in 1..max_batch (32), got 0");
  EXPECT_EQ(config_error("[instances]\ncount = 0"), "config.toml: 'instances.count' must be in 1..64, got 0");
  EXPECT_EQ(config_error("[instances]\ncount = 65"),
            "config.toml: 'instances.count' must be in 1..64, got 65");
  EXPECT_EQ(config_error("[instances]\nbackend = \"gpu\""),
            "config.toml: 'instances.backend' must be one of auto | cpu | cuda, got \"gpu\"");
  EXPECT_EQ(
      config_error("[instances]\nprecision = \"fp64\""),
      "config.toml: 'instances.precision' must be one of fp32 | tf32 | fp16 | bf16 | int8 | fp8, got \"fp64\"");
  EXPECT_EQ(config_error("name = \"\""),
            "config.toml: 'name' must not be empty (leave it out to use the folder name)");
  EXPECT_EQ(config_error("name = \"my model\""),
            "config.toml: 'name' must not contain spaces, control characters, '/', '\\' or '\"'");
}

TEST(ModelConfig, TomlSyntaxErrorsKeepTheirPosition) {
  EXPECT_EQ(config_error("[input]\nwidth 224\n"),
            "config.toml:2:7: expected '=' after key 'width', found '2'");
  EXPECT_EQ(config_error("[input]\nwidth = 1\nwidth = 2\n"),
            "config.toml:3:1: duplicate key 'width' in table [input] (first defined at line 2)");
}

TEST(ModelFolder, DefaultsWhenConfigIsAbsent) {
  TempDir tmp;
  const std::string dir = (tmp.path() / "my_model").string();
  tmp.write("my_model/1/model.onnx", "onnx v1");
  tmp.write("my_model/2/model.onnx", "onnx v2");
  tmp.write("my_model/3/model.plan", "plan v3");
  tmp.write("my_model/10x/model.onnx", "not a version");
  tmp.write("my_model/007/model.onnx", "not canonical");
  tmp.write("my_model/99", "a file, not a folder");
  Result<ModelFolder> r = load_model_folder(dir + "/");  // a trailing slash still names the folder
  ASSERT_TRUE(r.is_ok()) << r.status().message();
  EXPECT_EQ(r->config.name, "my_model");
  EXPECT_EQ(r->version, 3);
  EXPECT_EQ(r->model_path, (tmp.path() / "my_model" / "3" / "model.plan").string());
  EXPECT_TRUE(r->labels.empty());  // no labels.txt: classes are reported by index
  expect_default_config(r->config);
}

TEST(ModelFolder, OnnxWinsOverPlanAndConfigNamesTheLabels) {
  TempDir tmp;
  const std::string dir = (tmp.path() / "m").string();
  tmp.write("m/4/model.plan", "plan");
  tmp.write("m/4/model.onnx", "onnx");
  tmp.write("m/config.toml", "name = \"renamed\"\n[output]\nlabels = \"classes/names.txt\"\ntop_k = 2\n");
  tmp.write("m/classes/names.txt", "cat\r\ndog\r\n\r\n");
  Result<ModelFolder> r = load_model_folder(dir);
  ASSERT_TRUE(r.is_ok()) << r.status().message();
  EXPECT_EQ(r->config.name, "renamed");
  EXPECT_EQ(r->config.output.top_k, 2);
  EXPECT_EQ(r->model_path, (tmp.path() / "m" / "4" / "model.onnx").string());
  EXPECT_EQ(r->labels, (std::vector<std::string>{"cat", "dog"}));
}

TEST(ModelFolder, ErrorsNameThePath) {
  TempDir tmp;
  const std::string base = tmp.path().string();
  Result<ModelFolder> missing = load_model_folder(base + "/nope");
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(missing.status().message(), base + "/nope: no such model folder");

  tmp.write("empty/labels.txt", "a\n");
  EXPECT_EQ(load_model_folder(base + "/empty").status().message(),
            base + "/empty: no version folder; put the model at " + base + "/empty/1/model.onnx");

  tmp.write("nomodel/1/model.onnx", "x");
  tmp.write("nomodel/2/README", "the newest version lacks its model");
  EXPECT_EQ(load_model_folder(base + "/nomodel").status().message(),
            base + "/nomodel/2: no model.onnx, deploy.prototxt (with model.caffemodel) or model.plan in the highest "
                   "version folder");

  tmp.write("noweights/1/deploy.prototxt", "name: \"net\"");
  EXPECT_EQ(load_model_folder(base + "/noweights").status().message(),
            base + "/noweights/1/deploy.prototxt has no model.caffemodel beside it (the Caffe weights)");
  tmp.write("caffe/1/deploy.prototxt", "name: \"net\"");
  tmp.write("caffe/1/model.caffemodel", "");
  tmp.write("caffe/1/model.plan", "a plan loses to the model");
  const Result<ModelFolder> caffe = load_model_folder(base + "/caffe");
  ASSERT_TRUE(caffe.is_ok()) << caffe.status().message();
  EXPECT_EQ(caffe->model_path, base + "/caffe/1/deploy.prototxt");
  EXPECT_EQ(caffe->weights_path, std::filesystem::canonical(base + "/caffe/1/model.caffemodel").string());

  tmp.write("badconfig/1/model.onnx", "x");
  tmp.write("badconfig/config.toml", "[input]\nwidht = 224\n");
  EXPECT_EQ(load_model_folder(base + "/badconfig").status().message(),
            base +
                "/badconfig/config.toml: unknown key 'input.widht' (keys of [input]: channel_order, height, "
                "mean, mean_file, resize, scale, std, width)");

  tmp.write("nolabels/1/model.onnx", "x");
  tmp.write("nolabels/config.toml", "[output]\nlabels = \"synset.txt\"\n");
  Result<ModelFolder> no_labels = load_model_folder(base + "/nolabels");
  EXPECT_EQ(no_labels.status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(no_labels.status().message().starts_with(
      base + "/nolabels/config.toml: output.labels: " + base + "/nolabels/synset.txt: cannot open"))
      << no_labels.status().message();

  tmp.write("badlabels/1/model.onnx", "x");
  tmp.write("badlabels/labels.txt", "");
  EXPECT_EQ(load_model_folder(base + "/badlabels").status().message(),
            base + "/badlabels/labels.txt: no labels (the file is empty; write one class per line)");

  const std::string big(1100000, '#');
  tmp.write("bigconfig/1/model.onnx", "x");
  tmp.write("bigconfig/config.toml", big);
  EXPECT_EQ(load_model_folder(base + "/bigconfig").status().code(), StatusCode::kResourceExhausted);
}

TEST(ModelFolder, ModelFromFile) {
  TempDir tmp;
  const std::string model = tmp.write("zoo/resnet50.onnx", "onnx");
  const std::string labels = tmp.write("zoo/imagenet.txt",
                                       "\xef\xbb\xbf"
                                       "a\nb  \nc");
  Result<ModelFolder> r = model_from_file(model, labels);
  ASSERT_TRUE(r.is_ok()) << r.status().message();
  EXPECT_EQ(r->config.name, "resnet50");
  EXPECT_EQ(r->model_path, model);
  EXPECT_EQ(r->dir, (tmp.path() / "zoo").string());
  EXPECT_EQ(r->version, 0);
  EXPECT_EQ(r->labels, (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(r->config.output.labels, labels);
  EXPECT_EQ(r->config.input.resize, 256);  // the rest is the default config

  Result<ModelFolder> bare = model_from_file(model, "");
  ASSERT_TRUE(bare.is_ok()) << bare.status().message();
  EXPECT_TRUE(bare->labels.empty());
  EXPECT_EQ(bare->config.output.labels, "");

  EXPECT_EQ(model_from_file(model + ".missing", "").status().message(),
            model + ".missing: no such model file");
  EXPECT_EQ(model_from_file(model, labels + ".missing").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(model_from_file(tmp.path().string(), "").status().code(), StatusCode::kNotFound);  // a folder
}

TEST(ModelFolder, LoadModelTakesAFolderOrAFile) {
  TempDir tmp;
  const std::string base = tmp.path().string();
  const std::string model = tmp.write("m/2/model.onnx", "onnx");
  const std::string labels = tmp.write("other.txt", "x\ny\n");

  Result<ModelFolder> folder = load_model(base + "/m", "");
  ASSERT_TRUE(folder.is_ok()) << folder.status().message();
  EXPECT_EQ(folder->version, 2);
  EXPECT_TRUE(folder->labels.empty());
  Result<ModelFolder> relabelled = load_model(base + "/m", labels);
  ASSERT_TRUE(relabelled.is_ok()) << relabelled.status().message();
  EXPECT_EQ(relabelled->labels, (std::vector<std::string>{"x", "y"}));

  Result<ModelFolder> file = load_model(model, labels);
  ASSERT_TRUE(file.is_ok()) << file.status().message();
  EXPECT_EQ(file->config.name, "model");
  EXPECT_EQ(file->version, 0);

  // A folder's own problem is reported as such, not as "no such model file".
  tmp.write("broken/labels.txt", "a\n");
  EXPECT_EQ(load_model(base + "/broken", "").status().message(),
            base + "/broken: no version folder; put the model at " + base + "/broken/1/model.onnx");
  EXPECT_EQ(load_model(base + "/none", "").status().message(),
            base + "/none: no such model folder or model file");
}

TEST(ModelFolder, ReadLabels) {
  TempDir tmp;
  Result<std::vector<std::string>> crlf = read_labels(tmp.write("crlf.txt", "n0 tench\r\nn1 goldfish\r\n"));
  ASSERT_TRUE(crlf.is_ok()) << crlf.status().message();
  EXPECT_EQ(*crlf, (std::vector<std::string>{"n0 tench", "n1 goldfish"}));

  Result<std::vector<std::string>> no_newline = read_labels(tmp.write("nonl.txt", "only"));
  ASSERT_TRUE(no_newline.is_ok());
  EXPECT_EQ(*no_newline, (std::vector<std::string>{"only"}));

  Result<std::vector<std::string>> trailing = read_labels(tmp.write("trail.txt", "a\nb\n\n  \n"));
  ASSERT_TRUE(trailing.is_ok());
  EXPECT_EQ(trailing->size(), 2u);

  const std::string gap = tmp.write("gap.txt", "a\n\nc\n");
  EXPECT_EQ(read_labels(gap).status().message(), gap +
                                                     ":2: blank line between labels (line k names class k-1, "
                                                     "so a gap would shift every class after it)");
  const std::string empty = tmp.write("empty.txt", "\n\n");
  EXPECT_EQ(read_labels(empty).status().message(),
            empty + ": no labels (the file is empty; write one class per line)");
  EXPECT_EQ(read_labels(tmp.write("zero.txt", "")).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(read_labels((tmp.path() / "absent.txt").string()).status().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace inferd
