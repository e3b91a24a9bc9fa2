// The host side of device image decoding (server/device_image_decode.h) against a fake
// BatchImageDecoder, so that it runs without a GPU: what each job carries (the CPU path's
// header facts and resize plan, EXIF orientation, rows), the per-image errors found on the
// host, and the config folded into a SampleTransform.
#include "server/device_image_decode.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/file.h"
#include "image/decode.h"
#include "support/test_util.h"

namespace inferd {
namespace {

// Records the jobs it is given; every image decodes.
class RecordingDecoder final : public BatchImageDecoder {
 public:
  Result<std::vector<Status>> decode(std::span<const ImageDecodeJob> jobs, const SampleTransform& transform,
                                     const TensorView&, Stream&) override {
    this->jobs.assign(jobs.begin(), jobs.end());
    this->transform = transform;
    return std::vector<Status>(jobs.size());
  }
  std::string_view backend_name() const override { return "recording"; }
  std::vector<ImageDecodeJob> jobs;
  SampleTransform transform;
};

class NoStream final : public Stream {
 public:
  Status synchronize() override { return Status::ok(); }
  Status record_marker(size_t) override { return Status::ok(); }
  Result<double> elapsed_ms(size_t, size_t) const override { return 0.0; }
};

std::string read_bytes(const std::string& path) {
  auto bytes = read_file(path);
  EXPECT_TRUE(bytes.is_ok()) << path;
  return bytes.is_ok() ? std::string(bytes->begin(), bytes->end()) : std::string();
}

// images/1.jpg with an APP1 "Exif" segment whose IFD0 holds only `orientation`.
std::string with_exif_orientation(const std::string& jpeg, int orientation) {
  const uint8_t tiff[] = {'I', 'I', 42, 0, 8, 0, 0, 0, 1, 0, 0x12, 0x01, 3, 0, 1, 0, 0, 0, uint8_t(orientation),
                          0,   0,   0,  0, 0, 0, 0};
  const size_t length = 2 + 6 + sizeof(tiff);
  std::string app1 = {char(0xFF), char(0xE1), char(length >> 8), char(length & 0xFF)};
  app1 += std::string("Exif\0\0", 6);
  app1.append(reinterpret_cast<const char*>(tiff), sizeof(tiff));
  return jpeg.substr(0, 2) + app1 + jpeg.substr(2);
}

TensorView fake_batch(int n, const image::PreprocessConfig& cfg) {
  static float dummy;
  const Shape shape{n, 3, cfg.height, cfg.width};
  return TensorView(&dummy, shape, dense_strides(shape), DataType::kFloat32, MemoryKind::kDevice);
}

TEST(DeviceImageDecode, JobsCarryTheCpuPathsHeaderAndPlan) {
  const std::string rabbit = read_bytes(test::source_dir() + "/images/1.jpg");
  const std::string rotated = with_exif_orientation(rabbit, 6);
  const image::PreprocessConfig cfg;
  RecordingDecoder decoder;
  NoStream stream;
  const std::vector<std::string_view> images{rabbit, rotated};
  auto r = decode_images_to_batch(decoder, images, cfg, 0, fake_batch(4, cfg), stream);
  ASSERT_TRUE(r.is_ok()) << r.status().message();
  ASSERT_EQ(decoder.jobs.size(), 2u);
  auto info = image::probe_image({reinterpret_cast<const uint8_t*>(rabbit.data()), rabbit.size()});
  ASSERT_TRUE(info.is_ok());
  for (int k = 0; k < 2; ++k) {
    const ImageDecodeJob& job = decoder.jobs[k];
    EXPECT_EQ(job.row, k);
    EXPECT_EQ(job.width, info->width);
    EXPECT_EQ(job.height, info->height);
    EXPECT_EQ(job.orientation, k == 0 ? 1 : 6);
    const bool swaps = k == 1;
    auto plan = image::plan_resize_crop(swaps ? info->height : info->width, swaps ? info->width : info->height, cfg);
    ASSERT_TRUE(plan.is_ok());
    EXPECT_EQ(job.resized_width, plan->resized_width) << k;
    EXPECT_EQ(job.resized_height, plan->resized_height) << k;
    EXPECT_EQ(job.crop_x, plan->crop_x) << k;
    EXPECT_EQ(job.crop_y, plan->crop_y) << k;
  }
}

TEST(DeviceImageDecode, HostErrorsFailTheirImageAlone) {
  const std::string rabbit = read_bytes(test::source_dir() + "/images/1.jpg");
  // The shared assets' PNG, when they are there (a bare clone has none).
  const std::string png = test::missing_assets({"images/winml/fish.png"}).empty()
                              ? read_bytes(test::asset_path("images/winml/fish.png"))
                              : std::string();
  const image::PreprocessConfig cfg;
  RecordingDecoder decoder;
  NoStream stream;
  const std::string garbage(100, 'x');
  std::vector<std::string_view> images{std::string_view(), rabbit, garbage, rabbit};
  if (!png.empty()) images.push_back(png);
  auto r = decode_images_to_batch(decoder, images, cfg, 1000, fake_batch(8, cfg), stream);
  ASSERT_TRUE(r.is_ok()) << r.status().message();
  EXPECT_EQ((*r)[0].message(), "empty image");
  EXPECT_EQ((*r)[1].code(), StatusCode::kResourceExhausted) << (*r)[1].message();  // over 1000 pixels
  EXPECT_NE((*r)[2].message().find("unsupported image format"), std::string::npos) << (*r)[2].message();
  EXPECT_EQ((*r)[3].code(), StatusCode::kResourceExhausted);
  if (!png.empty()) {
    EXPECT_EQ((*r)[4].code(), StatusCode::kUnimplemented) << (*r)[4].message();
  }
  EXPECT_TRUE(decoder.jobs.empty());  // nothing was left for the device

  r = decode_images_to_batch(decoder, images, cfg, 0, fake_batch(8, cfg), stream);
  ASSERT_TRUE(r.is_ok()) << r.status().message();
  ASSERT_EQ(decoder.jobs.size(), 2u);
  EXPECT_EQ(decoder.jobs[0].row, 1);
  EXPECT_EQ(decoder.jobs[1].row, 3);
  EXPECT_TRUE((*r)[1].is_ok() && (*r)[3].is_ok());

  // The CPU path's decode-cost bound: a 99-scan progressive JPEG never reaches the device.
  const std::string scans = read_bytes(test::source_dir() + "/tests/image/data/progressive_99_scans.jpg");
  const std::vector<std::string_view> hostile{scans};
  r = decode_images_to_batch(decoder, hostile, cfg, 0, fake_batch(1, cfg), stream);
  ASSERT_TRUE(r.is_ok()) << r.status().message();
  EXPECT_EQ((*r)[0].code(), StatusCode::kInvalidArgument);
  EXPECT_NE((*r)[0].message().find("JPEG has 99 scans"), std::string::npos) << (*r)[0].message();

  auto none = decode_images_to_batch(decoder, {}, cfg, 0, fake_batch(8, cfg), stream);
  EXPECT_EQ(none.status().code(), StatusCode::kInvalidArgument);
  auto small = decode_images_to_batch(decoder, images, cfg, 0, fake_batch(2, cfg), stream);
  EXPECT_EQ(small.status().code(), StatusCode::kInvalidArgument) << small.status().message();
}

TEST(DeviceImageDecode, TheConfigFoldsAsThePreprocessorFoldsIt) {
  image::PreprocessConfig cfg;
  cfg.channel_order = image::ChannelOrder::kBgr;
  cfg.scale = 1.0f;
  cfg.mean = {104, 117, 123};
  cfg.std = {1, 1, 2};
  auto t = sample_transform(cfg);
  ASSERT_TRUE(t.is_ok()) << t.status().message();
  EXPECT_EQ(t->source_channel, (std::array<int, 3>{2, 1, 0}));
  EXPECT_EQ(t->gain, (std::array<float, 3>{1.0f, 1.0f, 0.5f}));
  EXPECT_EQ(t->bias, (std::array<float, 3>{-104.0f, -117.0f, -61.5f}));
  cfg.mean_image = std::make_shared<const std::vector<float>>(3 * 224 * 224, 0.0f);
  EXPECT_EQ(sample_transform(cfg).status().code(), StatusCode::kUnimplemented);
  cfg.mean_image.reset();
  cfg.std = {1, 0, 1};
  EXPECT_EQ(sample_transform(cfg).status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace inferd
