// --json and --csv parse back to what the run measured; the sweep stops at its budget.
#include "loadgen/report.h"

#include <gtest/gtest.h>

#include <boost/json/src.hpp>  // header-only Boost.JSON: the test is its only user here
#include <cstdio>
#include <sstream>

#include "loadgen/progress.h"
#include "loadgen/request_builder.h"
#include "loadgen/sweep.h"
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
  spec.requests = build_requests(spec.url, {}, {}).value();
  spec.connections = connections;
  spec.total_requests = n;
  return spec;
}

RunReport measured_report() {
  TestHttpServer server([](const Arrival& a) { return Answer{a.index % 5 == 4 ? 503 : 200, 1ms}; });
  auto stats = run_load(spec_for(server.url("/v1/noop?a=1"), 2, 100));
  EXPECT_TRUE(stats.is_ok()) << stats.status().message();
  return {"noop, \"quoted\"", server.url("/v1/noop?a=1"), "raw", "GET", 2, 0, std::move(stats).value(), std::nullopt};
}

std::vector<std::string> split_csv(const std::string& line) {
  std::vector<std::string> cells(1);
  bool quoted = false;
  for (size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (c == '"' && quoted && i + 1 < line.size() && line[i + 1] == '"') {
      cells.back() += '"';
      ++i;
    } else if (c == '"') {
      quoted = !quoted;
    } else if (c == ',' && !quoted) {
      cells.emplace_back();
    } else {
      cells.back() += c;
    }
  }
  return cells;
}

TEST(Report, JsonHasTheStableFields) {
  const RunReport r = measured_report();
  const std::string line = format_json(r);
  EXPECT_EQ(line.find('\n'), std::string::npos);
  boost::system::error_code ec;
  const boost::json::value v = boost::json::parse(line, ec);
  ASSERT_FALSE(ec) << line;
  const auto& o = v.as_object();
  EXPECT_EQ(o.at("name").as_string(), "noop, \"quoted\"");
  EXPECT_EQ(o.at("url").as_string(), r.url);
  EXPECT_EQ(o.at("mode").as_string(), "raw");
  EXPECT_EQ(o.at("concurrency").as_int64(), 2);
  EXPECT_EQ(o.at("rate").as_double(), 0.0);
  EXPECT_EQ(o.at("requests").as_int64(), 100);
  EXPECT_EQ(o.at("status").at("200").as_int64(), 80);
  EXPECT_EQ(o.at("status").at("503").as_int64(), 20);
  EXPECT_EQ(o.at("status_classes").at("5xx").as_int64(), 20);
  EXPECT_EQ(o.at("errors").at("timeout").as_int64(), 0);
  EXPECT_EQ(o.at("error_count").as_int64(), 0);
  EXPECT_NEAR(o.at("duration_s").as_double(), r.stats.duration_s, 1e-5);
  EXPECT_NEAR(o.at("rps").as_double(), r.stats.rps(), 1e-2);
  const auto& lat = o.at("latency_ms").as_object();
  for (const char* key : {"p50", "p90", "p99", "p999", "max", "mean", "min"})
    EXPECT_GE(lat.at(key).as_double(), 1.0) << key;
  EXPECT_NEAR(lat.at("p99").as_double(), r.stats.latency.percentile_ns(99) / 1e6, 1e-3);
  EXPECT_LE(lat.at("p50").as_double(), lat.at("p99").as_double());
  EXPECT_GT(o.at("bytes_out").as_int64(), 0);
  EXPECT_FALSE(o.contains("within_budget"));
}

TEST(Report, CsvRowMatchesItsHeader) {
  const RunReport r = measured_report();
  const auto header = split_csv(csv_header());
  const auto row = split_csv(format_csv(r));
  ASSERT_EQ(header.size(), row.size()) << format_csv(r);
  auto cell = [&](const std::string& name) {
    const auto it = std::find(header.begin(), header.end(), name);
    EXPECT_NE(it, header.end()) << name;
    return it == header.end() ? std::string() : row[static_cast<size_t>(it - header.begin())];
  };
  EXPECT_EQ(cell("name"), "noop, \"quoted\"");
  EXPECT_EQ(cell("requests"), "100");
  EXPECT_EQ(cell("status_2xx"), "80");
  EXPECT_EQ(cell("status_5xx"), "20");
  EXPECT_EQ(cell("status_codes"), "200:80 503:20");
  EXPECT_EQ(cell("errors_timeout"), "0");
  EXPECT_NEAR(std::stod(cell("p50_ms")), r.stats.latency.percentile_ns(50) / 1e6, 1e-3);
  EXPECT_NEAR(std::stod(cell("rps")), r.stats.rps(), 1e-2);
  EXPECT_EQ(cell("within_budget"), "");
}

TEST(Report, SummaryNamesTheNumbers) {
  RunReport r = measured_report();
  r.stats.add_error(ErrorKind::kTimeout, "no complete response within 5 ms");
  const std::string text = format_summary(r);
  EXPECT_NE(text.find("(raw, closed loop, 2 connections)"), std::string::npos) << text;
  EXPECT_NE(text.find("requests    101 in "), std::string::npos) << text;
  EXPECT_NE(text.find("200:80  503:20"), std::string::npos) << text;
  EXPECT_NE(text.find("timeout 1  (first: no complete response within 5 ms)"), std::string::npos) << text;
}

// Latency grows with load: 10 ms + 15 ms per request in flight. 1, 2, 4 connections stay
// within 100 ms (25, 40, 70); 8 (about 130 ms) breaks the budget and ends the sweep; 16
// never runs. The 30 ms either side of the budget absorb a loaded machine's scheduling
// delays (with 10 ms, c=2 broke the budget once while a CI run shared its two cores).
TEST(Sweep, StopsAtTheFirstLevelOverTheBudgetAndReportsTheBest) {
  TestHttpServer server([](const Arrival& a) { return Answer{200, 10ms + 15ms * a.in_flight}; });
  std::vector<int> seen;
  auto sweep = run_sweep(spec_for(server.url(), 1, 24), RunReport{}, {1, 2, 4, 8, 16}, 100,
                         [&](const RunReport& r) { seen.push_back(r.concurrency); });
  ASSERT_TRUE(sweep.is_ok()) << sweep.status().message();
  EXPECT_EQ(seen, (std::vector<int>{1, 2, 4, 8}));
  ASSERT_EQ(sweep->levels.size(), 4u);
  ASSERT_TRUE(sweep->stopped_at.has_value());
  EXPECT_EQ(sweep->levels[*sweep->stopped_at].concurrency, 8);
  ASSERT_TRUE(sweep->best.has_value());
  EXPECT_EQ(sweep->levels[*sweep->best].concurrency, 4);
  EXPECT_EQ(sweep->levels[0].name, "c=1");
  EXPECT_EQ(sweep->levels[0].within_budget, true);
  EXPECT_EQ(sweep->levels[3].within_budget, false);
  for (const auto& level : sweep->levels) EXPECT_EQ(level.stats.requests, 24u);
  EXPECT_NE(format_sweep_conclusion(*sweep).find("best with p99 <= 100.000 ms and no failures: 4 connections"),
            std::string::npos)
      << format_sweep_conclusion(*sweep);
  const boost::json::value v = boost::json::parse(format_sweep_conclusion_json(*sweep));
  EXPECT_EQ(v.at("best_concurrency").as_int64(), 4);
  EXPECT_EQ(v.at("stopped_at").as_int64(), 8);
  EXPECT_EQ(boost::json::parse(format_json(sweep->levels[3])).at("within_budget").as_bool(), false);
}

TEST(Sweep, BudgetBelowTheFloorLatencyStopsAtOnce) {
  TestHttpServer server([](const Arrival&) { return Answer{200, 10ms}; });
  auto sweep = run_sweep(spec_for(server.url(), 1, 5), RunReport{}, {1, 2}, 5, nullptr);
  ASSERT_TRUE(sweep.is_ok());
  EXPECT_EQ(sweep->levels.size(), 1u);
  EXPECT_FALSE(sweep->best.has_value());
  EXPECT_EQ(sweep->stopped_at, 0u);
  EXPECT_NE(format_sweep_conclusion(*sweep).find("no level ran with p99 <= 5.000 ms"), std::string::npos);
  EXPECT_EQ(boost::json::parse(format_sweep_conclusion_json(*sweep)).at("best_concurrency").is_null(), true);
}

TEST(Sweep, WithoutABudgetEveryLevelRuns) {
  TestHttpServer server([](const Arrival& a) { return Answer{a.index % 7 == 6 ? 500 : 200}; });
  auto sweep = run_sweep(spec_for(server.url(), 1, 14), RunReport{}, {1, 2, 3}, 0, nullptr);
  ASSERT_TRUE(sweep.is_ok());
  EXPECT_EQ(sweep->levels.size(), 3u);
  EXPECT_FALSE(sweep->best.has_value());  // every level had 500s
  EXPECT_FALSE(sweep->stopped_at.has_value());
  EXPECT_FALSE(sweep->levels[0].within_budget.has_value());
  const boost::json::value v = boost::json::parse(format_sweep_conclusion_json(*sweep));
  EXPECT_TRUE(v.at("p99_budget_ms").is_null());
  EXPECT_TRUE(v.at("stopped_at").is_null());
}

TEST(Sweep, FailuresBreakTheBudget) {
  RunStats ok, failed;
  ok.add_response(200, 1'000'000);
  failed.add_response(200, 1'000'000);
  failed.add_response(503, 1'000'000);
  EXPECT_TRUE(within_budget(ok, 5));
  EXPECT_TRUE(within_budget(ok, 0));
  EXPECT_FALSE(within_budget(failed, 5));
  EXPECT_FALSE(within_budget(ok, 0.5));
}

TEST(Progress, LineIsRewrittenInPlaceAndErasedAtTheEnd) {
  EXPECT_EQ(ProgressLine::line("", 12.4, false, 123456, 12345.4, 3), "12 s  123456 done  12345 req/s  3 errors");
  EXPECT_EQ(ProgressLine::line("", 1, true, 0, 0, 0), "1 s  warming up");
  std::FILE* out = std::tmpfile();
  ASSERT_NE(out, nullptr);
  LiveCounters live;
  {
    ProgressLine progress(live, out, 0ns, "");
    live.done = 77;
    live.errors = 2;
    std::this_thread::sleep_for(1200ms);
  }
  std::rewind(out);
  std::string text(4096, '\0');
  text.resize(std::fread(text.data(), 1, text.size(), out));
  std::fclose(out);
  EXPECT_EQ(text.rfind("\r\x1b[2K1 s  77 done  ", 0), 0u) << text;
  EXPECT_NE(text.find("  2 errors"), std::string::npos) << text;
  EXPECT_EQ(text.substr(text.size() - 5), "\r\x1b[2K");
}

}  // namespace
}  // namespace inferd::loadgen
