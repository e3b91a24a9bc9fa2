// A model folder with Caffe's mean image (mean.binaryproto): subtracted per pixel after
// cropping it at the centre to the input, as Caffe does; the real ILSVRC 2012 mean keeps
// SqueezeNet's answers.
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>

#include "caffe_subset.pb.h"
#include "core/file.h"
#include "server/classifier.h"
#include "support/test_util.h"

namespace inferd {
namespace {

namespace fs = std::filesystem;

// The bundled SqueezeNet folder copied to a temp folder with `mean` as its mean.binaryproto
// ([3, h, w], pixel units, BGR as the model takes it).
class MeanFolder {
 public:
  MeanFolder(const std::vector<float>& mean, int h, int w) {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = fs::temp_directory_path() / ("inferd_mean_" + std::to_string(::getpid()) + "_" + info->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "1");
    const fs::path bundled = fs::path(test::source_dir()) / "models/squeezenet";
    for (const char* f : {"config.toml", "labels.txt", "1/model.onnx"}) fs::copy_file(bundled / f, dir_ / f);
    inferd_caffe::BlobProto blob;
    for (int64_t d : {1, 3, h, w}) blob.mutable_shape()->add_dim(d);
    for (float v : mean) blob.add_data(v);
    std::ofstream(dir_ / "mean.binaryproto", std::ios::binary) << blob.SerializeAsString();
  }
  ~MeanFolder() {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  std::string dir() const { return dir_.string(); }

 private:
  fs::path dir_;
};

Result<LoadedModel> load(const std::string& dir) { return load_classifier(dir, "", LoadOptions{}); }

std::vector<float> tensor_of(const LoadedModel& m, const std::string& image) {
  auto bytes = read_file(image);
  EXPECT_TRUE(bytes.is_ok());
  std::vector<float> t(3 * static_cast<size_t>(m.preprocess.width * m.preprocess.height));
  const Status s = image_to_tensor(m, *bytes, t.data());
  EXPECT_TRUE(s.is_ok()) << s.message();
  return t;
}

std::string top1(const LoadedModel& m, const std::string& image) {
  auto ctx = m.engine->create_context();
  EXPECT_TRUE(ctx.is_ok());
  const auto t = tensor_of(m, image);
  std::memcpy((*ctx)->input_data(0), t.data(), t.size() * sizeof(float));
  auto top = classify_batch(m, **ctx, 1, 1);
  EXPECT_TRUE(top.is_ok()) << top.status().message();
  return top.is_ok() ? top.value()[0][0].label : "";
}

constexpr int kSide = 256, kPlane = kSide * kSide;

// Each pixel's mean differs (channel, row, column all count), so a crop at the wrong
// offset or a channel swap shows.
TEST(CaffeMeanImage, IsCroppedAtTheCentreAndSubtractedBeforeScaling) {
  std::vector<float> mean(3 * kPlane);
  for (int c = 0; c < 3; ++c)
    for (int i = 0; i < kPlane; ++i) mean[c * kPlane + i] = 100.0f + 10.0f * c + 0.01f * (i / kSide) + 0.003f * (i % kSide);
  MeanFolder f(mean, kSide, kSide);
  auto with = load(f.dir());
  ASSERT_TRUE(with.is_ok()) << with.status().message();
  auto bundled = load(test::source_dir() + "/models/squeezenet");  // mean = [104, 117, 123] per channel
  ASSERT_TRUE(bundled.is_ok());
  const auto a = tensor_of(*with, test::source_dir() + "/images/1.jpg");
  const auto b = tensor_of(*bundled, test::source_dir() + "/images/1.jpg");
  const float channel_mean[3] = {104, 117, 123};
  const int offset = (kSide - 224) / 2;  // 16: Caffe's centre crop of the 256x256 mean
  float worst = 0;
  for (int c = 0; c < 3; ++c)
    for (int y = 0; y < 224; ++y)
      for (int x = 0; x < 224; ++x) {
        const size_t i = (static_cast<size_t>(c) * 224 + y) * 224 + x;
        const float expected = b[i] + channel_mean[c] - mean[c * kPlane + (offset + y) * kSide + offset + x];
        worst = std::max(worst, std::abs(a[i] - expected));
      }
  EXPECT_LT(worst, 1e-3f);
}

TEST(CaffeMeanImage, TheRealImagenetMeanKeepsTheRabbit) {
  if (auto missing = test::missing_assets({"reference/ilsvrc_2012_mean.npy"}); !missing.empty()) GTEST_SKIP() << missing;
  // numpy 1.0 format: magic, header length (little-endian u16 at 8), header, float64 data.
  auto npy = read_file(test::asset_path("reference/ilsvrc_2012_mean.npy"));
  ASSERT_TRUE(npy.is_ok());
  const size_t header = 10 + (*npy)[8] + 256u * (*npy)[9];
  const std::string dict(npy->begin() + 10, npy->begin() + static_cast<long>(header));
  ASSERT_NE(dict.find("'<f8'"), std::string::npos) << dict;
  ASSERT_NE(dict.find("(3, 256, 256)"), std::string::npos) << dict;
  ASSERT_EQ(npy->size(), header + 3 * kPlane * sizeof(double));
  std::vector<float> mean(3 * kPlane);
  for (size_t i = 0; i < mean.size(); ++i) {
    double v;
    std::memcpy(&v, npy->data() + header + i * sizeof(double), sizeof v);
    mean[i] = static_cast<float>(v);
  }
  MeanFolder f(mean, kSide, kSide);
  auto m = load(f.dir());
  ASSERT_TRUE(m.is_ok()) << m.status().message();
  EXPECT_EQ(top1(*m, test::source_dir() + "/images/1.jpg"), "n02328150 Angora, Angora rabbit");
}

TEST(CaffeMeanImage, AMeanSmallerThanTheInputIsRefusedNamingTheFile) {
  MeanFolder f(std::vector<float>(3 * 100 * 100, 110.0f), 100, 100);
  auto m = load(f.dir());
  ASSERT_FALSE(m.is_ok());
  EXPECT_NE(m.status().message().find("mean.binaryproto: mean image 100x100 is smaller than the input 224x224"),
            std::string::npos)
      << m.status().message();
}

}  // namespace
}  // namespace inferd
