#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>

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

// True when a file can be created in `dir`. chmod stops no write for root (tests may run as
// root), so a read-only mode only makes a cache unwritable where this says false.
bool can_create_in(const fs::path& dir) {
  const fs::path probe = dir / "write_probe";
  const int fd = ::open(probe.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return false;
  ::close(fd);
  fs::remove(probe);
  return true;
}

// A model folder whose plan cache cannot be written still loads, with the same plan, and
// the lost cache is logged as a warning. A `.inferd-cache` symlink loop used to throw out of
// the load (std::filesystem::exists failing with ELOOP), which on the management thread
// ended the server.
TEST(PlanCache, AnUnwritableCacheIsAWarningNotAFailure) {
  auto backend = create_backend("cpu", {}).value();
  const BuildOptions options{1, "fp32"};
  const std::string source = test::source_dir() + "/models/squeezenet/1/model.onnx";
  const auto expected = serialize_plan(load_or_build(source, *backend, options).value());
  const struct {
    std::string what;
    bool needs_permissions;  // made unwritable by a mode, which root ignores
    std::function<void(const fs::path& version, const fs::path& cache_entry)> make;
  } cases[] = {
      {"a read-only version folder", true,
       [](const fs::path& v, const fs::path&) { fs::permissions(v, fs::perms(0555)); }},
      {"a read-only .inferd-cache", true,
       [](const fs::path& v, const fs::path&) {
         fs::create_directory(v / ".inferd-cache");
         fs::permissions(v / ".inferd-cache", fs::perms(0555));
       }},
      {".inferd-cache is a regular file", false,
       [](const fs::path& v, const fs::path&) { std::ofstream(v / ".inferd-cache") << "not a folder"; }},
      {".inferd-cache is a symlink loop", false,
       [](const fs::path& v, const fs::path&) { fs::create_symlink(".inferd-cache", v / ".inferd-cache"); }},
      {"the cache entry's name is taken by a folder", false,
       [](const fs::path&, const fs::path& entry) { fs::create_directories(entry); }},
  };
  int unwritable = 0;
  for (const auto& c : cases) {
    const fs::path version = fs::path(test::temp_dir()) / "cache_unwritable" / "1";
    if (fs::exists(version)) fs::permissions(version, fs::perms(0755));
    fs::remove_all(version.parent_path());
    fs::create_directories(version);
    const fs::path model = version / "model.onnx";
    fs::copy_file(source, model);
    const auto bytes = read_file(model.string()).value();
    c.make(version, plan_cache_path(model.string(), bytes, *backend, options));
    std::error_code loop;  // is_directory fails with ELOOP on the symlink loop
    const bool has_cache_dir = fs::is_directory(version / ".inferd-cache", loop);
    const fs::path writable_dir = has_cache_dir ? version / ".inferd-cache" : version;
    if (c.needs_permissions && can_create_in(writable_dir)) {
      std::cout << c.what << ": not tried, chmod does not stop this user's writes (root)\n";
      continue;
    }
    ++unwritable;
    testing::internal::CaptureStderr();
    auto plan = load_or_build_cached(model.string(), *backend, options);
    const std::string log = testing::internal::GetCapturedStderr();
    fs::permissions(version, fs::perms(0755));
    EXPECT_TRUE(plan.is_ok()) << c.what << ": " << plan.status().message();
    if (!plan.is_ok()) continue;
    EXPECT_EQ(serialize_plan(*plan), expected) << c.what;
    EXPECT_NE(log.find("level=warn event=plan_cache_not_written"), std::string::npos) << c.what << ": " << log;
  }
  EXPECT_GE(unwritable, 3);
}

}  // namespace
}  // namespace inferd
