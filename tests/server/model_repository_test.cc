// The model repository under races and odd folders: a SIGHUP reload builds every loaded
// model anew while requests (and management calls) go on, and a model unloaded through the
// API while the reload builds it must stay unloaded (the reload installs its build only in
// place of the very model it started from); entries of the repository folder that cannot
// be read are skipped, never an exception that would end the server.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <future>
#include <thread>

#include "server/model_repository.h"
#include "support/ort_oracle.h"  // temp_dir()
#include "server_test_env.h"

namespace inferd::test {
namespace {

// A repository with one model whose build takes a few tenths of a second (12,000 nodes,
// built anew each time: no plan cache here), so that an unload lands inside a reload's
// build every time.
std::string slow_build_repository() {
  const std::filesystem::path repo = std::filesystem::path(temp_dir()) / "reload_race";
  std::filesystem::create_directories(repo / "chain" / "1");
  std::ofstream(repo / "chain" / "1" / "model.onnx", std::ios::binary) << relu_chain_model(12000);
  std::ofstream(repo / "chain" / "config.toml") << "max_batch = 1\n";
  return repo.string();
}

TEST(ModelReloadRace, AnUnloadDuringTheReloadsBuildIsNotUndone) {
  ModelRepository models(slow_build_repository(), ServeModelOptions{});
  ASSERT_TRUE(models.load_all().is_ok());
  const auto start = std::chrono::steady_clock::now();
  ASSERT_TRUE(models.reload_all().is_ok());
  const auto build = std::chrono::steady_clock::now() - start;  // how long a reload's build takes
  int unloaded_during_build = 0;
  for (int round = 0; round < 5 && unloaded_during_build < 2; ++round) {
    if (!models.find("chain")) {
      ASSERT_TRUE(models.load("chain").is_ok());
    }
    auto reload = std::async(std::launch::async, [&] { return models.reload_all(); });
    std::this_thread::sleep_for(build * 3 / 10);  // inside the reload's build, most times
    const bool building = reload.wait_for(std::chrono::seconds(0)) != std::future_status::ready;
    ASSERT_TRUE(models.unload("chain").is_ok());
    ASSERT_TRUE(reload.get().is_ok());
    if (building) ++unloaded_during_build;
    EXPECT_EQ(models.find("chain"), nullptr) << "round " << round << ": the reload brought the unloaded model back";
  }
  EXPECT_GT(unloaded_during_build, 0) << "no unload landed inside a build: the test proved nothing";
}

TEST(ModelRepositoryFolder, ASymlinkLoopInTheRepositoryIsSkipped) {
  const std::string root = make_repository("repository_loop", {});
  std::filesystem::remove(std::filesystem::path(root) / "loop");
  std::filesystem::create_symlink("loop", std::filesystem::path(root) / "loop");  // ELOOP on stat
  ModelRepository models(root, ServeModelOptions{});
  EXPECT_EQ(models.available(), std::vector<std::string>{"squeezenet"});
  ASSERT_TRUE(models.load_all().is_ok());
  const Status s = models.load("loop");  // named through the API: an error, not an exception
  EXPECT_EQ(s.code(), StatusCode::kNotFound) << s.message();
}

}  // namespace
}  // namespace inferd::test
