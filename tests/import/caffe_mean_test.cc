// Caffe's mean.binaryproto: a BlobProto read as a [3, H, W] mean image; bad files are
// errors naming the file.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "caffe_subset.pb.h"
#include "import/caffe/caffe_mean.h"

namespace inferd {
namespace {

std::vector<uint8_t> bytes_of(const inferd_caffe::BlobProto& blob) {
  const std::string s = blob.SerializeAsString();
  return {s.begin(), s.end()};
}

inferd_caffe::BlobProto mean_blob(std::vector<int64_t> dims, float from) {
  inferd_caffe::BlobProto blob;
  int64_t count = 1;
  for (int64_t d : dims) {
    blob.mutable_shape()->add_dim(d);
    count *= d;
  }
  for (int64_t i = 0; i < count; ++i) blob.add_data(from + 0.5f * static_cast<float>(i));
  return blob;
}

TEST(CaffeMean, ABlobOfOneByThreeByHByWIsTheMeanImage) {
  auto mean = import_caffe_mean_bytes(bytes_of(mean_blob({1, 3, 4, 5}, 100.0f)), "mean.binaryproto");
  ASSERT_TRUE(mean.is_ok()) << mean.status().message();
  EXPECT_EQ(mean->shape(), (Shape{3, 4, 5}));
  EXPECT_EQ(mean->floats()[0], 100.0f);
  EXPECT_EQ(mean->floats()[59], 100.0f + 0.5f * 59);
}

TEST(CaffeMean, LegacyFourDimensionFieldsAndDoublesAreRead) {
  inferd_caffe::BlobProto blob;
  blob.set_num(1);
  blob.set_channels(3);
  blob.set_height(2);
  blob.set_width(2);
  for (int i = 0; i < 12; ++i) blob.add_double_data(10.0 + i);
  auto mean = import_caffe_mean_bytes(bytes_of(blob), "legacy.binaryproto");
  ASSERT_TRUE(mean.is_ok()) << mean.status().message();
  EXPECT_EQ(mean->shape(), (Shape{3, 2, 2}));
  EXPECT_EQ(mean->floats()[11], 21.0f);
}

TEST(CaffeMean, BadFilesAreErrorsNamingTheFile) {
  auto bytes = bytes_of(mean_blob({1, 3, 4, 5}, 1.0f));
  bytes.resize(bytes.size() / 2);
  auto truncated = import_caffe_mean_bytes(bytes, "cut.binaryproto");
  ASSERT_FALSE(truncated.is_ok());
  EXPECT_EQ(truncated.status().code(), StatusCode::kDataLoss);
  EXPECT_NE(truncated.status().message().find("cut.binaryproto: not a Caffe BlobProto"), std::string::npos);

  auto gray = import_caffe_mean_bytes(bytes_of(mean_blob({1, 1, 4, 5}, 1.0f)), "gray.binaryproto");
  ASSERT_FALSE(gray.is_ok());
  EXPECT_NE(gray.status().message().find("gray.binaryproto: mean image of shape [1,1,4,5]"), std::string::npos)
      << gray.status().message();

  auto short_blob = mean_blob({1, 3, 4, 5}, 1.0f);
  short_blob.mutable_data()->RemoveLast();
  auto missing = import_caffe_mean_bytes(bytes_of(short_blob), "short.binaryproto");
  ASSERT_FALSE(missing.is_ok());
  EXPECT_NE(missing.status().message().find("holds 59 values"), std::string::npos) << missing.status().message();

  auto nan_blob = mean_blob({3, 2, 2}, 1.0f);
  nan_blob.set_data(3, std::numeric_limits<float>::quiet_NaN());
  EXPECT_NE(import_caffe_mean_bytes(bytes_of(nan_blob), "nan.binaryproto").status().message().find("not finite"),
            std::string::npos);
  EXPECT_FALSE(import_caffe_mean_bytes({}, "empty.binaryproto").is_ok());
  auto absent = import_caffe_mean("/nonexistent/mean.binaryproto");
  ASSERT_FALSE(absent.is_ok());
  EXPECT_NE(absent.status().message().find("/nonexistent/mean.binaryproto"), std::string::npos);
}

}  // namespace
}  // namespace inferd
