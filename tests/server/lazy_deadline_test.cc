// LazyDeadline (src/server/http/lazy_deadline.h): arm/disarm only record the deadline, the
// timer wakes at most every max_wait and then waits again, reports a passed deadline, or does
// nothing; a sooner deadline supersedes the pending wait.
#include "server/http/lazy_deadline.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <optional>
#include <vector>

namespace inferd::http {
namespace {

using std::chrono::milliseconds;
using Wake = LazyDeadline::Wake;

// Drives a LazyDeadline as a connection does and records every wake's answer.
struct Driver {
  boost::asio::io_context io;
  LazyDeadline deadline;
  std::vector<Wake> wakes;
  std::optional<LazyDeadline::Clock::time_point> passed_at;

  explicit Driver(milliseconds max_wait) : deadline(io.get_executor(), max_wait) {}
  void arm(int ms) {
    if (deadline.arm(ms)) wait();
  }
  void wait() {
    deadline.timer().async_wait([this, generation = deadline.begin_wait()](boost::system::error_code ec) {
      const Wake w = deadline.wake(ec, generation);
      wakes.push_back(w);
      if (w == Wake::kWaitAgain) wait();
      if (w == Wake::kPassed) passed_at = LazyDeadline::Clock::now();
    });
  }
  size_t count(Wake w) const { return static_cast<size_t>(std::count(wakes.begin(), wakes.end(), w)); }
};

TEST(LazyDeadline, ReportsThePassedDeadlineAfterWakingEveryMaxWait) {
  Driver d(milliseconds(10));
  const auto start = LazyDeadline::Clock::now();
  d.arm(45);
  d.io.run();
  ASSERT_TRUE(d.passed_at.has_value());
  EXPECT_GE(*d.passed_at - start, milliseconds(45));
  EXPECT_EQ(d.count(Wake::kPassed), 1u);
  EXPECT_GE(d.count(Wake::kWaitAgain), 3u);  // woke at ~10, 20, 30, 40 ms and waited again
}

TEST(LazyDeadline, MovingTheDeadlineLaterStartsNoWaitAndMovesWhenItPasses) {
  Driver d(milliseconds(20));
  const auto start = LazyDeadline::Clock::now();
  d.arm(30);
  EXPECT_FALSE(d.deadline.arm(80));  // the pending wait wakes first and waits for the new one
  d.io.run();
  ASSERT_TRUE(d.passed_at.has_value());
  EXPECT_GE(*d.passed_at - start, milliseconds(80));
  EXPECT_EQ(d.count(Wake::kPassed), 1u);
}

TEST(LazyDeadline, DisarmedItWakesForNothing) {
  Driver d(milliseconds(10));
  d.arm(20);
  d.deadline.disarm();
  EXPECT_FALSE(d.deadline.armed());
  d.io.run();
  EXPECT_FALSE(d.passed_at.has_value());
  EXPECT_EQ(d.wakes, std::vector<Wake>{Wake::kNothing});
}

TEST(LazyDeadline, ASoonerDeadlineSupersedesThePendingWait) {
  Driver d(milliseconds(1000));
  const auto start = LazyDeadline::Clock::now();
  d.arm(1000);
  d.arm(15);  // sooner than the pending expiry: the timer is re-armed, the old wait aborted
  d.io.run();
  ASSERT_TRUE(d.passed_at.has_value());
  EXPECT_LT(*d.passed_at - start, milliseconds(900));
  EXPECT_EQ(d.count(Wake::kPassed), 1u);
  EXPECT_EQ(d.count(Wake::kNothing), 1u);  // the superseded wait
}

TEST(LazyDeadline, CancelAbortsThePendingWait) {
  Driver d(milliseconds(1000));
  const auto start = LazyDeadline::Clock::now();
  d.arm(1000);
  d.deadline.cancel();
  d.io.run();
  EXPECT_LT(LazyDeadline::Clock::now() - start, milliseconds(500));
  EXPECT_EQ(d.wakes, std::vector<Wake>{Wake::kNothing});
  EXPECT_FALSE(d.passed_at.has_value());
}

}  // namespace
}  // namespace inferd::http
