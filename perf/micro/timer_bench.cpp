// The per-core timer wheel (lib/base timer_wheel), with the Core's geometry
// (1 ms ticks, 1024 slots): arm, re-arm (what TCP does to its retransmission
// timer on every ACK), cancel, and advance() firing N timers. The batched
// ones time only their half with manual time (bench_timing.hpp).
#include <benchmark/benchmark.h>

#include <memory>

#include "bench_timing.hpp"
#include "bench_util.hpp"
#include "tern/base/timer_wheel.hpp"

namespace {

using tern::Timer;
using tern::TimerWheel;
using tern::perf::per_item;
using tern::perf::require;
using tern::perf::SectionTimer;

constexpr uint64_t kTick = 1'000'000;

struct Timers {
  explicit Timers(size_t n) : n(n), t(new Timer[n]) {
    for (size_t i = 0; i < n; ++i) {
      t[i].fn = [](Timer& tm, uint64_t) { ++*static_cast<uint64_t*>(tm.ctx); };
      t[i].ctx = &fired;
    }
  }
  // Expiries spread over half a turn of the wheel, not on tick boundaries.
  static uint64_t expiry(size_t i, uint64_t now) { return now + (i % 512 + 1) * kTick + 12345; }
  size_t n;
  std::unique_ptr<Timer[]> t;
  uint64_t fired = 0;
};

void BM_TimerArm(benchmark::State& st) {
  TimerWheel w(kTick, 1024, 0);
  Timers ts(static_cast<size_t>(st.range(0)));
  SectionTimer clock;
  for (auto _ : st) {
    clock.start();
    for (size_t i = 0; i < ts.n; ++i) w.arm(ts.t[i], Timers::expiry(i, 0));
    clock.stop();
    require(w.armed() == ts.n, "not every timer is armed");
    for (size_t i = 0; i < ts.n; ++i) w.cancel(ts.t[i]);
    clock.report(st);
  }
  per_item(st, static_cast<int64_t>(ts.n), &clock);
}
BENCHMARK(BM_TimerArm)->Arg(1024)->UseManualTime();

void BM_TimerRearm(benchmark::State& st) {
  TimerWheel w(kTick, 1024, 0);
  Timers ts(static_cast<size_t>(st.range(0)));
  for (size_t i = 0; i < ts.n; ++i) w.arm(ts.t[i], Timers::expiry(i, 0));
  size_t i = 0;
  uint64_t k = 0;
  for (auto _ : st) {
    w.arm(ts.t[i], Timers::expiry(k++, 0));  // already armed: unlinked, then linked into its new slot
    i = i + 1 == ts.n ? 0 : i + 1;
  }
  require(w.armed() == ts.n, "re-arming lost timers");
  st.SetItemsProcessed(static_cast<int64_t>(st.iterations()));
}
BENCHMARK(BM_TimerRearm)->Arg(1024);

void BM_TimerCancel(benchmark::State& st) {
  TimerWheel w(kTick, 1024, 0);
  Timers ts(static_cast<size_t>(st.range(0)));
  SectionTimer clock;
  for (auto _ : st) {
    for (size_t i = 0; i < ts.n; ++i) w.arm(ts.t[i], Timers::expiry(i, 0));
    clock.start();
    for (size_t i = 0; i < ts.n; ++i) w.cancel(ts.t[i]);
    clock.stop();
    require(w.armed() == 0, "cancel left timers armed");
    clock.report(st);
  }
  per_item(st, static_cast<int64_t>(ts.n), &clock);
}
BENCHMARK(BM_TimerCancel)->Arg(1024)->UseManualTime();

// advance() over one tick whose slot holds N due timers (the callbacks count them).
void BM_TimerExpire(benchmark::State& st) {
  TimerWheel w(kTick, 1024, 0);
  Timers ts(static_cast<size_t>(st.range(0)));
  SectionTimer clock;
  uint64_t now = 0;
  for (auto _ : st) {
    for (size_t i = 0; i < ts.n; ++i) w.arm(ts.t[i], now + kTick / 2 + i);
    const uint64_t before = ts.fired;
    now += kTick;
    clock.start();
    const size_t n = w.advance(now);
    clock.stop();
    require(n == ts.n && ts.fired - before == ts.n && w.armed() == 0, "advance did not fire every timer");
    clock.report(st);
  }
  per_item(st, static_cast<int64_t>(ts.n), &clock);
}
BENCHMARK(BM_TimerExpire)->Arg(64)->Arg(1024)->UseManualTime();

}  // namespace
