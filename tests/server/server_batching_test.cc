// The batcher behind real sockets: concurrent clients get their own answers, batches
// form, a full queue answers 503, a passed deadline 504, drain and reload lose nothing.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <fstream>
#include <thread>

#include "http_client.h"
#include "server_test_env.h"
#include "support/ort_oracle.h"

namespace inferd::test {
namespace {

const char* kExpected[] = {"", "Angora", "Egyptian cat", "koala", "ptarmigan", "German short-haired pointer"};

// `clients` threads each send `per_client` requests with their own image and check
// the label. Returns status counts.
std::map<int, int> hammer(int port, int clients, int per_client, std::atomic<int>* wrong,
                          std::initializer_list<std::string_view> headers = {"Content-Type: image/jpeg"}) {
  std::mutex mu;
  std::map<int, int> statuses;
  std::vector<std::thread> threads;
  for (int c = 0; c < clients; ++c) {
    threads.emplace_back([&, c] {
      const int img = 1 + c % 5;
      const std::string body = image(img);
      HttpClient client(port);
      for (int i = 0; i < per_client; ++i) {
        auto r = client.request("POST", "/classify", body, headers);
        const int status = r ? r->status : -1;
        if (status == 200 && r->body.find(kExpected[img]) == std::string::npos) ++*wrong;
        std::lock_guard lock(mu);
        ++statuses[status];
        if (!r) return;
      }
    });
  }
  for (auto& t : threads) t.join();
  return statuses;
}

std::string metrics_of(int port) {
  HttpClient client(port);
  auto r = client.request("GET", "/metrics");
  return r ? r->body : "";
}

// The inferd_inflight_requests gauge: inference requests received and not yet answered.
int in_flight_of(int port) {
  const std::string m = metrics_of(port);
  const std::string key = "\ninferd_inflight_requests ";
  const size_t at = m.find(key);
  return at == std::string::npos ? -1 : std::atoi(m.c_str() + at + key.size());
}

TEST(ServerBatching, ConcurrentClientsGetTheirOwnAnswersInBatches) {
  TestServerConfig c;
  c.max_queue_delay_us = 20000;
  auto server = start_test_server(c, "batching");
  ASSERT_TRUE(server);
  std::atomic<int> wrong{0};
  const auto statuses = hammer(server->port(), 10, 6, &wrong);
  EXPECT_EQ(statuses.at(200), 60);
  EXPECT_EQ(statuses.size(), 1u);
  EXPECT_EQ(wrong, 0);
  const std::string m = metrics_of(server->port());
  // Batches of more than one request formed: fewer batches than requests.
  const std::string key = "inferd_batch_size_count{model=\"squeezenet\"} ";
  const auto count_at = m.find(key);
  ASSERT_NE(count_at, std::string::npos) << m;
  const int batches = std::atoi(m.c_str() + count_at + key.size());
  EXPECT_LT(batches, 60) << m;
  EXPECT_GT(batches, 0);
  // The exposition is valid Prometheus text.
  if (std::system("command -v promtool > /dev/null") == 0) {
    const std::string path = temp_dir() + "/metrics.txt";
    std::ofstream(path) << m;
    EXPECT_EQ(std::system(("promtool check metrics < " + path).c_str()), 0) << m;
  }
}

TEST(ServerBatching, FullQueueAnswers503WithRetryAfter) {
  TestServerConfig c;
  c.max_batch = 1;
  c.max_queue = 1;
  c.max_queue_delay_us = 0;
  // One decoder per client: the 12 first images finish decoding together and reach the
  // one-slot queue at once. With a decoder per core, decoded requests trickled in no faster
  // than the engine served them where decoding is slow (ThreadSanitizer), and the queue
  // never filled.
  c.decode_threads = 12;
  auto server = start_test_server(c, "queue_full");
  ASSERT_TRUE(server);
  std::atomic<int> wrong{0};
  const auto statuses = hammer(server->port(), 12, 3, &wrong);
  EXPECT_GT(statuses.count(503) ? statuses.at(503) : 0, 0);
  EXPECT_GT(statuses.count(200) ? statuses.at(200) : 0, 0);
  EXPECT_EQ((statuses.count(200) ? statuses.at(200) : 0) + (statuses.count(503) ? statuses.at(503) : 0), 36);
  EXPECT_EQ(wrong, 0);
}

TEST(ServerBatching, PassedDeadlineAnswers504) {
  TestServerConfig c;
  c.max_batch = 1;  // one at a time: the later requests wait behind the earlier ones
  c.max_queue_delay_us = 0;
  auto server = start_test_server(c, "deadline");
  ASSERT_TRUE(server);
  std::mutex mu;
  std::map<int, int> statuses;
  std::vector<std::thread> threads;
  for (int i = 0; i < 12; ++i) {
    threads.emplace_back([&] {
      HttpClient client(server->port());
      auto r = client.request("POST", "/classify", image(1), {"Content-Type: image/jpeg", "X-Request-Timeout-Ms: 3"});
      std::lock_guard lock(mu);
      ++statuses[r ? r->status : -1];
      if (r && r->status == 504) {
        EXPECT_NE(r->body.find("deadline exceeded"), std::string::npos) << r->body;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_GT(statuses[504], 0);
  EXPECT_EQ(statuses[200] + statuses[504], 12);
  HttpClient client(server->port());
  auto r = client.request("POST", "/classify", image(1), {"Content-Type: image/jpeg"});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
}

TEST(ServerBatching, ShutdownAnswersEverythingInFlight) {
  TestServerConfig c;
  c.max_queue_delay_us = 100000;
  auto server = start_test_server(c, "drain");
  ASSERT_TRUE(server);
  std::atomic<int> wrong{0};
  std::map<int, int> statuses;
  std::thread clients([&] { statuses = hammer(server->port(), 6, 1, &wrong); });
  // Shut down once all six are in flight (queued: the 100 ms delay holds the batch), not
  // after a fixed sleep, which a slow machine (sanitizers) outruns.
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (in_flight_of(server->port()) < 6 && std::chrono::steady_clock::now() < give_up) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  server->shutdown();
  clients.join();
  EXPECT_EQ(statuses[200], 6) << "lost or failed during drain";
  EXPECT_EQ(wrong, 0);
}

TEST(ServerBatching, ReloadUnderLoadDropsNothing) {
  TestServerConfig c;
  auto server = start_test_server(c, "reload");
  ASSERT_TRUE(server);
  std::atomic<int> wrong{0};
  std::map<int, int> statuses;
  std::thread clients([&] { statuses = hammer(server->port(), 4, 15, &wrong); });
  for (int i = 0; i < 2; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    EXPECT_TRUE(server->reload().is_ok());
  }
  clients.join();
  EXPECT_EQ(statuses[200], 60);
  EXPECT_EQ(statuses.size(), 1u) << "a request failed during reload";
  EXPECT_EQ(wrong, 0);
}

TEST(ServerBatching, ManagementUnloadAndLoad) {
  TestServerConfig c;
  c.management = true;
  auto server = start_test_server(c, "management");
  ASSERT_TRUE(server);
  HttpClient client(server->port());
  EXPECT_EQ(client.request("POST", "/v2/repository/models/squeezenet/unload")->status, 200);
  EXPECT_EQ(client.request("POST", "/v1/models/squeezenet/classify", image(1), {"Content-Type: image/jpeg"})->status, 404);
  EXPECT_EQ(client.request("POST", "/v2/repository/models/..%2Fetc/load")->status, 400);
  EXPECT_EQ(client.request("POST", "/v2/repository/models/squeezenet/load")->status, 200);
  EXPECT_EQ(client.request("POST", "/v1/models/squeezenet/classify", image(1), {"Content-Type: image/jpeg"})->status, 200);
}

}  // namespace
}  // namespace inferd::test

namespace inferd::test {
namespace {

TEST(ServerBatching, HeyBoundedRunHasNoNon2xx) {
  if (std::system("command -v hey > /dev/null") != 0) GTEST_SKIP() << "hey is not installed (scripts/setup.sh installs it)";
  auto server = start_test_server({}, "hey");
  ASSERT_TRUE(server);
  const std::string report = temp_dir() + "/hey.txt";
  const std::string cmd = "hey -n 320 -c 8 -m POST -T image/jpeg -D " + source_dir() + "/images/2.jpg http://127.0.0.1:" +
                          std::to_string(server->port()) + "/classify > " + report;
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  const std::string text = read_bytes(report);
  EXPECT_NE(text.find("[200]\t320 responses"), std::string::npos) << text;
  EXPECT_EQ(text.find("Error distribution"), std::string::npos) << text;
}

}  // namespace
}  // namespace inferd::test
