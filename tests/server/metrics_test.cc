#include "server/metrics.h"

#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>
#include <random>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

namespace inferd::metrics {
namespace {

template <typename T>
T* must(Result<T*> result) {
  EXPECT_TRUE(result.is_ok()) << result.status().message();
  return result.is_ok() ? result.value() : nullptr;
}

TEST(MetricsRender, EveryTypeWithEscapingExactly) {
  Registry registry;
  CounterFamily* requests = must(registry.add_counter("inferd_requests_total", "Requests by model and code.",
                                                      {"model", "code"}));
  requests->with({"squeezenet", "200"}).inc(12);
  requests->with({"squeezenet", "503"}).inc();
  requests->with({"a\\b\"c\nd", "400"}).inc(3);  // backslash, quote, newline in a value

  GaugeFamily* inflight = must(registry.add_gauge("inferd_inflight_requests", "In flight.\nSecond \\ line \"q\"."));
  inflight->with().set(3);
  inflight->with().inc(2.5);
  inflight->with().dec();

  GaugeFamily* numbers = must(registry.add_gauge("inferd_numbers", "Number formats.", {"kind"}));
  numbers->with({"small"}).set(1e-05);
  numbers->with({"big"}).set(1e21);
  numbers->with({"tenth"}).set(0.1);
  numbers->with({"negative"}).set(-2.75);
  numbers->with({"nan"}).set(std::numeric_limits<double>::quiet_NaN());
  numbers->with({"inf"}).set(std::numeric_limits<double>::infinity());
  numbers->with({"minus_inf"}).set(-std::numeric_limits<double>::infinity());
  numbers->with({"integer"}).set(123456789012.0);
  numbers->with({"bytes"}).set(1048576);
  numbers->with({"bound"}).set(0.0005);
  numbers->with({"huge_integer"}).set(1e17);
  numbers->with({"large_fraction"}).set(1234567.5);

  HistogramFamily* latency = must(registry.add_histogram("inferd_request_duration_seconds", "Latency.", {"model"},
                                                         {0.005, 0.01, 0.5}));
  Histogram& sq = latency->with({"squeezenet"});
  sq.observe(0.001);
  sq.observe(0.005);
  sq.observe(0.25);
  sq.observe(2);

  CallbackGaugeFamily* depth = must(registry.add_callback_gauge("inferd_queue_depth", "Queued.", {"model"}));
  depth->set({"squeezenet"}, [] { return 7.0; });
  must(registry.add_counter("inferd_empty_total", "Labelled, no series yet.", {"model"}));
  must(registry.add_histogram("inferd_batch_size", "Batch sizes.", {}, {1, 2, 4}));

  const std::string expected =
      "# HELP inferd_batch_size Batch sizes.\n"
      "# TYPE inferd_batch_size histogram\n"
      "inferd_batch_size_bucket{le=\"1\"} 0\n"
      "inferd_batch_size_bucket{le=\"2\"} 0\n"
      "inferd_batch_size_bucket{le=\"4\"} 0\n"
      "inferd_batch_size_bucket{le=\"+Inf\"} 0\n"
      "inferd_batch_size_sum 0\n"
      "inferd_batch_size_count 0\n"
      "# HELP inferd_empty_total Labelled, no series yet.\n"
      "# TYPE inferd_empty_total counter\n"
      "# HELP inferd_inflight_requests In flight.\\nSecond \\\\ line \"q\".\n"
      "# TYPE inferd_inflight_requests gauge\n"
      "inferd_inflight_requests 4.5\n"
      "# HELP inferd_numbers Number formats.\n"
      "# TYPE inferd_numbers gauge\n"
      "inferd_numbers{kind=\"big\"} 1e+21\n"
      "inferd_numbers{kind=\"bound\"} 0.0005\n"
      "inferd_numbers{kind=\"bytes\"} 1048576\n"
      "inferd_numbers{kind=\"huge_integer\"} 1e+17\n"
      "inferd_numbers{kind=\"inf\"} +Inf\n"
      "inferd_numbers{kind=\"integer\"} 123456789012\n"
      "inferd_numbers{kind=\"large_fraction\"} 1.2345675e+06\n"  // as Go's %g
      "inferd_numbers{kind=\"minus_inf\"} -Inf\n"
      "inferd_numbers{kind=\"nan\"} NaN\n"
      "inferd_numbers{kind=\"negative\"} -2.75\n"
      "inferd_numbers{kind=\"small\"} 1e-05\n"
      "inferd_numbers{kind=\"tenth\"} 0.1\n"
      "# HELP inferd_queue_depth Queued.\n"
      "# TYPE inferd_queue_depth gauge\n"
      "inferd_queue_depth{model=\"squeezenet\"} 7\n"
      "# HELP inferd_request_duration_seconds Latency.\n"
      "# TYPE inferd_request_duration_seconds histogram\n"
      "inferd_request_duration_seconds_bucket{model=\"squeezenet\",le=\"0.005\"} 2\n"
      "inferd_request_duration_seconds_bucket{model=\"squeezenet\",le=\"0.01\"} 2\n"
      "inferd_request_duration_seconds_bucket{model=\"squeezenet\",le=\"0.5\"} 3\n"
      "inferd_request_duration_seconds_bucket{model=\"squeezenet\",le=\"+Inf\"} 4\n"
      // 0.001 + 0.005 + 0.25 + 2 in double, shortest round-trip form (as Python's repr).
      "inferd_request_duration_seconds_sum{model=\"squeezenet\"} 2.2560000000000002\n"
      "inferd_request_duration_seconds_count{model=\"squeezenet\"} 4\n"
      "# HELP inferd_requests_total Requests by model and code.\n"
      "# TYPE inferd_requests_total counter\n"
      "inferd_requests_total{model=\"a\\\\b\\\"c\\nd\",code=\"400\"} 3\n"
      "inferd_requests_total{model=\"squeezenet\",code=\"200\"} 12\n"
      "inferd_requests_total{model=\"squeezenet\",code=\"503\"} 1\n";
  EXPECT_EQ(registry.render(), expected);
  EXPECT_EQ(registry.render(), registry.render());  // stable output
}

TEST(MetricsConcurrency, EightThreadsSumExactly) {
  Registry registry;
  CounterFamily* counter = must(registry.add_counter("c_total", "c", {"thread_group"}));
  GaugeFamily* gauge = must(registry.add_gauge("g", "g"));
  HistogramFamily* histogram = must(registry.add_histogram("h", "h", {}, {0.25, 0.5, 1}));
  constexpr int kThreads = 8;
  constexpr int kPerThread = 200000;
  // A scraper renders throughout: render() must be safe against updates and against
  // children being created.
  std::atomic<bool> done{false};
  std::atomic<int> scrapes{0};
  std::thread scraper([&] {
    while (!done.load()) {
      if (registry.render().find("# TYPE h histogram") != std::string::npos) scrapes.fetch_add(1);
    }
  });
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      // Two threads share each label set, so children are created under contention.
      Counter& mine = counter->with({std::to_string(t / 2)});
      Counter& shared = counter->with({"all"});
      for (int i = 0; i < kPerThread; ++i) {
        mine.inc();
        shared.inc(2);
        gauge->with().inc();
        histogram->with().observe(i % 2 ? 0.5 : 0.75);
      }
    });
  }
  for (auto& thread : threads) thread.join();
  done = true;
  scraper.join();
  EXPECT_GT(scrapes.load(), 0);
  EXPECT_NE(registry.render().find("c_total{thread_group=\"all\"} 3200000\n"), std::string::npos);
  EXPECT_EQ(counter->with({"all"}).value(), uint64_t{2} * kThreads * kPerThread);
  for (int g = 0; g < kThreads / 2; ++g) EXPECT_EQ(counter->with({std::to_string(g)}).value(), 2u * kPerThread);
  EXPECT_EQ(gauge->with().value(), double(kThreads) * kPerThread);
  HistogramSnapshot snap = histogram->with().snapshot();
  EXPECT_EQ(snap.count, uint64_t{kThreads} * kPerThread);
  EXPECT_EQ(snap.cumulative, (std::vector<uint64_t>{0, snap.count / 2, snap.count, snap.count}));
  EXPECT_EQ(snap.sum, 0.625 * kThreads * kPerThread);  // multiples of 0.25: exact in double
}

TEST(MetricsHistogram, ValueEqualToBoundLandsInThatBucket) {
  Registry registry;
  Histogram& h = must(registry.add_histogram("edges", "e", {}, {1, 2, 4}))->with();
  h.observe(1);             // le=1
  h.observe(std::nextafter(1.0, 2.0));  // le=2
  h.observe(2);             // le=2
  h.observe(4);             // le=4
  h.observe(std::nextafter(4.0, 5.0));  // +Inf
  h.observe(-3);            // le=1
  h.observe(std::numeric_limits<double>::quiet_NaN());  // +Inf only
  HistogramSnapshot snap = h.snapshot();
  EXPECT_EQ(snap.cumulative, (std::vector<uint64_t>{2, 4, 5, 7}));
  EXPECT_EQ(snap.count, 7u);
  EXPECT_TRUE(std::isnan(snap.sum));
  EXPECT_NE(registry.render().find("edges_bucket{le=\"2\"} 4\n"), std::string::npos);
}

TEST(MetricsRegistry, RejectsBadDefinitionsAsInternalErrors) {
  Registry registry;
  auto expect_internal = [](const Status& status, const std::string& fragment) {
    EXPECT_EQ(status.code(), StatusCode::kInternal) << status.message();
    EXPECT_NE(status.message().find(fragment), std::string::npos) << status.message();
  };
  expect_internal(registry.add_counter("9lives_total", "h").status(), "'9lives_total' is not valid");
  expect_internal(registry.add_counter("with-dash", "h").status(), "is not valid");
  expect_internal(registry.add_counter("", "h").status(), "is not valid");
  expect_internal(registry.add_gauge("g", "h", {"bad:label"}).status(), "label name 'bad:label'");
  expect_internal(registry.add_gauge("g", "h", {"__reserved"}).status(), "label name '__reserved'");
  expect_internal(registry.add_gauge("g", "h", {"a", "a"}).status(), "'a' appears twice");
  expect_internal(registry.add_histogram("h", "h", {"le"}, {1}).status(), "'le' is reserved");
  expect_internal(registry.add_histogram("h", "h", {}, {1, 1}).status(), "strictly increasing");
  expect_internal(registry.add_histogram("h", "h", {}, {1, std::nan("")}).status(), "finite");
  expect_internal(registry.add_histogram("h", "h", {}, {}).status(), "no bucket bounds");

  ASSERT_TRUE(registry.add_counter("ok:name_total", "h").is_ok());
  expect_internal(registry.add_gauge("ok:name_total", "h").status(), "already used");
  ASSERT_TRUE(registry.add_histogram("lat", "h", {}, {1}).is_ok());
  expect_internal(registry.add_counter("lat_count", "h").status(), "already used by metric lat");
  ASSERT_TRUE(registry.add_counter("x_sum", "h").is_ok());
  expect_internal(registry.add_histogram("x", "h", {}, {1}).status(), "x_sum is already used");
}

TEST(MetricsRegistryDeathTest, WrongNumberOfLabelValuesAborts) {
  Registry registry;
  CounterFamily* family = must(registry.add_counter("two_total", "h", {"model", "code"}));
  EXPECT_DEATH(family->with({"squeezenet"}), "two_total has 2 label names but was given 1 values");
}

TEST(MetricsCallbackGauge, ReadAtScrapeTimeAndRemovable) {
  Registry registry;
  CallbackGaugeFamily* depth = must(registry.add_callback_gauge("depth", "h", {"model"}));
  std::atomic<int> queued{3};
  depth->set({"a"}, [&] { return double(queued.load()); });
  depth->set({"b"}, [] { return 1.5; });
  EXPECT_NE(registry.render().find("depth{model=\"a\"} 3\n"), std::string::npos);
  queued = 11;
  EXPECT_NE(registry.render().find("depth{model=\"a\"} 11\n"), std::string::npos);
  depth->remove({"a"});
  EXPECT_EQ(registry.render(), "# HELP depth h\n# TYPE depth gauge\ndepth{model=\"b\"} 1.5\n");
}

TEST(MetricsProcess, ResidentMemoryGrowsWhenPagesAreTouched) {
  double before = process_rss_bytes();
  ASSERT_GT(before, 1 << 20);
  constexpr size_t kBytes = 64 << 20;
  std::vector<uint8_t> block(kBytes);
  std::mt19937 rng(7);
  for (size_t i = 0; i < kBytes; i += 4096) block[i] = static_cast<uint8_t>(rng() | 1);
  double after = process_rss_bytes();
  EXPECT_GT(after - before, 48.0 * (1 << 20)) << "before " << before << " after " << after;
  EXPECT_NE(block[4096 * 5], 0);
}

TEST(MetricsProcess, OpenFdsMatchesDescriptorsInUse) {
  // Count descriptors independently: every fd below the limit that fcntl accepts.
  rlimit limit{};
  ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &limit), 0);
  const int max_fd = static_cast<int>(std::min<rlim_t>(limit.rlim_cur, 1 << 16));
  auto count_with_fcntl = [&] {
    int64_t n = 0;
    for (int fd = 0; fd < max_fd; ++fd) n += fcntl(fd, F_GETFD) != -1;
    return n;
  };
  EXPECT_EQ(open_fds(), count_with_fcntl());
  int64_t before = open_fds();
  int fd = open("/proc/self/statm", O_RDONLY | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  EXPECT_EQ(open_fds(), before + 1);
  close(fd);
  EXPECT_EQ(open_fds(), before);
}

// A registry shaped like the server's /metrics; `observe`: with traffic, otherwise as
// scraped at start-up (labelled families without series yet).
std::string render_server_shaped_registry(bool observe) {
  Registry registry;
  CounterFamily* requests =
      must(registry.add_counter("inferd_requests_total", "Requests handled, by model and HTTP status code.",
                                {"model", "code"}));
  const std::vector<double> latency = exponential_bounds(0.0005, 2, 15);
  HistogramFamily* request = must(registry.add_histogram(
      "inferd_request_duration_seconds", "Time from request received to response sent.", {"model"}, latency));
  HistogramFamily* queue = must(registry.add_histogram(
      "inferd_queue_duration_seconds", "Time a request waited in the batcher's queue.", {"model"}, latency));
  HistogramFamily* compute = must(registry.add_histogram(
      "inferd_compute_duration_seconds", "Time the engine took to run one batch.", {"model"}, latency));
  HistogramFamily* decode = must(registry.add_histogram("inferd_image_decode_duration_seconds",
                                                        "Time to decode and preprocess one image.", {}, latency));
  HistogramFamily* batch = must(registry.add_histogram("inferd_batch_size", "Requests per executed batch.",
                                                       {"model"}, linear_bounds(1, 1, 32)));
  GaugeFamily* depth = must(registry.add_gauge("inferd_queue_depth", "Requests waiting in the queue.", {"model"}));
  GaugeFamily* inflight = must(registry.add_gauge("inferd_inflight_requests", "Requests being handled."));
  EXPECT_TRUE(add_process_metrics(registry).is_ok());

  if (!observe) return registry.render();
  std::mt19937 rng(42);
  std::exponential_distribution<double> seconds(200.0);
  for (const char* model : {"squeezenet", "resnet50", "odd \"name\"\\with\nnewline"}) {
    for (int i = 0; i < 500; ++i) {
      requests->with({model, i % 50 == 0 ? "503" : "200"}).inc();
      request->with({model}).observe(seconds(rng));
      queue->with({model}).observe(seconds(rng) / 4);
      compute->with({model}).observe(seconds(rng) / 2);
      decode->with().observe(seconds(rng) / 8);
      batch->with({model}).observe(1 + static_cast<int>(rng() % 32));
    }
    depth->with({model}).set(static_cast<double>(rng() % 100));
  }
  inflight->with().set(5);
  return registry.render();
}

bool promtool_installed() { return std::system("command -v promtool > /dev/null 2>&1") == 0; }

// Runs `promtool check metrics < text`; returns its exit code and puts its output in `report`.
int promtool_check(const std::string& text, std::string& report) {
  namespace fs = std::filesystem;
  const std::string stem = "inferd_metrics_test_" + std::to_string(getpid());
  const fs::path input = fs::temp_directory_path() / (stem + ".prom");
  const fs::path output = fs::temp_directory_path() / (stem + ".out");
  std::ofstream(input, std::ios::binary) << text;
  const std::string command = "promtool check metrics < " + input.string() + " > " + output.string() + " 2>&1";
  int raw = std::system(command.c_str());
  std::ifstream in(output);
  report.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  fs::remove(input);
  fs::remove(output);
  return WIFEXITED(raw) ? WEXITSTATUS(raw) : -1;
}

TEST(MetricsPromtool, ServerShapedRegistryPassesPromtoolCheck) {
  if (!promtool_installed()) GTEST_SKIP() << "promtool is not on PATH (Debian package `prometheus`)";
  std::string report;
  const std::string at_start = render_server_shaped_registry(false);
  EXPECT_EQ(promtool_check(at_start, report), 0) << report << "\n--- input ---\n" << at_start;
  const std::string text = render_server_shaped_registry(true);
  for (const char* name : {"inferd_requests_total{", "inferd_request_duration_seconds_bucket{model=\"resnet50\",le=\"0.0005\"} ",
                           "inferd_queue_duration_seconds_sum{", "inferd_compute_duration_seconds_count{",
                           "inferd_batch_size_bucket{", "inferd_queue_depth{", "inferd_inflight_requests ",
                           "inferd_image_decode_duration_seconds_count ", "process_resident_memory_bytes ",
                           "process_open_fds "}) {
    EXPECT_NE(text.find(name), std::string::npos) << name;
  }
  EXPECT_EQ(promtool_check(text, report), 0) << report << "\n--- input ---\n" << text;
}

TEST(MetricsPromtool, PromtoolRejectsBrokenText) {
  // The check above can fail: the same tool on a malformed label set and a lint problem.
  if (!promtool_installed()) GTEST_SKIP() << "promtool is not on PATH (Debian package `prometheus`)";
  std::string report;
  EXPECT_NE(promtool_check("# TYPE x counter\nx{a=\"unterminated} 1\n", report), 0) << report;
  EXPECT_NE(promtool_check("# HELP requests Requests.\n# TYPE requests counter\nrequests 1\n", report), 0)
      << report;
}

}  // namespace
}  // namespace inferd::metrics
