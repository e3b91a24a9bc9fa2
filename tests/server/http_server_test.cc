// HttpServer over real sockets on 127.0.0.1: success paths, keep-alive, pipelining,
// asynchronous answers, handler failures and shutdown. Limits and timeouts are in
// http_server_limits_test.cc.
#include <atomic>
#include <optional>
#include <random>
#include <utility>
#include <vector>

#include "server/http_server_test_util.h"

namespace inferd::test {
namespace {

using namespace std::chrono_literals;

TEST(HttpServer, EchoesARequest) {
  auto server = start_test_server(test_server_options(), echo_handler());
  ASSERT_NE(server, nullptr);
  EXPECT_NE(server->port(), 0);
  HttpClient client(server->port());
  ASSERT_TRUE(client.connected()) << client.error();
  auto response = client.request("POST", "/v1/echo?top=3", "hello", {"X-Test: abc"});
  ASSERT_TRUE(response) << client.error();
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body, "POST /v1/echo?top=3 hello");
  EXPECT_EQ(response->header("server"), "inferd");
  EXPECT_EQ(response->header("content-type"), "text/plain");
  EXPECT_EQ(response->header("content-length"), "25");
  EXPECT_EQ(response->header("x-echo"), "abc");
  EXPECT_EQ(response->header("connection"), "");  // HTTP/1.1: keep-alive is the default
}

TEST(HttpServer, KeepAliveServes100RequestsOnOneConnection) {
  auto server = start_test_server(test_server_options(), echo_handler());
  ASSERT_NE(server, nullptr);
  HttpClient client(server->port());
  for (int i = 0; i < 100; ++i) {
    const std::string body = "request " + std::to_string(i);
    auto response = client.request("POST", "/echo", body);
    ASSERT_TRUE(response) << "request " << i << ": " << client.error();
    ASSERT_EQ(response->status, 200);
    ASSERT_EQ(response->body, "POST /echo " + body);
  }
  EXPECT_EQ(server->open_connections(), 1u);
}

TEST(HttpServer, PipelinedRequestsAreAnsweredInRequestOrder) {
  DelayedResponder responder;
  std::mutex mutex;
  std::vector<std::string> answer_order;
  auto server = start_test_server(test_server_options(), [&](http::Request request, http::Respond respond) {
    const std::string name(request.path());
    const auto delay = name == "/a" ? 150ms : name == "/b" ? 50ms : 0ms;
    // The answer order is recorded when the handler answers, from the responder thread.
    responder.later(delay, [&, name, respond](http::Response r) {
      {
        std::lock_guard lock(mutex);
        answer_order.push_back(name);
      }
      respond(std::move(r));
    }, text_response("answer " + name));
  });
  ASSERT_NE(server, nullptr);
  HttpClient client(server->port());
  ASSERT_TRUE(client.send(format_request("GET", "/a") + format_request("GET", "/b") + format_request("GET", "/c")));
  for (const char* name : {"/a", "/b", "/c"}) {
    auto response = client.read_response();
    ASSERT_TRUE(response) << client.error();
    EXPECT_EQ(response->body, std::string("answer ") + name);
  }
  responder.join();
  EXPECT_EQ(answer_order, (std::vector<std::string>{"/c", "/b", "/a"}));  // answered out of order
}

TEST(HttpServer, ManyPipelinedRequestsWithRandomDelaysStayInOrder) {
  DelayedResponder responder;
  std::mutex mutex;
  std::mt19937 rng(1234);
  auto server = start_test_server(test_server_options(), [&](http::Request request, http::Respond respond) {
    std::lock_guard lock(mutex);
    const auto delay = std::chrono::milliseconds(std::uniform_int_distribution<int>(0, 20)(rng));
    responder.later(delay, std::move(respond), text_response(std::string(request.target)));
  });
  ASSERT_NE(server, nullptr);
  HttpClient client(server->port());
  std::string all;
  for (int i = 0; i < 50; ++i) all += format_request("GET", "/r" + std::to_string(i));
  ASSERT_TRUE(client.send(all));  // more than the server reads ahead: it must pause and resume
  for (int i = 0; i < 50; ++i) {
    auto response = client.read_response();
    ASSERT_TRUE(response) << "response " << i << ": " << client.error();
    EXPECT_EQ(response->body, "/r" + std::to_string(i));
  }
}

TEST(HttpServer, RespondFromAnotherThreadAfter50ms) {
  DelayedResponder responder;
  auto server = start_test_server(test_server_options(), [&](http::Request, http::Respond respond) {
    responder.later(50ms, std::move(respond), text_response("late"));
  });
  ASSERT_NE(server, nullptr);
  HttpClient client(server->port());
  const auto start = std::chrono::steady_clock::now();
  ASSERT_TRUE(client.send(format_request("GET", "/")));
  EXPECT_TRUE(wait_until([&] { return server->in_flight() == 1; }));
  auto response = client.read_response();
  ASSERT_TRUE(response) << client.error();
  EXPECT_GE(ms_since(start), 49.0);
  EXPECT_EQ(response->body, "late");
  EXPECT_TRUE(wait_until([&] { return server->in_flight() == 0; }));
}

// on_answer_written times each handler answer from `respond` to the end of its write (an
// answer given from another thread after 50 ms counts from the answer, not the request),
// and the whole exchange from the request's head (which the 50 ms are part of).
TEST(HttpServer, EachAnswerIsTimedFromRespondAndFromItsRequest) {
  DelayedResponder responder;
  std::mutex mutex;
  std::vector<std::pair<double, double>> timed;  // answer, exchange seconds
  HttpServerOptions options = test_server_options();
  options.on_answer_written = [&](double answer, double exchange) {
    std::lock_guard lock(mutex);
    timed.emplace_back(answer, exchange);
  };
  auto server = start_test_server(options, [&](http::Request request, http::Respond respond) {
    if (request.target == "/late") return responder.later(50ms, std::move(respond), text_response("late"));
    respond(text_response("now"));
  });
  ASSERT_NE(server, nullptr);
  HttpClient client(server->port());
  for (const char* path : {"/late", "/now"}) {
    auto response = client.request("GET", path, "");
    ASSERT_TRUE(response) << client.error();
  }
  EXPECT_TRUE(wait_until([&] {
    std::lock_guard lock(mutex);
    return timed.size() == 2;
  }));
  std::lock_guard lock(mutex);
  ASSERT_EQ(timed.size(), 2u);
  for (const auto& [answer, exchange] : timed) {
    EXPECT_GE(answer, 0.0);
    EXPECT_LT(answer, 0.040) << "counted from the request instead of the answer";
    EXPECT_GE(exchange, answer);
  }
  EXPECT_GE(timed[0].second, 0.049) << "the exchange of /late did not count the handler's 50 ms";
  EXPECT_LT(timed[1].second, 0.040) << "the exchange of /now counted more than its own request";
}

TEST(HttpServer, ASlowAnswerDoesNotBlockTheOnlyIoThread) {
  DelayedResponder responder;
  HttpServerOptions options = test_server_options();
  options.io_threads = 1;
  auto server = start_test_server(options, [&](http::Request request, http::Respond respond) {
    if (request.path() == "/slow") {
      responder.later(400ms, std::move(respond), text_response("slow"));
    } else {
      respond(text_response("fast"));
    }
  });
  ASSERT_NE(server, nullptr);
  HttpClient slow(server->port()), fast(server->port());
  ASSERT_TRUE(slow.send(format_request("GET", "/slow")));
  ASSERT_TRUE(wait_until([&] { return server->in_flight() == 1; }));
  const auto start = std::chrono::steady_clock::now();
  auto response = fast.request("GET", "/fast");
  ASSERT_TRUE(response) << fast.error();
  EXPECT_EQ(response->body, "fast");
  EXPECT_LT(ms_since(start), 300.0);
  auto slow_response = slow.read_response();
  ASSERT_TRUE(slow_response) << slow.error();
  EXPECT_EQ(slow_response->body, "slow");
}

TEST(HttpServer, ConnectionCloseIsHonoured) {
  auto server = start_test_server(test_server_options(), echo_handler());
  ASSERT_NE(server, nullptr);
  HttpClient client(server->port());
  auto response = client.request("GET", "/x", "", {"Connection: close"});
  ASSERT_TRUE(response) << client.error();
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->header("connection"), "close");
  EXPECT_TRUE(client.wait_closed(2000));
  client.close();  // the server reads until the client closes too (lingering close)
  EXPECT_TRUE(wait_until([&] { return server->open_connections() == 0; }));
}

TEST(HttpServer, Http10ClosesUnlessAskedToKeepAlive) {
  auto server = start_test_server(test_server_options(), echo_handler());
  ASSERT_NE(server, nullptr);
  HttpClient plain(server->port());
  ASSERT_TRUE(plain.send("GET /old HTTP/1.0\r\n\r\n"));
  auto response = plain.read_response();
  ASSERT_TRUE(response) << plain.error();
  EXPECT_EQ(response->body, "GET /old ");
  EXPECT_TRUE(plain.wait_closed(2000));

  HttpClient kept(server->port());
  for (int i = 0; i < 2; ++i) {
    ASSERT_TRUE(kept.send("GET /kept HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"));
    response = kept.read_response();
    ASSERT_TRUE(response) << kept.error();
    EXPECT_EQ(response->header("connection"), "keep-alive");
  }
}

TEST(HttpServer, HeadAnswersTheLengthWithoutTheBody) {
  auto server = start_test_server(test_server_options(), echo_handler());
  ASSERT_NE(server, nullptr);
  HttpClient client(server->port());
  auto head = client.request("HEAD", "/h");
  ASSERT_TRUE(head) << client.error();
  EXPECT_EQ(head->header("content-length"), "8");  // "HEAD /h "
  EXPECT_EQ(head->body, "");
  auto next = client.request("GET", "/after");  // the stream is still framed right
  ASSERT_TRUE(next) << client.error();
  EXPECT_EQ(next->body, "GET /after ");
}

TEST(HttpServer, ExpectContinueGetsAnInterimAnswer) {
  auto server = start_test_server(test_server_options(), echo_handler());
  ASSERT_NE(server, nullptr);
  HttpClient client(server->port());
  ASSERT_TRUE(client.send("POST /up HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n"));
  ASSERT_TRUE(client.wait_for_text("HTTP/1.1 100 Continue\r\n\r\n", 2000)) << client.error();
  ASSERT_TRUE(client.send("12345"));
  auto response = client.read_response();
  ASSERT_TRUE(response) << client.error();
  EXPECT_EQ(response->body, "POST /up 12345");
}

// Refuses targets under /private, as a token check would, and counts the handler's calls.
struct HeadCheckedServer {
  std::atomic<int> handler_calls{0};
  std::unique_ptr<HttpServer> server;
  HeadCheckedServer() {
    auto started = HttpServer::start(
        test_server_options(),
        [this](http::Request request, http::Respond respond) {
          ++handler_calls;
          echo_handler()(std::move(request), std::move(respond));
        },
        [](const http::Request& head) -> std::optional<http::Response> {
          EXPECT_TRUE(head.body.empty());
          if (head.path().starts_with("/private")) return http::error_response(401, "no token: " + head.header("x-test"));
          return std::nullopt;
        });
    EXPECT_TRUE(started.is_ok()) << started.status().message();
    if (started.is_ok()) server = std::move(started).value();
  }
};

TEST(HttpServer, HeadCheckRefusesBeforeTheBodyIsReadAndCloses) {
  HeadCheckedServer s;
  ASSERT_NE(s.server, nullptr);
  HttpClient client(s.server->port());
  // 10 MB announced, none sent, and 100-continue asked: the answer comes on the head alone.
  ASSERT_TRUE(client.send("POST /private/x HTTP/1.1\r\nHost: a\r\nX-Test: t1\r\nContent-Length: 10000000\r\n"
                          "Expect: 100-continue\r\n\r\n"));
  auto response = client.read_response();
  ASSERT_TRUE(response) << client.error();
  EXPECT_EQ(response->status, 401);
  EXPECT_EQ(response->body, "{\"error\":\"no token: t1\"}");
  EXPECT_EQ(response->header("connection"), "close");
  EXPECT_TRUE(client.wait_closed(2000));
  EXPECT_EQ(s.handler_calls.load(), 0);
}

TEST(HttpServer, HeadCheckRefusalWithoutABodyKeepsTheConnectionAndTheOrder) {
  HeadCheckedServer s;
  ASSERT_NE(s.server, nullptr);
  HttpClient client(s.server->port());
  ASSERT_TRUE(client.send(format_request("POST", "/a", "1") + format_request("GET", "/private", "", {"X-Test: t2"}) +
                          format_request("POST", "/b", "3")));
  std::vector<std::pair<int, std::string>> got;
  for (int i = 0; i < 3; ++i) {
    auto response = client.read_response();
    ASSERT_TRUE(response) << "response " << i << ": " << client.error();
    got.emplace_back(response->status, response->body);
  }
  const std::vector<std::pair<int, std::string>> want = {
      {200, "POST /a 1"}, {401, "{\"error\":\"no token: t2\"}"}, {200, "POST /b 3"}};
  EXPECT_EQ(got, want);
  EXPECT_EQ(s.handler_calls.load(), 2);
  auto after = client.request("GET", "/c");  // still open
  ASSERT_TRUE(after) << client.error();
  EXPECT_EQ(after->status, 200);
}

TEST(HttpServer, LargeBodyArrivesWhole) {
  auto server = start_test_server(test_server_options(), [](http::Request request, http::Respond respond) {
    uint64_t sum = 0;
    for (unsigned char c : request.body) sum = sum * 31 + c;
    respond(text_response(std::to_string(request.body.size()) + " " + std::to_string(sum)));
  });
  ASSERT_NE(server, nullptr);
  std::string body(5 << 20, '\0');
  std::mt19937 rng(7);
  for (char& c : body) c = static_cast<char>(rng());
  uint64_t sum = 0;
  for (unsigned char c : body) sum = sum * 31 + c;
  HttpClient client(server->port());
  auto response = client.request("POST", "/image", body, {"Content-Type: image/jpeg"});
  ASSERT_TRUE(response) << client.error();
  EXPECT_EQ(response->body, std::to_string(body.size()) + " " + std::to_string(sum));
}

TEST(HttpServer, MalformedRequestLineIs400ThenClose) {
  std::atomic<int> calls{0};
  auto server = start_test_server(test_server_options(), [&](http::Request, http::Respond respond) {
    ++calls;
    respond(text_response("no"));
  });
  ASSERT_NE(server, nullptr);
  HttpClient client(server->port());
  ASSERT_TRUE(client.send("THIS IS NOT HTTP\r\n\r\n"));
  auto response = client.read_response();
  ASSERT_TRUE(response) << client.error();
  EXPECT_EQ(response->status, 400);
  EXPECT_EQ(response->header("content-type"), "application/json");
  EXPECT_EQ(response->body.rfind("{\"error\":\"malformed HTTP request: ", 0), 0u) << response->body;
  EXPECT_TRUE(client.wait_closed(2000));
  EXPECT_EQ(calls.load(), 0);
}

TEST(HttpServer, ThrowingHandlerAnswers500AndTheConnectionLives) {
  auto server = start_test_server(test_server_options(), [](http::Request request, http::Respond respond) {
    if (request.path() == "/throw") throw std::runtime_error("boom");
    respond(text_response("fine"));
  });
  ASSERT_NE(server, nullptr);
  HttpClient client(server->port());
  auto response = client.request("GET", "/throw");
  ASSERT_TRUE(response) << client.error();
  EXPECT_EQ(response->status, 500);
  EXPECT_EQ(response->body, "{\"error\":\"internal error: boom\"}");
  response = client.request("GET", "/ok");
  ASSERT_TRUE(response) << client.error();
  EXPECT_EQ(response->body, "fine");
}

TEST(HttpServer, DroppedRespondAnswers500) {
  auto server = start_test_server(test_server_options(), [](http::Request, http::Respond) {});
  ASSERT_NE(server, nullptr);
  HttpClient client(server->port());
  auto response = client.request("GET", "/");
  ASSERT_TRUE(response) << client.error();
  EXPECT_EQ(response->status, 500);
  EXPECT_EQ(response->body, "{\"error\":\"internal error: the request handler did not answer\"}");
  EXPECT_TRUE(wait_until([&] { return server->in_flight() == 0; }));
}

TEST(HttpServer, ListenErrorNamesTheAddress) {
  auto first = start_test_server(test_server_options(), echo_handler());
  ASSERT_NE(first, nullptr);
  HttpServerOptions options = test_server_options();
  options.port = first->port();
  auto second = HttpServer::start(options, echo_handler());
  ASSERT_FALSE(second.is_ok());
  EXPECT_EQ(second.status().message(),
            "cannot listen on 127.0.0.1:" + std::to_string(first->port()) + ": Address already in use");
}

// Holds every `respond` until the test releases it.
struct HeldAnswers {
  std::mutex mutex;
  std::vector<http::Respond> held;
  http::Handler handler() {
    return [this](http::Request, http::Respond respond) {
      std::lock_guard lock(mutex);
      held.push_back(std::move(respond));
    };
  }
  // The oldest held `respond`; in_flight() counts a request just before its handler runs,
  // so this waits for the handler to have stored it.
  http::Respond take() {
    http::Respond r;
    EXPECT_TRUE(wait_until([&] {
      std::lock_guard lock(mutex);
      if (held.empty()) return false;
      r = std::move(held.front());
      held.erase(held.begin());
      return true;
    }));
    return r ? r : [](http::Response) {};
  }
};

TEST(HttpServer, StopAcceptingLetsInFlightRequestsComplete) {
  HeldAnswers answers;
  auto server = start_test_server(test_server_options(), answers.handler());
  ASSERT_NE(server, nullptr);
  HttpClient client(server->port());
  ASSERT_TRUE(client.send(format_request("GET", "/first")));
  ASSERT_TRUE(wait_until([&] { return server->in_flight() == 1; }));
  server->stop_accepting();
  HttpClient refused(server->port());
  EXPECT_FALSE(refused.connected());
  answers.take()(text_response("drained"));
  auto response = client.read_response();
  ASSERT_TRUE(response) << client.error();
  EXPECT_EQ(response->body, "drained");
  // Answered during the drain: the keep-alive connection is told to close and is closed, so
  // its client goes to another replica instead of keeping this one busy to the drain's end.
  EXPECT_EQ(response->header("connection"), "close");
  EXPECT_TRUE(client.wait_closed(2000));
  EXPECT_TRUE(wait_until([&] { return server->in_flight() == 0; }));
}

TEST(HttpServer, AnIdleKeepAliveConnectionIsServedOnceMoreWhileDraining) {
  HeldAnswers answers;
  auto server = start_test_server(test_server_options(), answers.handler());
  ASSERT_NE(server, nullptr);
  HttpClient client(server->port());
  ASSERT_TRUE(client.send(format_request("GET", "/before")));
  answers.take()(text_response("before"));
  auto response = client.read_response();
  ASSERT_TRUE(response) << client.error();
  EXPECT_NE(response->header("connection"), "close");
  server->stop_accepting();
  // A request already on its way when the drain began is still answered, with the close.
  ASSERT_TRUE(client.send(format_request("GET", "/during")));
  answers.take()(text_response("during"));
  response = client.read_response();
  ASSERT_TRUE(response) << client.error();
  EXPECT_EQ(response->body, "during");
  EXPECT_EQ(response->header("connection"), "close");
  EXPECT_TRUE(client.wait_closed(2000));
}

TEST(HttpServer, AnswerAfterStopIsDroppedSafely) {
  HeldAnswers answers;
  auto server = start_test_server(test_server_options(), answers.handler());
  ASSERT_NE(server, nullptr);
  HttpClient client(server->port());
  ASSERT_TRUE(client.send(format_request("GET", "/never")));
  ASSERT_TRUE(wait_until([&] { return server->in_flight() == 1; }));
  const auto start = std::chrono::steady_clock::now();
  server->stop();
  EXPECT_LT(ms_since(start), 1000.0);
  EXPECT_TRUE(client.wait_closed(2000));
  EXPECT_EQ(server->open_connections(), 0u);
  answers.take()(text_response("too late"));  // after stop(): dropped
  EXPECT_EQ(server->in_flight(), 0u);
  server.reset();
  // A handler may even answer after the server object is gone.
  HeldAnswers more;
  server = start_test_server(test_server_options(), more.handler());
  ASSERT_NE(server, nullptr);
  HttpClient second(server->port());
  ASSERT_TRUE(second.send(format_request("GET", "/held")));
  ASSERT_TRUE(wait_until([&] { return server->in_flight() == 1; }));
  server.reset();
  more.take()(text_response("gone"));
}

}  // namespace
}  // namespace inferd::test
