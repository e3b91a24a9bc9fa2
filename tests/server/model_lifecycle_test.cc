// Model lifecycle: reloads and unloads retire models without leaking a thread each, a
// model unloaded through the API stays unloaded across SIGHUP (Server::reload()), and a
// model whose plan cache cannot be written still loads and serves.
#include <dirent.h>
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include "http_client.h"
#include "server_test_env.h"

namespace inferd::test {
namespace {

int thread_count() {
  int n = 0;
  if (DIR* d = opendir("/proc/self/task")) {
    while (dirent* e = readdir(d))
      if (e->d_name[0] != '.') ++n;
    closedir(d);
  }
  return n;
}

// Retired models are freed by the reaper shortly after their last request: wait for the
// thread count to settle at or below `limit`.
int settle_threads(int limit) {
  int n = thread_count();
  for (int i = 0; i < 500 && n > limit; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    n = thread_count();
  }
  return n;
}

TEST(ModelLifecycle, ReloadsDoNotLeaveAThreadPerRetiredModel) {
  auto server = start_test_server({}, "lifecycle_reload");
  ASSERT_NE(server, nullptr);
  ASSERT_TRUE(server->reload().is_ok());  // the first retire starts the one reaper
  const int before = settle_threads(0);
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(server->reload().is_ok());
  // 10 retired models, each with its instance's batcher thread: all gone again.
  EXPECT_LE(settle_threads(before), before);
  HttpClient client(server->port());
  const auto r = client.request("POST", "/classify", image(1), {"Content-Type: image/jpeg"});
  ASSERT_TRUE(r.has_value()) << client.error();
  EXPECT_EQ(r->status, 200) << r->body;
}

TEST(ModelLifecycle, AModelUnloadedThroughTheApiStaysUnloadedAfterSighup) {
  TestServerConfig c;
  c.management = true;
  auto server = start_test_server(c, "lifecycle_unload");
  ASSERT_NE(server, nullptr);
  HttpClient client(server->port());
  const auto unloaded = client.request("POST", "/v2/repository/models/squeezenet/unload", "", {});
  ASSERT_TRUE(unloaded.has_value()) << client.error();
  ASSERT_EQ(unloaded->status, 200) << unloaded->body;
  ASSERT_TRUE(server->reload().is_ok());  // what SIGHUP does
  const auto ready = client.request("GET", "/v2/models/squeezenet/ready", "", {});
  ASSERT_TRUE(ready.has_value()) << client.error();
  EXPECT_NE(ready->status, 200) << "the unloaded model came back on reload";
  // Loading it again through the API brings it back.
  const auto loaded = client.request("POST", "/v2/repository/models/squeezenet/load", "", {});
  ASSERT_TRUE(loaded.has_value()) << client.error();
  EXPECT_EQ(loaded->status, 200) << loaded->body;
  const auto ready_again = client.request("GET", "/v2/models/squeezenet/ready", "", {});
  ASSERT_TRUE(ready_again.has_value()) << client.error();
  EXPECT_EQ(ready_again->status, 200);
}

// A plan cache that cannot be written costs the cache, not the model: here a
// `.inferd-cache` symlink loop (which root cannot write through either), planted before
// start-up. It used to throw out of the plan-cache lookup: start-up failed, and a load
// through the API, on the management thread, ended the server.
TEST(ModelLifecycle, AModelWhosePlanCacheCannotBeWrittenLoadsAndServes) {
  TestServerConfig c;
  c.management = true;
  const std::filesystem::path version =
      std::filesystem::path(make_repository("lifecycle_cache", c)) / "squeezenet" / "1";
  std::filesystem::create_symlink(".inferd-cache", version / ".inferd-cache");
  testing::internal::CaptureStderr();
  auto server = start_test_server(c, "lifecycle_cache");
  const std::string log = testing::internal::GetCapturedStderr();
  ASSERT_NE(server, nullptr);
  EXPECT_NE(log.find("level=warn event=plan_cache_not_written"), std::string::npos) << log;
  HttpClient client(server->port());
  const auto first = client.request("POST", "/classify", image(1), {"Content-Type: image/jpeg"});
  ASSERT_TRUE(first.has_value()) << client.error();
  EXPECT_EQ(first->status, 200) << first->body;
  const auto loaded = client.request("POST", "/v2/repository/models/squeezenet/load", "", {});
  ASSERT_TRUE(loaded.has_value()) << client.error();
  EXPECT_EQ(loaded->status, 200) << loaded->body;
  const auto again = client.request("POST", "/classify", image(1), {"Content-Type: image/jpeg"});
  ASSERT_TRUE(again.has_value()) << client.error();
  EXPECT_EQ(again->status, 200) << again->body;
  EXPECT_NE(again->body.find("n02328150 Angora, Angora rabbit"), std::string::npos) << again->body;
}

}  // namespace
}  // namespace inferd::test
