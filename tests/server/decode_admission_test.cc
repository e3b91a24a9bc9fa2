// Admission to the image decoders is bounded (server/worker_pool.h): work over the limits
// is refused at once, 503 + Retry-After through the server, instead of queueing without
// bound (756 MB of uploads were held with no pushback before).
#include <gtest/gtest.h>

#include <atomic>
#include <future>

#include "http_client.h"
#include "server/worker_pool.h"
#include "server_test_env.h"

namespace inferd::test {
namespace {

// A pool of one thread held busy until `release` is set.
struct BlockedPool {
  explicit BlockedPool(WorkerPool::Limits limits) : pool(1, "test-decode", limits) {
    pool.submit([this] { released.get_future().wait(); });
  }
  ~BlockedPool() { release(); }
  void release() {
    if (!done.exchange(true)) released.set_value();
  }
  std::promise<void> released;
  std::atomic<bool> done{false};
  WorkerPool pool;  // last: joined first, while the promise still exists
};

TEST(DecodeAdmission, TasksOverTheLimitAreRefusedNamingWhatIsPending) {
  BlockedPool blocked({2, 0});
  std::atomic<int> ran{0};
  EXPECT_TRUE(blocked.pool.try_submit([&] { ++ran; }, 10).is_ok());
  EXPECT_TRUE(blocked.pool.try_submit([&] { ++ran; }, 10).is_ok());
  const Status refused = blocked.pool.try_submit([&] { ++ran; }, 10);
  EXPECT_EQ(refused.code(), StatusCode::kResourceExhausted);
  EXPECT_NE(refused.message().find("2 images"), std::string::npos) << refused.message();
  EXPECT_NE(refused.message().find("retry later"), std::string::npos) << refused.message();
  EXPECT_EQ(blocked.pool.pending_tasks(), 2u);
  EXPECT_EQ(blocked.pool.pending_bytes(), 20u);
  blocked.release();
  for (int i = 0; i < 1000 && blocked.pool.pending_tasks() > 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(2));
  EXPECT_EQ(ran.load(), 2);  // the refused task never runs
  EXPECT_EQ(blocked.pool.pending_tasks(), 0u);
  EXPECT_EQ(blocked.pool.pending_bytes(), 0u);
  EXPECT_TRUE(blocked.pool.try_submit([] {}, 10).is_ok());  // room again once decoded
}

TEST(DecodeAdmission, BytesOverTheLimitAreRefused) {
  BlockedPool blocked({0, 1000});
  EXPECT_TRUE(blocked.pool.try_submit([] {}, 600).is_ok());
  EXPECT_EQ(blocked.pool.try_submit([] {}, 600).code(), StatusCode::kResourceExhausted);
  EXPECT_TRUE(blocked.pool.try_submit([] {}, 400).is_ok());  // what still fits is admitted
  EXPECT_EQ(blocked.pool.pending_bytes(), 1000u);
}

TEST(DecodeAdmission, TheServerAnswers503WithRetryAfterOverTheBound) {
  TestServerConfig c;
  c.max_decode_queue_bytes = 1024;  // smaller than any photo: every image is over the bound
  auto server = start_test_server(c, "decode_admission");
  ASSERT_NE(server, nullptr);
  HttpClient client(server->port());
  const auto r = client.request("POST", "/classify", image(1), {"Content-Type: image/jpeg"});
  ASSERT_TRUE(r.has_value()) << client.error();
  EXPECT_EQ(r->status, 503) << r->body;
  EXPECT_EQ(r->header("retry-after"), "1");
  EXPECT_NE(r->body.find("waiting for a decoder"), std::string::npos) << r->body;
  // The refusal does not poison the connection or the model.
  const auto health = client.request("GET", "/v2/health/ready", "", {});
  ASSERT_TRUE(health.has_value()) << client.error();
  EXPECT_EQ(health->status, 200);
}

}  // namespace
}  // namespace inferd::test
