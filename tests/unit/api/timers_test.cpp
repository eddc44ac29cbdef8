// Application timers on the core (Net::after / every / cancel): never early, at most one tick
// late, periodic ones keep their phase, cancellation (also from inside the callback) and stale ids.
#include <gtest/gtest.h>

#include <vector>

#include "api_fixture.hpp"

namespace tern::apitest {
namespace {

using TimerTest = ApiTest;

TEST_F(TimerTest, OneShotFiresOnceNeverEarlyAndAtMostOneTickLate) {
  const uint64_t start = a_.now();
  uint64_t fired_at = 0;
  int runs = 0;
  TimerId id = na_->after(5'000'000, [&] {
    fired_at = a_.now();
    ++runs;
  });
  EXPECT_TRUE(na_->pending(id));
  EXPECT_EQ(na_->timers(), 1u);
  for (int i = 0; i < 40; ++i) run(1, 250'000);  // 10 ms in 250 µs polls
  EXPECT_EQ(runs, 1);
  EXPECT_GE(fired_at, start + 5'000'000);
  EXPECT_LE(fired_at, start + 5'000'000 + na_->timer_resolution_ns() + 250'000);
  EXPECT_FALSE(na_->pending(id));
  EXPECT_EQ(na_->cancel(id).error().code, Errc::bad_handle) << "cancelling a fired timer";
  EXPECT_EQ(na_->timers(), 0u);
}

TEST_F(TimerTest, PeriodicKeepsItsPhaseAndSkipsMissedRuns) {
  std::vector<uint64_t> at;
  const uint64_t start = a_.now();
  TimerId id = na_->every(10'000'000, [&] { at.push_back(a_.now()); });
  run(100, 1'000'000);  // 100 ms
  ASSERT_GE(at.size(), 9u);
  ASSERT_LE(at.size(), 10u);
  for (size_t i = 0; i < at.size(); ++i) {
    EXPECT_GE(at[i], start + (i + 1) * 10'000'000);
    EXPECT_LE(at[i], start + (i + 1) * 10'000'000 + 2'000'000) << "drifted at run " << i;
  }
  // A stalled core (55 ms in one step) runs it once, then back in phase.
  at.clear();
  run(1, 55'000'000);
  EXPECT_EQ(at.size(), 1u);
  run(20, 1'000'000);
  EXPECT_GE(at.size(), 2u);
  EXPECT_LE(at.size(), 3u);
  ASSERT_TRUE(na_->cancel(id));
  const size_t n = at.size();
  run(50, 1'000'000);
  EXPECT_EQ(at.size(), n) << "cancelled";
}

TEST_F(TimerTest, CancelBeforeFiringAndFromInsideTheCallback) {
  int a = 0, b = 0;
  TimerId ta = na_->after(2'000'000, [&] { ++a; });
  ASSERT_TRUE(na_->cancel(ta));
  EXPECT_EQ(na_->cancel(ta).error().code, Errc::bad_handle);
  TimerId tb;
  tb = na_->every(1'000'000, [&] {
    if (++b == 3) {
      EXPECT_TRUE(na_->cancel(tb));
    }
  });
  run(20, 1'000'000);
  EXPECT_EQ(a, 0);
  EXPECT_EQ(b, 3);
  EXPECT_EQ(na_->timers(), 0u);
  // Slots are reused: a new timer gets a fresh generation, old ids stay dead.
  TimerId tc = na_->after(1'000'000, [] {});
  EXPECT_FALSE(tc == ta);
  EXPECT_FALSE(na_->pending(ta));
  EXPECT_TRUE(na_->pending(tc));
  EXPECT_EQ(na_->cancel(TimerId{}).error().code, Errc::bad_handle);
}

TEST_F(TimerTest, CallbacksMayStartTimersAndTakeAnyCallable) {
  std::vector<int> order;
  struct Big {
    std::array<uint64_t, 16> pad{};
    std::vector<int>* out;
    void operator()() const { out->push_back(2); }
  };
  na_->after(1'000'000, [&] {
    order.push_back(1);
    na_->after(1'000'000, Big{{}, &order});
  });
  run(5, 1'000'000);
  EXPECT_EQ(order, (std::vector<int>{1, 2}));
}

}  // namespace
}  // namespace tern::apitest
