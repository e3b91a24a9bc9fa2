// A SIGHUP reload builds every loaded model anew while requests (and management calls) go
// on; a model unloaded through the API while the reload builds it must stay unloaded: the
// reload installs its build only in place of the very model it started from.
#include <gtest/gtest.h>

#include <chrono>
#include <future>
#include <thread>

#include "server/model_repository.h"
#include "server_test_env.h"

namespace inferd::test {
namespace {

TEST(ModelReloadRace, AnUnloadDuringTheReloadsBuildIsNotUndone) {
  ModelRepository models(make_repository("reload_race", {}), ServeModelOptions{});
  ASSERT_TRUE(models.load_all().is_ok());
  const auto start = std::chrono::steady_clock::now();
  ASSERT_TRUE(models.reload_all().is_ok());  // one build alone: how long the window is
  const auto build = std::chrono::steady_clock::now() - start;
  int unloaded_during_build = 0;
  for (int round = 0; round < 5; ++round) {
    if (!models.find("squeezenet")) ASSERT_TRUE(models.load("squeezenet").is_ok());
    auto reload = std::async(std::launch::async, [&] { return models.reload_all(); });
    std::this_thread::sleep_for(build / 4);  // well inside the reload's build
    const bool building = reload.wait_for(std::chrono::seconds(0)) != std::future_status::ready;
    ASSERT_TRUE(models.unload("squeezenet").is_ok());
    ASSERT_TRUE(reload.get().is_ok());
    if (building) ++unloaded_during_build;
    EXPECT_EQ(models.find("squeezenet"), nullptr) << "round " << round << ": the reload brought the unloaded model back";
  }
  EXPECT_GT(unloaded_during_build, 0) << "no unload landed inside a build: the test proved nothing";
}

}  // namespace
}  // namespace inferd::test
