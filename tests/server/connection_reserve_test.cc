// A server at its connection limit keeps a few connections for the health probes, so an
// orchestrator probing a busy server gets its answer instead of a 503 that would make it
// restart the pod; anything else on the reserve is refused 503 + Retry-After.
#include <gtest/gtest.h>

#include "http_client.h"
#include "http_server_test_util.h"

namespace inferd::test {
namespace {

TEST(ConnectionReserve, HealthProbesAreAnsweredAtTheConnectionLimit) {
  HttpServerOptions options = test_server_options();
  options.max_connections = 2;
  options.reserve_connections = 2;
  options.reserve_paths = {"/health"};
  auto server = start_test_server(options, echo_handler());
  ASSERT_NE(server, nullptr);
  HttpClient first(server->port()), second(server->port());
  ASSERT_TRUE(first.request("GET", "/1"));
  ASSERT_TRUE(second.request("GET", "/2"));  // the limit is reached and held

  HttpClient probe(server->port());
  const auto health = probe.request("GET", "/health");
  ASSERT_TRUE(health) << probe.error();
  EXPECT_EQ(health->status, 200);
  EXPECT_EQ(health->header("connection"), "close");
  EXPECT_TRUE(probe.wait_closed(3000));  // one probe per reserve connection

  HttpClient other(server->port());
  const auto refused = other.request("GET", "/work");
  ASSERT_TRUE(refused) << other.error();
  EXPECT_EQ(refused->status, 503);
  EXPECT_EQ(refused->header("retry-after"), "1");
  EXPECT_EQ(refused->body.rfind("{\"error\":\"server has 2 connections open", 0), 0u) << refused->body;
  EXPECT_TRUE(other.wait_closed(3000));
}

TEST(ConnectionReserve, TheReserveItselfIsBounded) {
  HttpServerOptions options = test_server_options();
  options.max_connections = 1;
  options.reserve_connections = 1;
  options.reserve_paths = {"/health"};
  auto server = start_test_server(options, echo_handler());
  ASSERT_NE(server, nullptr);
  HttpClient held(server->port());
  ASSERT_TRUE(held.request("GET", "/1"));
  HttpClient reserve(server->port());  // connected, silent: holds the one reserve slot
  ASSERT_TRUE(wait_until([&] { return server->open_connections() == 2; }));
  HttpClient extra(server->port());
  if (extra.connected()) {
    const auto refusal = extra.read_response();
    if (refusal) {
      EXPECT_EQ(refusal->status, 503);
    }
    EXPECT_TRUE(extra.wait_closed(3000));
  }
}

}  // namespace
}  // namespace inferd::test
