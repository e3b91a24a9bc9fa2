// A request's deadline is kept whatever stage holds the request: the deadline timer answers
// 504 at the deadline (within 10 %), not when the stage gets to the request. Before it, a
// request waiting behind busy decoders was answered only when a decoder took it (a 1,000 ms
// timeout answered after ~10 s).
#include <gtest/gtest.h>

#include <chrono>
#include <future>
#include <memory>

#include "server/deadline_timer.h"
#include "server/endpoint_context.h"
#include "server/router.h"
#include "server_test_env.h"

namespace inferd::test {
namespace {

using Clock = std::chrono::steady_clock;

double ms_since(Clock::time_point t) { return std::chrono::duration<double, std::milli>(Clock::now() - t).count(); }

// The issue's bound, 10 % of the deadline; the sanitizer builds get 100 ms more.
double late_bound_ms(double deadline_ms) { return deadline_ms * 1.1 + (sanitized_build() ? 100 : 0); }

// What a Respond received, and when.
struct Answer {
  std::promise<http::Response> response;
  std::atomic<int> calls{0};
  http::Respond respond() {
    return [this](http::Response r) {
      if (calls.fetch_add(1) == 0) response.set_value(std::move(r));
    };
  }
};

TEST(DeadlineTimer, AnswersAnUnansweredRequestAtItsDeadlineNamingItsStage) {
  DeadlineTimer timer;
  Answer answer;
  auto stage = std::make_shared<RequestStage>();
  stage->set("decoding its image");
  const auto start = Clock::now();
  // The issue's example, 1,000 ms: 10 % of it leaves room for a loaded machine's wake-up.
  http::Respond guarded = timer.guard(start, start + std::chrono::milliseconds(1000), stage, answer.respond());
  auto future = answer.response.get_future();
  ASSERT_EQ(future.wait_for(std::chrono::seconds(5)), std::future_status::ready);
  const double waited = ms_since(start);
  const http::Response r = future.get();
  EXPECT_EQ(r.status, 504);
  EXPECT_GE(waited, 999.0);
  EXPECT_LT(waited, late_bound_ms(1000));
  EXPECT_NE(r.body.find("no answer 10"), std::string::npos) << r.body;  // "no answer 1000 ms after ..."
  EXPECT_NE(r.body.find("it was decoding its image"), std::string::npos) << r.body;
  guarded(http::Response{});  // the stage's own answer comes late: dropped
  EXPECT_EQ(answer.calls.load(), 1);
  EXPECT_EQ(timer.expired(), 1u);
  EXPECT_EQ(timer.watched(), 0u);
}

TEST(DeadlineTimer, AnAnswerBeforeTheDeadlineIsTheOnlyOne) {
  DeadlineTimer timer;
  Answer answer;
  const auto now = Clock::now();
  http::Respond guarded = timer.guard(now, now + std::chrono::milliseconds(50), nullptr, answer.respond());
  EXPECT_EQ(timer.watched(), 1u);
  guarded(http::Response{});
  EXPECT_EQ(timer.watched(), 0u);
  std::this_thread::sleep_for(std::chrono::milliseconds(120));
  EXPECT_EQ(answer.calls.load(), 1);
  EXPECT_EQ(answer.response.get_future().get().status, 200);
  EXPECT_EQ(timer.expired(), 0u);
}

TEST(DeadlineTimer, ManyGuardsExpireInDeadlineOrderAndAnsweredOnesAreSweptOut) {
  DeadlineTimer timer;
  const auto now = Clock::now();
  // Answered guards with a far deadline: swept out of the timer as they pile up.
  for (int i = 0; i < 10000; ++i) timer.guard(now, now + std::chrono::hours(1), nullptr, [](http::Response) {})({});
  EXPECT_EQ(timer.watched(), 0u);
  std::vector<std::unique_ptr<Answer>> answers;
  for (int i = 0; i < 20; ++i) {
    answers.push_back(std::make_unique<Answer>());
    // Registered latest-first: the timer must still answer the earliest deadline first.
    timer.guard(now, now + std::chrono::milliseconds(200 - 5 * i), nullptr, answers.back()->respond());
  }
  for (auto& a : answers) {
    auto f = a->response.get_future();
    ASSERT_EQ(f.wait_for(std::chrono::seconds(5)), std::future_status::ready);
    EXPECT_EQ(f.get().status, 504);
  }
  EXPECT_EQ(timer.expired(), 20u);
}

TEST(DeadlineTimer, NoDeadlineMeansNoGuard) {
  DeadlineTimer timer;
  Answer answer;
  timer.guard(Clock::now(), Clock::time_point::max(), nullptr, answer.respond())({});
  EXPECT_EQ(timer.watched(), 0u);
  EXPECT_EQ(answer.calls.load(), 1);
}

// The endpoints wired as the server wires them, with a decode pool whose one thread is
// held busy: a request behind it must still be answered at its deadline.
class DeadlineEndpoints : public ::testing::Test {
 protected:
  void SetUp() override {
    models_ = std::make_unique<ModelRepository>(make_repository("deadline_endpoints", {}), ServeModelOptions{});
    ASSERT_TRUE(models_->load_all().is_ok());
    metrics_ = ServerMetrics::create(8).value();
    decoders_ = std::make_unique<WorkerPool>(1, "test-decode", WorkerPool::Limits{64, 64 << 20});
    decoders_->submit([this] { released_.get_future().wait(); });
    ctx_.models = models_.get();
    ctx_.decoders = decoders_.get();
    ctx_.metrics = metrics_.get();
    ctx_.ready = &ready_;
    ctx_.deadlines = &timer_;
    add_classify_routes(router_, ctx_);
    add_v2_routes(router_, ctx_);
  }
  void TearDown() override { released_.set_value(); }

  // `request`, arrived now with a 1 s timeout, dispatched: its answer and the ms it took.
  std::pair<http::Response, double> dispatch_with_1s_timeout(http::Request request) {
    const auto start = Clock::now();
    request.received = start;
    request.headers["x-request-timeout-ms"] = "1000";
    Answer answer;
    router_.dispatch(std::move(request), answer.respond());
    auto f = answer.response.get_future();
    if (f.wait_for(std::chrono::seconds(10)) != std::future_status::ready) {
      ADD_FAILURE() << "no answer in 10 s";
      return {http::Response{}, ms_since(start)};
    }
    const double waited = ms_since(start);
    return {f.get(), waited};
  }

  std::unique_ptr<ModelRepository> models_;
  std::unique_ptr<ServerMetrics> metrics_;
  std::promise<void> released_;
  std::atomic<bool> ready_{true};
  DeadlineTimer timer_;
  std::unique_ptr<WorkerPool> decoders_;  // after the promise and the timer: joined first
  EndpointContext ctx_;
  Router router_;
};

TEST_F(DeadlineEndpoints, AClassifyWaitingForADecoderIsAnswered504AtItsDeadline) {
  http::Request request;
  request.method = "POST";
  request.target = "/classify";
  request.headers["content-type"] = "image/jpeg";
  request.body = image(1);
  const auto [r, waited] = dispatch_with_1s_timeout(std::move(request));
  EXPECT_EQ(r.status, 504) << r.body;
  EXPECT_NE(r.body.find("waiting for an image decoder"), std::string::npos) << r.body;
  EXPECT_GE(waited, 999.0);
  EXPECT_LT(waited, late_bound_ms(1000));
}

TEST_F(DeadlineEndpoints, AKServeRequestWaitingToBeParsedIsAnswered504AtItsDeadline) {
  http::Request request;
  request.method = "POST";
  request.target = "/v2/models/squeezenet/infer";
  request.headers["content-type"] = "application/json";
  request.body = R"({"inputs":[{"name":"data","datatype":"BYTES","shape":[1],"data":["x"]}]})";
  const auto [r, waited] = dispatch_with_1s_timeout(std::move(request));
  EXPECT_EQ(r.status, 504) << r.body;
  // The body is parsed on the decode pool, never on the I/O thread that received it.
  EXPECT_NE(r.body.find("waiting for its body to be parsed"), std::string::npos) << r.body;
  EXPECT_GE(waited, 999.0);
  EXPECT_LT(waited, late_bound_ms(1000));
}

TEST_F(DeadlineEndpoints, TheDeadlineRunsFromTheRequestsArrivalNotFromItsHandler) {
  http::Request request;
  request.method = "POST";
  request.target = "/classify";
  request.body = image(1);
  request.headers["x-request-timeout-ms"] = "1000";
  request.received = Clock::now() - std::chrono::milliseconds(900);  // a slow upload
  const auto start = Clock::now();
  Answer answer;
  router_.dispatch(std::move(request), answer.respond());
  auto f = answer.response.get_future();
  ASSERT_EQ(f.wait_for(std::chrono::seconds(10)), std::future_status::ready);
  EXPECT_EQ(f.get().status, 504);
  EXPECT_LT(ms_since(start), 600.0);  // 100 ms were left, not 1,000
}

}  // namespace
}  // namespace inferd::test
