#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "backends/api/registry.h"
#include "builder/builder.h"
#include "core/file.h"
#include "support/model_env.h"
#include "support/ort_oracle.h"
#include "support/test_util.h"

namespace inferd {
namespace {

namespace fs = std::filesystem;

TEST(PlanCache, BuildsOnceThenLoadsAndSurvivesACorruptEntry) {
  auto backend = create_backend("cpu", {}).value();
  const fs::path dir = fs::path(test::temp_dir()) / "cache_model";
  fs::create_directories(dir);
  const fs::path model = dir / "model.onnx";
  fs::copy_file(test::source_dir() + "/models/squeezenet/1/model.onnx", model, fs::copy_options::overwrite_existing);
  const BuildOptions options{4, "fp32"};
  const auto bytes = read_file(model.string()).value();
  const std::string cached = plan_cache_path(model.string(), bytes, *backend, options);
  EXPECT_EQ(fs::path(cached).parent_path(), dir / ".inferd-cache");
  fs::remove_all(dir / ".inferd-cache");

  auto first = load_or_build_cached(model.string(), *backend, options);
  ASSERT_TRUE(first.is_ok()) << first.status().message();
  ASSERT_TRUE(fs::exists(cached));
  const auto written = fs::last_write_time(cached);
  auto second = load_or_build_cached(model.string(), *backend, options);
  ASSERT_TRUE(second.is_ok());
  EXPECT_EQ(fs::last_write_time(cached), written) << "a cache hit must not rebuild";
  EXPECT_EQ(serialize_plan(*second), serialize_plan(*first));

  // Another max batch is another key.
  EXPECT_NE(plan_cache_path(model.string(), bytes, *backend, {8, "fp32"}), cached);

  std::ofstream(cached, std::ios::binary | std::ios::trunc) << "garbage";
  auto third = load_or_build_cached(model.string(), *backend, options);
  ASSERT_TRUE(third.is_ok()) << third.status().message();
  EXPECT_EQ(serialize_plan(*third), serialize_plan(*first));
  EXPECT_GT(fs::file_size(cached), 1000u) << "the corrupt entry is rebuilt";
}

// A .inferd-cache symlink planted in a model folder must not make inferd write through it:
// the model still loads, the plan is simply not cached, the link's target stays untouched.
TEST(PlanCache, ACacheFolderSymlinkIsNotWrittenThrough) {
  auto backend = create_backend("cpu", {}).value();
  const fs::path dir = fs::path(test::temp_dir()) / "cache_symlink_model";
  const fs::path elsewhere = fs::path(test::temp_dir()) / "cache_symlink_elsewhere";
  fs::remove_all(dir);
  fs::remove_all(elsewhere);
  fs::create_directories(dir);
  fs::create_directories(elsewhere);
  const fs::path model = dir / "model.onnx";
  fs::copy_file(test::source_dir() + "/models/squeezenet/1/model.onnx", model);
  fs::create_directory_symlink(elsewhere, dir / ".inferd-cache");
  auto plan = load_or_build_cached(model.string(), *backend, {2, "fp32"});
  ASSERT_TRUE(plan.is_ok()) << plan.status().message();
  EXPECT_TRUE(fs::is_empty(elsewhere)) << "a plan was written through the symlink";
}

}  // namespace
}  // namespace inferd
