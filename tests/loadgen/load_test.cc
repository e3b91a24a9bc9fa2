// run_load end to end against the in-test server: exact counts, latency, open loop,
// errors, reconnects, unreachable servers.
#include <gtest/gtest.h>

#include <thread>

#include "loadgen/load_run.h"
#include "loadgen/request_builder.h"
#include "test_http_server.h"

namespace inferd::loadgen {
namespace {

using namespace std::chrono_literals;
using test::Answer;
using test::Arrival;
using test::TestHttpServer;

LoadSpec spec_for(const std::string& url, int connections, uint64_t n) {
  LoadSpec spec;
  spec.url = parse_url(url).value();
  RequestOptions o;
  o.method = "POST";
  spec.requests = build_requests(spec.url, o, {{"body.bin", "payload-7f3a"}}).value();
  spec.connections = connections;
  spec.total_requests = n;
  return spec;
}

RunStats run(const LoadSpec& spec) {
  auto stats = run_load(spec);
  EXPECT_TRUE(stats.is_ok()) << stats.status().message();
  return stats.is_ok() ? std::move(stats).value() : RunStats{};
}

double ms(double ns) {
  return ns / 1e6;
}

TEST(Load, CountsAreExact) {
  TestHttpServer server([](const Arrival&) { return Answer{}; });
  const RunStats s = run(spec_for(server.url("/v1/noop"), 4, 1000));
  EXPECT_EQ(s.requests, 1000u);
  EXPECT_EQ(s.status[200], 1000u);
  EXPECT_EQ(s.responses(), 1000u);
  EXPECT_EQ(s.error_count(), 0u);
  EXPECT_EQ(server.requests(), 1000u);
  EXPECT_EQ(s.reconnects, 0u);
  EXPECT_GT(s.duration_s, 0);
  EXPECT_EQ(server.last_request(), "POST /v1/noop application/octet-stream payload-7f3a");
  const std::string one = spec_for(server.url("/v1/noop"), 1, 1).requests[0];
  EXPECT_EQ(s.bytes_out, 1000 * one.size());
  EXPECT_EQ(s.bytes_in, 1000u * std::string("HTTP/1.1 200 X\r\nContent-Length: 2\r\n\r\nok").size());
}

TEST(Load, StatusMixIsCountedPerCode) {
  // Every 4th request is shed with 503, every 10th is a 404: exact per code.
  TestHttpServer server([](const Arrival& a) {
    Answer answer;
    if (a.index % 4 == 3) answer.status = 503;
    if (a.index % 10 == 9) answer.status = 404;
    return answer;
  });
  LoadSpec spec = spec_for(server.url("/classify"), 3, 1000);
  spec.threads = 2;
  const RunStats s = run(spec);
  uint64_t want_503 = 0, want_404 = 0;
  for (uint64_t i = 0; i < 1000; ++i) {
    want_404 += i % 10 == 9;
    want_503 += i % 10 != 9 && i % 4 == 3;
  }
  EXPECT_EQ(s.requests, 1000u);
  EXPECT_EQ(s.status[404], want_404);
  EXPECT_EQ(s.status[503], want_503);
  EXPECT_EQ(s.status[200], 1000 - want_404 - want_503);
  EXPECT_EQ(s.status_class(5), want_503);
  EXPECT_EQ(s.failures(), want_404 + want_503);
}

TEST(Load, LatencyOfAKnownServerDelay) {
  TestHttpServer server([](const Arrival&) { return Answer{200, 20ms}; });
  const RunStats s = run(spec_for(server.url(), 2, 40));
  EXPECT_EQ(s.responses(), 40u);
  EXPECT_GE(ms(s.latency.percentile_ns(50)), 20.0);
  EXPECT_LE(ms(s.latency.percentile_ns(50)), 30.0);
  EXPECT_GE(ms(static_cast<double>(s.latency.min_ns())), 20.0);
  EXPECT_GE(s.duration_s, 0.4);  // 40 requests of 20 ms on 2 connections
}

TEST(Load, DurationModeWithWarmupRecordsOnlyTheMeasuredPart) {
  TestHttpServer server([](const Arrival&) { return Answer{200, 2ms}; });
  LoadSpec spec = spec_for(server.url(), 2, 0);
  spec.duration = 300ms;
  spec.warmup = 150ms;
  const RunStats s = run(spec);
  EXPECT_GT(s.requests, 20u);
  EXPECT_LT(s.requests, server.requests());  // the warm-up's requests reached the server too
  EXPECT_EQ(s.responses(), s.requests);
  EXPECT_GE(s.duration_s, 0.3);
  EXPECT_LT(s.duration_s, 0.5);
}

// The server stalls for 200 ms once. In open loop at 200 requests/s, every request
// scheduled during the stall waits for a connection, and that wait is in its latency
// (from its scheduled time): about 40 requests see 5..200 ms. A closed-loop or
// send-time measurement would show only the 2 requests the server held.
TEST(Load, OpenLoopLatencyIncludesTheWaitBehindAStall) {
  std::chrono::steady_clock::time_point stall_until{};
  TestHttpServer server([&stall_until](const Arrival& a) {
    if (a.index == 60) stall_until = a.at + 200ms;
    return Answer{200, a.at < stall_until ? stall_until - a.at : 0ms};
  });
  LoadSpec spec = spec_for(server.url(), 2, 200);
  spec.rate = 200;
  const RunStats s = run(spec);
  EXPECT_EQ(s.requests, 200u);
  EXPECT_EQ(s.status[200], 200u);
  EXPECT_GE(ms(static_cast<double>(s.latency.max_ns())), 195.0);
  EXPECT_GE(ms(s.latency.percentile_ns(99)), 150.0);  // the 3rd slowest of 200
  EXPECT_GE(ms(s.latency.percentile_ns(95)), 80.0);   // the 11th slowest
  EXPECT_LE(ms(s.latency.percentile_ns(50)), 20.0);   // most requests did not wait
  EXPECT_GE(s.late_starts, 25u);
  EXPECT_GE(s.duration_s, 0.99);  // 200 requests at 200/s span a second
  EXPECT_NEAR(s.rps(), 200, 25);
}

TEST(Load, OpenLoopWithoutStallsKeepsTheRate) {
  TestHttpServer server([](const Arrival&) { return Answer{}; });
  LoadSpec spec = spec_for(server.url(), 4, 0);
  spec.rate = 1000;
  spec.duration = 300ms;
  spec.threads = 2;
  const RunStats s = run(spec);
  EXPECT_EQ(s.requests, 300u);  // the schedule, exactly: 2 workers x 150 slots in 300 ms
  EXPECT_EQ(s.status[200], 300u);
}

TEST(Load, StopEndsTheRunAndKeepsWhatWasMeasured) {
  for (double rate : {0.0, 2000.0}) {
    TestHttpServer server([](const Arrival&) { return Answer{200, 3ms}; });
    LoadSpec spec = spec_for(server.url(), 3, 0);
    spec.duration = 30s;
    spec.rate = rate;
    LiveCounters live;
    std::thread stopper([&live] {
      std::this_thread::sleep_for(300ms);
      live.stop = true;
    });
    auto stats = run_load(spec, &live);
    stopper.join();
    ASSERT_TRUE(stats.is_ok()) << stats.status().message();
    EXPECT_LT(stats->duration_s, 2.0) << "rate " << rate;
    EXPECT_GT(stats->requests, 30u) << "rate " << rate;
    EXPECT_EQ(stats->requests, server.requests()) << "every request sent is recorded, rate " << rate;
    EXPECT_EQ(stats->requests, live.done.load());
    EXPECT_EQ(stats->status[200], stats->requests);
  }
}

TEST(Load, TimeoutsAreCountedNotHung) {
  TestHttpServer server([](const Arrival&) { return Answer{.never = true}; });
  LoadSpec spec = spec_for(server.url(), 2, 6);
  spec.timeout = 100ms;
  const auto start = std::chrono::steady_clock::now();
  const RunStats s = run(spec);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 3s);
  EXPECT_EQ(s.requests, 6u);
  EXPECT_EQ(s.errors[static_cast<size_t>(ErrorKind::kTimeout)], 6u);
  EXPECT_EQ(s.responses(), 0u);
  EXPECT_NE(s.first_error[static_cast<size_t>(ErrorKind::kTimeout)].find("within 100 ms (--timeout)"),
            std::string::npos)
      << s.first_error[static_cast<size_t>(ErrorKind::kTimeout)];
}

TEST(Load, ResetsAndGarbageAreCountedByKind) {
  TestHttpServer server([](const Arrival& a) {
    Answer answer;
    answer.reset = a.index % 3 == 0;
    answer.garbage = a.index % 3 == 1;
    return answer;
  });
  const RunStats s = run(spec_for(server.url(), 2, 30));
  EXPECT_EQ(s.requests, 30u);
  EXPECT_EQ(s.errors[static_cast<size_t>(ErrorKind::kReset)], 10u);
  EXPECT_EQ(s.errors[static_cast<size_t>(ErrorKind::kParse)], 10u);
  EXPECT_EQ(s.status[200], 10u);
  EXPECT_NE(s.first_error[static_cast<size_t>(ErrorKind::kReset)].find("closed the connection without answering"),
            std::string::npos);
  EXPECT_NE(s.first_error[static_cast<size_t>(ErrorKind::kParse)].find("bad response from 127.0.0.1:"),
            std::string::npos);
  EXPECT_GE(s.reconnects, 18u);  // each error closed the connection; the next request reopened it
}

TEST(Load, ServerClosingConnectionsMeansReconnects) {
  TestHttpServer server([](const Arrival& a) { return Answer{.close = a.index % 2 == 0}; });
  const RunStats s = run(spec_for(server.url(), 1, 50));
  EXPECT_EQ(s.status[200], 50u);
  EXPECT_EQ(s.error_count(), 0u);
  EXPECT_EQ(s.reconnects, 25u);              // after each of the 25 "Connection: close" answers
  EXPECT_EQ(server.connections(), 1u + 26);  // the reachability check, then 1 + 25 reconnects
}

TEST(Load, HeadAnswersHaveNoBody) {
  TestHttpServer server([](const Arrival&) { return Answer{.body = std::string(5000, 'b')}; });
  LoadSpec spec = spec_for(server.url(), 2, 20);
  RequestOptions o;
  o.method = "HEAD";
  spec.requests = build_requests(spec.url, o, {}).value();
  spec.timeout = 2s;
  const RunStats s = run(spec);
  EXPECT_EQ(s.status[200], 20u) << s.first_error[static_cast<size_t>(ErrorKind::kTimeout)];
  EXPECT_LT(s.bytes_in, 20u * 1000);
}

TEST(Load, BigHeadersAndChunkedBodiesAreReadWhole) {
  const std::string big_header = "X-Pad: " + std::string(20000, 'p') + "\r\n";
  const std::string chunked_body = "4\r\nabcd\r\n3000\r\n" + std::string(0x3000, 'c') + "\r\n0\r\n\r\n";
  TestHttpServer server([&](const Arrival& a) {
    if (a.index % 2 == 0) return Answer{.raw = "HTTP/1.1 201 X\r\n" + big_header + "Content-Length: 2\r\n\r\nok"};
    return Answer{.raw = "HTTP/1.1 202 X\r\nTransfer-Encoding: chunked\r\n\r\n" + chunked_body};
  });
  const RunStats s = run(spec_for(server.url(), 2, 40));
  EXPECT_EQ(s.status[201], 20u) << s.first_error[static_cast<size_t>(ErrorKind::kParse)];
  EXPECT_EQ(s.status[202], 20u);
  EXPECT_EQ(s.error_count(), 0u);
  EXPECT_EQ(s.reconnects, 0u);
}

TEST(Load, OversizedHeaderIsAParseError) {
  TestHttpServer server([](const Arrival&) {
    return Answer{.raw = "HTTP/1.1 200 X\r\nX-Pad: " + std::string(40000, 'p') + "\r\nContent-Length: 0\r\n\r\n"};
  });
  const RunStats s = run(spec_for(server.url(), 1, 3));
  EXPECT_EQ(s.errors[static_cast<size_t>(ErrorKind::kParse)], 3u);
  EXPECT_NE(s.first_error[static_cast<size_t>(ErrorKind::kParse)].find("header limit"), std::string::npos)
      << s.first_error[static_cast<size_t>(ErrorKind::kParse)];
}

TEST(Load, UnreachableServerIsOneClearError) {
  const int port = test::closed_port();
  auto stats = run_load(spec_for("http://127.0.0.1:" + std::to_string(port) + "/", 2, 10));
  ASSERT_FALSE(stats.is_ok());
  EXPECT_EQ(stats.status().message(), "cannot connect to 127.0.0.1:" + std::to_string(port) + ": Connection refused");
  auto unresolvable = run_load(spec_for("http://no-such-host.invalid/", 1, 1));
  ASSERT_FALSE(unresolvable.is_ok());
  EXPECT_NE(unresolvable.status().message().find("cannot resolve host 'no-such-host.invalid'"), std::string::npos);
}

TEST(Load, SpecIsValidated) {
  LoadSpec spec = spec_for("http://127.0.0.1:1/", 1, 0);
  EXPECT_NE(run_load(spec).status().message().find("exactly one of a request count (-n) and a duration (-z)"),
            std::string::npos);
  spec.total_requests = 5;
  spec.requests.clear();
  EXPECT_NE(run_load(spec).status().message().find("no request"), std::string::npos);
}

}  // namespace
}  // namespace inferd::loadgen
