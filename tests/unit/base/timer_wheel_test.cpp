#include "tern/base/timer_wheel.hpp"

#include <gtest/gtest.h>

#include <vector>

#include "tern/base/clock.hpp"

namespace tern {
namespace {

struct Recorder {
  std::vector<std::pair<int, uint64_t>> fired;
};

struct Tagged {
  Timer timer;
  int tag;
  Recorder* rec;
  Tagged(int t, Recorder* r) : timer(&Tagged::fire, this), tag(t), rec(r) {}
  static void fire(Timer& t, uint64_t now) {
    auto* self = static_cast<Tagged*>(t.ctx);
    self->rec->fired.emplace_back(self->tag, now);
  }
};

TEST(TimerWheel, FiresAtOrAfterExpiryNeverBefore) {
  TimerWheel w(kNsPerMs, 64, 0);
  Recorder r;
  Tagged a(1, &r);
  w.arm(a.timer, 10 * kNsPerMs);
  EXPECT_EQ(w.advance(9 * kNsPerMs), 0u);
  EXPECT_TRUE(a.timer.armed());
  EXPECT_EQ(w.advance(10 * kNsPerMs), 1u);
  ASSERT_EQ(r.fired.size(), 1u);
  EXPECT_FALSE(a.timer.armed());
  EXPECT_EQ(w.armed(), 0u);
}

TEST(TimerWheel, MidTickExpiryFiresInItsTickNotATurnLater) {
  // Polled every 0.1 ms: a timer due at 500.7 ms fires at the first advance at or after it,
  // not a whole turn of the wheel later (a bug the Linux interop test found).
  TimerWheel w(kNsPerMs, 1024, 0);
  Recorder r;
  Tagged a(1, &r);
  w.arm(a.timer, 500 * kNsPerMs + 700'000);
  for (uint64_t t = 0; t <= 600 * kNsPerMs && r.fired.empty(); t += 100'000) w.advance(t);
  ASSERT_EQ(r.fired.size(), 1u);
  EXPECT_GE(r.fired[0].second, 500 * kNsPerMs + 700'000);
  EXPECT_LE(r.fired[0].second, 501 * kNsPerMs);
}

TEST(TimerWheel, LongTimersSurviveFullRotations) {
  TimerWheel w(kNsPerMs, 8, 0);
  Recorder r;
  Tagged a(1, &r);
  w.arm(a.timer, 100 * kNsPerMs);  // 12 rotations of an 8-slot wheel
  for (uint64_t t = 1; t < 100; ++t) ASSERT_EQ(w.advance(t * kNsPerMs), 0u) << t;
  EXPECT_EQ(w.advance(100 * kNsPerMs), 1u);
}

TEST(TimerWheel, BigJumpFiresEverythingDue) {
  TimerWheel w(kNsPerMs, 16, 0);
  Recorder r;
  std::vector<std::unique_ptr<Tagged>> ts;
  for (int i = 0; i < 50; ++i) {
    ts.push_back(std::make_unique<Tagged>(i, &r));
    w.arm(ts.back()->timer, static_cast<uint64_t>(i + 1) * 3 * kNsPerMs);
  }
  EXPECT_EQ(w.advance(1000 * kNsPerMs), 50u);
  EXPECT_EQ(w.armed(), 0u);
}

TEST(TimerWheel, CancelAndDestroyDisarm) {
  TimerWheel w(kNsPerMs, 16, 0);
  Recorder r;
  Tagged a(1, &r);
  w.arm(a.timer, 5 * kNsPerMs);
  w.cancel(a.timer);
  EXPECT_FALSE(a.timer.armed());
  {
    Tagged b(2, &r);
    w.arm(b.timer, 5 * kNsPerMs);
    EXPECT_EQ(w.armed(), 1u);
  }
  EXPECT_EQ(w.armed(), 0u);
  EXPECT_EQ(w.advance(10 * kNsPerMs), 0u);
  EXPECT_TRUE(r.fired.empty());
}

TEST(TimerWheel, RearmFromCallbackIntoSameSlot) {
  TimerWheel w(kNsPerMs, 4, 0);
  struct Periodic {
    Timer timer;
    TimerWheel* w;
    int count = 0;
    static void fire(Timer& t, uint64_t now) {
      auto* self = static_cast<Periodic*>(t.ctx);
      ++self->count;
      if (self->count < 5) self->w->arm(t, now + 4 * kNsPerMs);  // same slot next round
    }
  } p;
  p.timer.fn = &Periodic::fire;
  p.timer.ctx = &p;
  p.w = &w;
  w.arm(p.timer, 4 * kNsPerMs);
  for (uint64_t t = 1; t <= 40; ++t) w.advance(t * kNsPerMs);
  EXPECT_EQ(p.count, 5);
}

TEST(TimerWheel, PastExpiryFiresOnNextAdvance) {
  TimerWheel w(kNsPerMs, 16, 50 * kNsPerMs);
  Recorder r;
  Tagged a(1, &r);
  w.arm(a.timer, 10 * kNsPerMs);
  EXPECT_EQ(w.advance(51 * kNsPerMs), 1u);
  ASSERT_EQ(r.fired.size(), 1u);
  EXPECT_EQ(r.fired[0].first, 1);
  EXPECT_EQ(r.fired[0].second, 51 * kNsPerMs);
}

TEST(Clock, MonotonicNeverGoesBack) {
  uint64_t prev = monotonic_ns();
  for (int i = 0; i < 10000; ++i) {
    uint64_t now = monotonic_ns();
    ASSERT_GE(now, prev);
    prev = now;
  }
  EXPECT_GT(tsc_hz(), 0u);
}

}  // namespace
}  // namespace tern
