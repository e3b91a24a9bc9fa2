// External tensor data: read from next to the model, never from outside its folder.
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>

#include "core/file.h"
#include "import/onnx/onnx_importer.h"
#include "import/onnx_model_builder.h"
#include "support/test_util.h"

namespace inferd {
namespace {

using test::OnnxModelBuilder;

// y = x + w, with w [2,3] stored in `location` (at byte `offset`) when given.
OnnxModelBuilder model_with_external_weight(const std::string& location, int64_t offset, int64_t length) {
  OnnxModelBuilder b(13);
  b.input("x", {2, 3});
  auto* w = b.graph().add_initializer();
  w->set_name("w");
  w->set_data_type(onnx::TensorProto::FLOAT);
  w->add_dims(2);
  w->add_dims(3);
  w->set_data_location(onnx::TensorProto::EXTERNAL);
  auto add_key = [&](const std::string& k, const std::string& v) {
    auto* e = w->add_external_data();
    e->set_key(k);
    e->set_value(v);
  };
  add_key("location", location);
  if (offset >= 0) add_key("offset", std::to_string(offset));
  if (length >= 0) add_key("length", std::to_string(length));
  b.node("Add", {"x", "w"}, {"y"});
  b.output("y");
  return b;
}

void write_bytes(const std::string& path, const std::vector<uint8_t>& bytes) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  ASSERT_TRUE(write_file(path, bytes).is_ok()) << path;
}

std::vector<uint8_t> float_bytes(const Tensor& t, size_t leading_padding) {
  std::vector<uint8_t> out(leading_padding + t.byte_size(), 0xAB);
  std::memcpy(out.data() + leading_padding, t.raw(), t.byte_size());
  return out;
}

TEST(OnnxExternalData, WeightsNextToTheModel) {
  const std::string dir = test::make_temp_dir();
  const Tensor w = test::random_tensor({2, 3}, 42);
  write_bytes(dir + "/weights/w.bin", float_bytes(w, 16));
  write_bytes(dir + "/model.onnx", model_with_external_weight("weights/w.bin", 16, 24).bytes());
  auto g = import_onnx(dir + "/model.onnx");
  ASSERT_TRUE(g.is_ok()) << g.status().message();
  const ir::Value& v = test::value_named(*g, "w");
  ASSERT_TRUE(v.is_constant());
  EXPECT_EQ(test::compare(*v.constant, w).max_abs, 0.0f);
  std::filesystem::remove_all(dir);
}

TEST(OnnxExternalData, LengthDefaultsToTheRestOfTheFile) {
  const std::string dir = test::make_temp_dir();
  const Tensor w = test::random_tensor({2, 3}, 43);
  write_bytes(dir + "/w.bin", float_bytes(w, 0));
  write_bytes(dir + "/model.onnx", model_with_external_weight("w.bin", -1, -1).bytes());
  auto g = import_onnx(dir + "/model.onnx");
  ASSERT_TRUE(g.is_ok()) << g.status().message();
  EXPECT_EQ(test::compare(*test::value_named(*g, "w").constant, w).max_abs, 0.0f);
  std::filesystem::remove_all(dir);
}

Status import_status(const std::string& dir, const std::string& location, int64_t offset = -1,
                     int64_t length = -1) {
  write_bytes(dir + "/model.onnx", model_with_external_weight(location, offset, length).bytes());
  auto g = import_onnx(dir + "/model.onnx");
  return g.status();
}

TEST(OnnxExternalData, EscapingPathIsRejected) {
  const std::string root = test::make_temp_dir();
  write_bytes(root + "/secret.bin", float_bytes(test::random_tensor({2, 3}, 1), 0));
  const Status s = import_status(root + "/model", "../secret.bin");
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("initializer 'w': external data location '../secret.bin' is outside the model's folder"),
            std::string::npos)
      << s.message();
  const Status nested = import_status(root + "/model", "a/../../secret.bin");
  EXPECT_EQ(nested.code(), StatusCode::kInvalidArgument) << nested.message();
  std::filesystem::remove_all(root);
}

TEST(OnnxExternalData, AbsolutePathIsRejected) {
  const std::string dir = test::make_temp_dir();
  const Status s = import_status(dir, "/etc/passwd");
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("is absolute"), std::string::npos) << s.message();
  std::filesystem::remove_all(dir);
}

TEST(OnnxExternalData, SymlinkLeadingOutsideIsRejected) {
  const std::string root = test::make_temp_dir();
  write_bytes(root + "/secret.bin", float_bytes(test::random_tensor({2, 3}, 1), 0));
  std::filesystem::create_directories(root + "/model");
  std::filesystem::create_symlink(root + "/secret.bin", root + "/model/link.bin");
  const Status s = import_status(root + "/model", "link.bin");
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("leads outside the model's folder"), std::string::npos) << s.message();
  std::filesystem::remove_all(root);
}

TEST(OnnxExternalData, MissingShortAndMismatchedFiles) {
  const std::string dir = test::make_temp_dir();
  EXPECT_EQ(import_status(dir, "absent.bin").code(), StatusCode::kNotFound);
  write_bytes(dir + "/short.bin", std::vector<uint8_t>(10, 1));
  const Status short_file = import_status(dir, "short.bin", 0, 24);
  EXPECT_EQ(short_file.code(), StatusCode::kDataLoss);
  EXPECT_NE(short_file.message().find("truncated"), std::string::npos) << short_file.message();
  const Status wrong_length = import_status(dir, "short.bin", 0, 8);
  EXPECT_NE(wrong_length.message().find("external data length 8 does not match the 24 bytes"), std::string::npos)
      << wrong_length.message();
  const Status past_end = import_status(dir, "short.bin", 1000, 24);
  EXPECT_EQ(past_end.code(), StatusCode::kDataLoss);
  const Status bad_offset = import_status(dir, "short.bin", -1, -1);
  EXPECT_EQ(bad_offset.code(), StatusCode::kDataLoss);  // 10 bytes for 24 wanted
  std::filesystem::remove_all(dir);
}

TEST(OnnxExternalData, BytesWithoutAFolderAreRejected) {
  auto g = model_with_external_weight("w.bin", -1, -1).import("mem.onnx", "");
  ASSERT_FALSE(g.is_ok());
  EXPECT_EQ(g.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(g.status().message().find("mem.onnx: initializer 'w': uses external data"), std::string::npos)
      << g.status().message();
}

}  // namespace
}  // namespace inferd
