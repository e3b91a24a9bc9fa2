// HttpServer limits and timeouts over real sockets: body and header sizes, slowloris,
// idle keep-alive, max connections. Timeouts are set to a few hundred ms to keep the
// suite fast; each check allows generous slack for a loaded machine.
#include <atomic>
#include <thread>

#include "server/http_server_test_util.h"

namespace inferd::test {
namespace {

// Counts the requests that reach the handler (none should, past a limit).
struct CountingEcho {
  std::atomic<int> calls{0};
  http::Handler handler() {
    return [this](http::Request request, http::Respond respond) {
      ++calls;
      respond(text_response(std::to_string(request.body.size())));
    };
  }
};

TEST(HttpServerLimits, BodyOverTheLimitIs413BeforeTheBodyIsRead) {
  CountingEcho echo;
  HttpServerOptions options = test_server_options();
  options.max_body_bytes = 1000;
  auto server = start_test_server(options, echo.handler());
  ASSERT_NE(server, nullptr);

  HttpClient at_limit(server->port());
  auto response = at_limit.request("POST", "/x", std::string(1000, 'b'));
  ASSERT_TRUE(response) << at_limit.error();
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body, "1000");

  HttpClient over(server->port());
  // Only the head is sent: the answer cannot wait for the body.
  ASSERT_TRUE(over.send("POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 5000\r\n\r\n"));
  response = over.read_response();
  ASSERT_TRUE(response) << over.error();
  EXPECT_EQ(response->status, 413);
  EXPECT_EQ(response->body, "{\"error\":\"body is 5000 bytes, limit is 1000\"}");
  EXPECT_EQ(response->header("content-type"), "application/json");
  EXPECT_EQ(response->header("connection"), "close");
  EXPECT_TRUE(over.wait_closed(3000));
  EXPECT_EQ(echo.calls.load(), 1);
}

std::string chunked_request(const std::vector<size_t>& chunk_sizes) {
  std::string out = "POST /chunked HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n";
  char fill = 'a';
  for (size_t size : chunk_sizes) {
    char hex[32];
    std::snprintf(hex, sizeof(hex), "%zx\r\n", size);
    out += hex + std::string(size, fill++) + "\r\n";
  }
  return out + "0\r\n\r\n";
}

TEST(HttpServerLimits, ChunkedBodyIsCountedAsItArrives) {
  CountingEcho echo;
  HttpServerOptions options = test_server_options();
  options.max_body_bytes = 1000;
  auto server = start_test_server(options, echo.handler());
  ASSERT_NE(server, nullptr);

  HttpClient under(server->port());
  ASSERT_TRUE(under.send(chunked_request({300, 300, 400})));
  auto response = under.read_response();
  ASSERT_TRUE(response) << under.error();
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body, "1000");

  HttpClient over(server->port());
  ASSERT_TRUE(over.send(chunked_request({600, 600})));
  response = over.read_response();
  ASSERT_TRUE(response) << over.error();
  EXPECT_EQ(response->status, 413);
  EXPECT_EQ(response->body, "{\"error\":\"body is more than 1000 bytes, limit is 1000\"}");
  EXPECT_TRUE(over.wait_closed(3000));
  EXPECT_EQ(echo.calls.load(), 1);
}

TEST(HttpServerLimits, HeaderFloodIs431) {
  CountingEcho echo;
  HttpServerOptions options = test_server_options();
  options.max_header_bytes = 1024;
  auto server = start_test_server(options, echo.handler());
  ASSERT_NE(server, nullptr);

  HttpClient fits(server->port());
  auto response = fits.request("GET", "/", "", {"X-Big: " + std::string(800, 'h')});
  ASSERT_TRUE(response) << fits.error();
  EXPECT_EQ(response->status, 200);

  HttpClient flood(server->port());
  response = flood.request("GET", "/", "", {"X-Big: " + std::string(4000, 'h')});
  ASSERT_TRUE(response) << flood.error();
  EXPECT_EQ(response->status, 431);
  EXPECT_EQ(response->body, "{\"error\":\"request headers are over the limit of 1024 bytes\"}");
  EXPECT_TRUE(flood.wait_closed(3000));
  EXPECT_EQ(echo.calls.load(), 1);
}

// How long the server takes to close a client that sends `bytes` and then stalls.
double ms_until_closed(int port, const std::string& bytes) {
  HttpClient client(port);
  EXPECT_TRUE(client.connected()) << client.error();
  const auto start = std::chrono::steady_clock::now();
  if (!bytes.empty()) {
    EXPECT_TRUE(client.send(bytes));
  }
  EXPECT_TRUE(client.wait_closed(5000)) << "not closed";
  return ms_since(start);
}

TEST(HttpServerLimits, SlowClientsAreDisconnected) {
  HttpServerOptions options = test_server_options();
  options.header_timeout_ms = 300;
  options.body_timeout_ms = 300;
  auto server = start_test_server(options, echo_handler());
  ASSERT_NE(server, nullptr);
  const int port = server->port();
  double half_headers = 0, nothing = 0, half_body = 0;
  // In parallel: three timeouts cost one.
  std::thread a([&] { half_headers = ms_until_closed(port, "GET / HTTP/1.1\r\nHost: a\r\nX-Slow: "); });
  std::thread b([&] { nothing = ms_until_closed(port, ""); });
  std::thread c([&] { half_body = ms_until_closed(port, "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 100\r\n\r\n0123"); });
  a.join();
  b.join();
  c.join();
  for (double ms : {half_headers, nothing, half_body}) {
    EXPECT_GE(ms, 250.0);
    EXPECT_LT(ms, 2500.0);
  }
  EXPECT_TRUE(wait_until([&] { return server->open_connections() == 0; }));
}

TEST(HttpServerLimits, IdleKeepAliveConnectionIsClosed) {
  HttpServerOptions options = test_server_options();
  options.idle_timeout_ms = 300;
  auto server = start_test_server(options, echo_handler());
  ASSERT_NE(server, nullptr);
  HttpClient client(server->port());
  auto response = client.request("GET", "/");
  ASSERT_TRUE(response) << client.error();
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(server->open_connections(), 1u);
  EXPECT_TRUE(client.wait_closed(5000));
  EXPECT_GE(ms_since(start), 250.0);
  EXPECT_LT(ms_since(start), 2500.0);
  EXPECT_TRUE(wait_until([&] { return server->open_connections() == 0; }));
}

TEST(HttpServerLimits, AClientThatDoesNotReadIsDisconnected) {
  HttpServerOptions options = test_server_options();
  options.body_timeout_ms = 300;  // also bounds one write
  const std::string big(64 << 20, 'x');  // more than loopback socket buffers hold
  auto server = start_test_server(options, [&](http::Request, http::Respond respond) {
    respond(text_response(big));
  });
  ASSERT_NE(server, nullptr);
  HttpClient client(server->port());
  ASSERT_TRUE(client.send(format_request("GET", "/big")));
  ASSERT_TRUE(wait_until([&] { return server->open_connections() == 1; }));
  EXPECT_TRUE(wait_until([&] { return server->open_connections() == 0; }, 5000));
  EXPECT_EQ(server->in_flight(), 0u);  // the unwritten answer was dropped
}

TEST(HttpServerLimits, ALongHandlerIsNotAnIdleConnection) {
  DelayedResponder responder;
  HttpServerOptions options = test_server_options();
  options.idle_timeout_ms = 100;
  options.header_timeout_ms = 100;
  auto server = start_test_server(options, [&](http::Request, http::Respond respond) {
    responder.later(std::chrono::milliseconds(400), std::move(respond), text_response("worth the wait"));
  });
  ASSERT_NE(server, nullptr);
  HttpClient client(server->port());
  auto response = client.request("GET", "/slow");
  ASSERT_TRUE(response) << client.error();
  EXPECT_EQ(response->body, "worth the wait");
}

// The deadlines are recorded per request and looked at when the connection's timer wakes
// (http/lazy_deadline.h): a connection kept busy for several times every timeout, with
// answers that take a good part of one and pauses between requests, is never closed by a
// deadline an earlier request set.
TEST(HttpServerLimits, ABusyKeepAliveConnectionOutlivesEveryTimeout) {
  DelayedResponder responder;
  HttpServerOptions options = test_server_options();
  options.header_timeout_ms = 300;  // with room for a loaded CI machine's stalls
  options.body_timeout_ms = 300;
  options.idle_timeout_ms = 300;
  std::atomic<int> calls{0};
  auto server = start_test_server(options, [&](http::Request, http::Respond respond) {
    // Every fifth answer waits 150 ms (the connection then has no read deadline); the rest are at once.
    if (calls.fetch_add(1) % 5 == 0) {
      responder.later(std::chrono::milliseconds(150), std::move(respond), text_response("later"));
    } else {
      respond(text_response("now"));
    }
  });
  ASSERT_NE(server, nullptr);
  HttpClient client(server->port());
  const auto start = std::chrono::steady_clock::now();
  int answered = 0;
  while (ms_since(start) < 1500) {
    auto response = client.request("GET", "/" + std::to_string(answered));
    ASSERT_TRUE(response) << "request " << answered << " after " << ms_since(start) << " ms: " << client.error();
    EXPECT_EQ(response->status, 200);
    ++answered;
    // Most of the time between requests, under the idle deadline: the timer wakes while a
    // deadline is armed (and moved), not only while the handler holds it off.
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_GT(answered, 10);
  EXPECT_EQ(server->open_connections(), 1u);
  // And once it goes quiet, the idle deadline still closes it.
  EXPECT_TRUE(client.wait_closed(2000));
}

TEST(HttpServerLimits, ConnectionsOverTheLimitAreRefused) {
  HttpServerOptions options = test_server_options();
  options.max_connections = 2;
  auto server = start_test_server(options, echo_handler());
  ASSERT_NE(server, nullptr);
  auto first = std::make_unique<HttpClient>(server->port());
  HttpClient second(server->port());
  ASSERT_TRUE(first->request("GET", "/1"));
  ASSERT_TRUE(second.request("GET", "/2"));
  EXPECT_EQ(server->open_connections(), 2u);

  HttpClient extra(server->port());
  if (extra.connected()) {
    auto refusal = extra.read_response();
    if (refusal) {  // told why, then closed
      EXPECT_EQ(refusal->status, 503);
      EXPECT_EQ(refusal->body.rfind("{\"error\":\"server has 2 connections open", 0), 0u) << refusal->body;
    }
    EXPECT_TRUE(extra.wait_closed(3000));
  }
  first.reset();
  ASSERT_TRUE(wait_until([&] { return server->open_connections() == 1; }));
  HttpClient again(server->port());
  auto response = again.request("GET", "/3");
  ASSERT_TRUE(response) << again.error();
  EXPECT_EQ(response->status, 200);
}

}  // namespace
}  // namespace inferd::test
