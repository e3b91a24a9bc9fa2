// The CUDA backend's GPU JPEG decoder, the parts that run without a GPU: loading nvJPEG
// (the missing-library error a user meets on a machine without it) and the truncation
// check that runs before nvJPEG sees an image.
#include <gtest/gtest.h>

#include <vector>

#include "backends/cuda/gpu_jpeg_decoder.h"
#include "backends/cuda/nvjpeg_api.h"
#include "core/file.h"
#include "support/test_util.h"

namespace inferd::cuda {
namespace {

TEST(NvjpegLoader, AMissingLibraryIsNamedInTheError) {
  auto api = load_nvjpeg({"libinferd-test-no-such-nvjpeg.so.13", "libinferd-test-no-such-nvjpeg.so"});
  ASSERT_FALSE(api.is_ok());
  EXPECT_EQ(api.status().code(), StatusCode::kFailedPrecondition);
  const std::string& m = api.status().message();
  EXPECT_NE(m.find("GPU JPEG decoding needs nvJPEG"), std::string::npos) << m;
  EXPECT_NE(m.find("libinferd-test-no-such-nvjpeg.so.13, libinferd-test-no-such-nvjpeg.so"), std::string::npos) << m;
}

TEST(NvjpegLoader, TheRealLibraryLoadsOrItsAbsenceIsNamed) {
  auto api = nvjpeg_api();
  if (api.is_ok()) {
    EXPECT_FALSE((*api)->library.empty());
    EXPECT_NE((*api)->decode, nullptr);
    return;
  }
  EXPECT_EQ(api.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(api.status().message().find("libnvjpeg.so.13"), std::string::npos) << api.status().message();
}

TEST(NvjpegLoader, StatusNamesFollowTheDocumentedValues) {
  EXPECT_EQ(nvjpeg_status_name(0), "NVJPEG_STATUS_SUCCESS");
  EXPECT_EQ(nvjpeg_status_name(3), "NVJPEG_STATUS_BAD_JPEG");
  EXPECT_EQ(nvjpeg_status_name(9), "NVJPEG_STATUS_IMPLEMENTATION_NOT_SUPPORTED");
  EXPECT_EQ(nvjpeg_status_name(42), "nvJPEG status 42");
}

TEST(JpegEndMarker, ACompleteFileHasOneAndATruncatedOneNot) {
  auto bytes = read_file(test::source_dir() + "/images/1.jpg");
  ASSERT_TRUE(bytes.is_ok()) << bytes.status().message();
  const std::vector<uint8_t>& jpeg = *bytes;
  EXPECT_TRUE(jpeg_has_end_marker(jpeg));
  EXPECT_FALSE(jpeg_has_end_marker(std::span(jpeg).first(jpeg.size() / 2)));
  EXPECT_FALSE(jpeg_has_end_marker(std::span(jpeg).first(jpeg.size() - 2)));  // just the EOI cut
  std::vector<uint8_t> trailing = jpeg;  // bytes after EOI (camera files have them) are fine
  trailing.insert(trailing.end(), {0x00, 0x11, 0x22});
  EXPECT_TRUE(jpeg_has_end_marker(trailing));
  EXPECT_FALSE(jpeg_has_end_marker(std::vector<uint8_t>{0xFF, 0xD8, 0x12, 0x34, 0x56}));
  EXPECT_FALSE(jpeg_has_end_marker(std::vector<uint8_t>{}));
}

}  // namespace
}  // namespace inferd::cuda
