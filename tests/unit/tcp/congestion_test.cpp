#include "tern/tcp/congestion.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <vector>

namespace tern::tcp {
namespace {

constexpr uint64_t kMs = 1'000'000;
constexpr uint64_t kS = 1'000'000'000;
constexpr uint32_t kMss = 1000;

static_assert(sizeof(Congestion) <= 64);

Congestion make(CcAlgo algo, uint32_t mss = kMss, uint32_t iw = 10) {
  Congestion cc;
  cc.init(algo, mss, iw, 0);
  return cc;
}

// One round trip of a cwnd-limited sender: cwnd/mss ACKs of one MSS each, spread evenly over srtt.
uint64_t run_rtt(Congestion& cc, uint64_t now, uint64_t srtt) {
  const uint32_t n = std::max<uint32_t>(cc.cwnd() / cc.mss(), 1);
  for (uint32_t i = 0; i < n; ++i) cc.on_ack(cc.mss(), cc.cwnd(), srtt, now + srtt * i / n);
  return now + srtt;
}

// Puts a CUBIC connection in congestion avoidance after a loss at `cwnd_at_loss`.
Congestion cubic_after_loss(uint32_t cwnd_at_loss) {
  Congestion cc = make(CcAlgo::cubic);
  cc.set_cwnd(cwnd_at_loss);
  cc.on_loss(cwnd_at_loss, 0);
  return cc;
}

TEST(CcAlgoNames, RoundTrip) {
  EXPECT_EQ(to_string(CcAlgo::newreno), "newreno");
  EXPECT_EQ(to_string(CcAlgo::cubic), "cubic");
  EXPECT_EQ(cc_from_string("newreno"), CcAlgo::newreno);
  EXPECT_EQ(cc_from_string("cubic"), CcAlgo::cubic);
  EXPECT_EQ(cc_from_string("reno"), std::nullopt);
  EXPECT_EQ(cc_from_string(""), std::nullopt);
  EXPECT_EQ(cc_from_string("CUBIC"), std::nullopt);
}

TEST(Congestion, InitialWindowIsTenSegments) {
  Congestion cc = make(CcAlgo::newreno, 1460);
  EXPECT_EQ(cc.cwnd(), 14600u);
  EXPECT_EQ(cc.ssthresh(), UINT32_MAX);
  EXPECT_TRUE(cc.in_slow_start());
  EXPECT_EQ(cc.algo(), CcAlgo::newreno);
  EXPECT_EQ(make(CcAlgo::cubic, 536).cwnd(), 5360u);
}

TEST(Congestion, InitialWindowCappedAt14600ForLargeMss) {
  EXPECT_EQ(make(CcAlgo::newreno, 1500).cwnd(), 14600u);  // min(15000, max(3000, 14600))
  EXPECT_EQ(make(CcAlgo::newreno, 9000).cwnd(), 18000u);  // min(90000, max(18000, 14600))
}

TEST(Congestion, OtherInitialWindowsAreSegmentsTimesMss) {
  EXPECT_EQ(make(CcAlgo::newreno, 1460, 4).cwnd(), 5840u);
  EXPECT_EQ(make(CcAlgo::newreno, 9000, 2).cwnd(), 18000u);
  EXPECT_EQ(make(CcAlgo::newreno, 1460, 0).cwnd(), 1460u);  // 0 treated as 1
  EXPECT_EQ(make(CcAlgo::newreno, 0).mss(), 1u);
}

TEST(Congestion, DefaultConstructedIsUsable) {
  Congestion cc;
  EXPECT_EQ(cc.mss(), Congestion::kDefaultMss);
  EXPECT_EQ(cc.cwnd(), 5360u);
  EXPECT_EQ(cc.initial_window(), 5360u);
}

TEST(Congestion, SetMssBeforeAnyTrafficRecomputesInitialWindow) {
  Congestion cc = make(CcAlgo::newreno, 536);
  cc.set_mss(1460);
  EXPECT_EQ(cc.mss(), 1460u);
  EXPECT_EQ(cc.cwnd(), 14600u);
}

TEST(Congestion, SetMssAfterTrafficKeepsBytes) {
  Congestion cc = make(CcAlgo::newreno);
  cc.on_ack(kMss, cc.cwnd(), 0, 0);
  EXPECT_EQ(cc.cwnd(), 11000u);
  cc.set_mss(1460);
  EXPECT_EQ(cc.cwnd(), 11000u);
  cc.set_mss(20000);
  EXPECT_EQ(cc.cwnd(), 20000u);  // never below 1 MSS
}

TEST(Congestion, SlowStartGrowsByAckedBytesPerAck) {
  Congestion cc = make(CcAlgo::newreno);
  cc.on_ack(kMss, 10000, 0, 0);
  EXPECT_EQ(cc.cwnd(), 11000u);
  cc.on_ack(500, 11000, 0, 0);
  EXPECT_EQ(cc.cwnd(), 11500u);
  // One window of single-MSS ACKs doubles cwnd.
  Congestion d = make(CcAlgo::newreno);
  run_rtt(d, 0, 10 * kMs);
  EXPECT_EQ(d.cwnd(), 20000u);
}

TEST(Congestion, SlowStartByteCountingLimitIsTwoMss) {
  Congestion cc = make(CcAlgo::newreno);
  cc.on_ack(5 * kMss, 10000, 0, 0);
  EXPECT_EQ(cc.cwnd(), 12000u);
  Congestion cu = make(CcAlgo::cubic);
  cu.on_ack(5 * kMss, 10000, 0, 0);
  EXPECT_EQ(cu.cwnd(), 12000u);
}

TEST(Congestion, SlowStartAfterRtoLimitsByteCountingToOneMss) {
  Congestion cc = make(CcAlgo::newreno);
  cc.on_rto(10000, 0);
  cc.on_ack(3 * kMss, kMss, 0, 0);
  EXPECT_EQ(cc.cwnd(), 2000u);
}

TEST(Congestion, SlowStartStopsAtSsthresh) {
  Congestion cc = make(CcAlgo::newreno);
  cc.on_loss(24000, 0);  // ssthresh 12000
  cc.set_cwnd(11500);
  ASSERT_TRUE(cc.in_slow_start());
  cc.on_ack(kMss, 11500, 0, 0);  // 500 bytes reach ssthresh, 500 counted as congestion avoidance
  EXPECT_EQ(cc.cwnd(), 12000u);
  EXPECT_FALSE(cc.in_slow_start());
  for (int i = 0; i < 11; ++i) cc.on_ack(kMss, 12000, 0, 0);
  EXPECT_EQ(cc.cwnd(), 12000u);  // 11500 bytes counted
  cc.on_ack(500, 12000, 0, 0);
  EXPECT_EQ(cc.cwnd(), 13000u);
}

TEST(Congestion, NewRenoCongestionAvoidanceAddsOneMssPerWindowOfAckedData) {
  Congestion cc = make(CcAlgo::newreno);
  EXPECT_EQ(cc.on_loss(20000, 0), 10000u);
  ASSERT_EQ(cc.cwnd(), 10000u);
  ASSERT_FALSE(cc.in_slow_start());
  for (int i = 0; i < 9; ++i) cc.on_ack(kMss, 10000, 0, 0);
  EXPECT_EQ(cc.cwnd(), 10000u);
  cc.on_ack(kMss, 10000, 0, 0);
  EXPECT_EQ(cc.cwnd(), 11000u);
  // The next increment needs a full 11000 bytes.
  for (int i = 0; i < 10; ++i) cc.on_ack(kMss, 11000, 0, 0);
  EXPECT_EQ(cc.cwnd(), 11000u);
  cc.on_ack(kMss, 11000, 0, 0);
  EXPECT_EQ(cc.cwnd(), 12000u);
}

TEST(Congestion, NewRenoOneRoundTripGrowsOneMss) {
  Congestion cc = make(CcAlgo::newreno);
  cc.on_loss(40000, 0);  // 20000
  uint64_t now = 0;
  for (int r = 1; r <= 5; ++r) {
    now = run_rtt(cc, now, 10 * kMs);
    EXPECT_EQ(cc.cwnd(), 20000u + r * kMss);
  }
}

TEST(Congestion, NewRenoLossHalvesFlightSize) {
  Congestion cc = make(CcAlgo::newreno);
  cc.set_cwnd(40000);
  EXPECT_EQ(cc.on_loss(30000, 0), 15000u);  // flight, not cwnd
  EXPECT_EQ(cc.ssthresh(), 15000u);
  EXPECT_EQ(cc.cwnd(), 15000u);
}

TEST(Congestion, NewRenoLossSsthreshAtLeastTwoMss) {
  Congestion cc = make(CcAlgo::newreno);
  EXPECT_EQ(cc.on_loss(1000, 0), 2000u);
  EXPECT_EQ(cc.cwnd(), 2000u);
  EXPECT_EQ(cc.on_loss(0, 0), 2000u);
}

TEST(Congestion, RtoCollapsesToOneMss) {
  Congestion cc = make(CcAlgo::newreno);
  cc.set_cwnd(50000);
  cc.on_rto(30000, 0);
  EXPECT_EQ(cc.cwnd(), kMss);
  EXPECT_EQ(cc.ssthresh(), 15000u);
  EXPECT_TRUE(cc.in_slow_start());
}

TEST(Congestion, RepeatedRtoWithoutProgressHoldsSsthresh) {
  Congestion cc = make(CcAlgo::newreno);
  cc.on_rto(30000, 0);
  cc.on_rto(30000, 0);
  cc.on_rto(2000, 0);
  EXPECT_EQ(cc.ssthresh(), 15000u);
  EXPECT_EQ(cc.cwnd(), kMss);
  cc.on_ack(kMss, kMss, 0, 0);
  cc.on_rto(8000, 0);  // progress was made: a new timeout recomputes
  EXPECT_EQ(cc.ssthresh(), 4000u);

  Congestion cu = make(CcAlgo::cubic);
  cu.set_cwnd(100000);
  cu.on_rto(100000, 0);
  EXPECT_EQ(cu.ssthresh(), 70000u);
  cu.on_rto(100000, 0);
  EXPECT_EQ(cu.ssthresh(), 70000u);  // not 0.7 * 1 MSS
}

TEST(Congestion, RecoveryExitDeflatesToFlightPlusOneMssCappedBySsthresh) {
  Congestion cc = make(CcAlgo::newreno);
  cc.on_loss(30000, 0);  // ssthresh 15000
  cc.set_cwnd(18000);    // engine inflation
  cc.on_recovery_exit(5000, 0);
  EXPECT_EQ(cc.cwnd(), 6000u);
  cc.set_cwnd(18000);
  cc.on_recovery_exit(20000, 0);
  EXPECT_EQ(cc.cwnd(), 15000u);
  cc.on_recovery_exit(0, 0);
  EXPECT_EQ(cc.cwnd(), 2000u);  // max(0, mss) + mss
}

TEST(Congestion, SetCwndNeverBelowOneMss) {
  Congestion cc = make(CcAlgo::newreno);
  cc.set_cwnd(0);
  EXPECT_EQ(cc.cwnd(), kMss);
  cc.set_cwnd(123456);
  EXPECT_EQ(cc.cwnd(), 123456u);
}

TEST(Congestion, AppLimitedAckDoesNotGrow) {
  for (CcAlgo a : {CcAlgo::newreno, CcAlgo::cubic}) {
    Congestion cc = make(a);
    cc.on_ack(kMss, 10000, 0, 0, /*app_limited=*/true);
    EXPECT_EQ(cc.cwnd(), 10000u);
    cc.on_ack(kMss, 4999, 0, 0);  // flight before < cwnd/2
    EXPECT_EQ(cc.cwnd(), 10000u);
    cc.on_ack(kMss, 5000, 0, 0);
    EXPECT_EQ(cc.cwnd(), 11000u);
    cc.on_loss(22000, 0);
    const uint32_t w = cc.cwnd();
    for (int i = 0; i < 100; ++i) cc.on_ack(kMss, w / 4, 10 * kMs, i * kMs);
    EXPECT_EQ(cc.cwnd(), w) << to_string(a);
  }
}

TEST(Congestion, ZeroAckedBytesIsANoOp) {
  Congestion cc = make(CcAlgo::newreno);
  cc.on_ack(0, 10000, 0, 0);
  EXPECT_EQ(cc.cwnd(), 10000u);
}

TEST(Congestion, NoOverflowWithHugeAckedValues) {
  for (CcAlgo a : {CcAlgo::newreno, CcAlgo::cubic}) {
    Congestion cc = make(a);
    cc.set_cwnd(UINT32_MAX - 10);
    cc.on_ack(UINT32_MAX, UINT32_MAX, 10 * kMs, 0);
    EXPECT_EQ(cc.cwnd(), UINT32_MAX);
    cc.on_ack(UINT32_MAX, UINT32_MAX, 10 * kMs, 1 * kS);
    EXPECT_EQ(cc.cwnd(), UINT32_MAX);
    cc.on_loss(UINT32_MAX, 2 * kS);
    EXPECT_GE(cc.cwnd(), cc.mss());
    for (int i = 0; i < 100; ++i) cc.on_ack(UINT32_MAX, UINT32_MAX, 10 * kMs, (3 + i) * kS);
    EXPECT_GE(cc.cwnd(), cc.mss());
    cc.on_recovery_exit(UINT32_MAX, 0);
    EXPECT_LE(cc.cwnd(), cc.ssthresh());
  }
  Congestion big = make(CcAlgo::cubic, UINT32_MAX);
  EXPECT_EQ(big.cwnd(), UINT32_MAX);
  EXPECT_EQ(big.on_loss(UINT32_MAX, 0), UINT32_MAX);  // 2*mss saturates
  big.on_rto(0, 0);
  EXPECT_EQ(big.cwnd(), UINT32_MAX);
}

TEST(Congestion, SlowStartAfterIdleRestartsFromInitialWindow) {
  Congestion cc = make(CcAlgo::newreno);
  cc.set_cwnd(50000);
  cc.on_idle(500 * kMs, 1 * kS, 0);  // not idle long enough
  EXPECT_EQ(cc.cwnd(), 50000u);
  cc.on_idle(2 * kS, 1 * kS, 0);
  EXPECT_EQ(cc.cwnd(), 10000u);
  cc.set_cwnd(4000);
  cc.on_idle(2 * kS, 1 * kS, 0);
  EXPECT_EQ(cc.cwnd(), 4000u);  // RW = min(IW, cwnd)
}

TEST(Congestion, SetAlgoKeepsWindowsAndResetsPrivateState) {
  Congestion cc = cubic_after_loss(100000);
  uint64_t now = 0;
  for (int r = 0; r < 5; ++r) now = run_rtt(cc, now, 100 * kMs);
  const uint32_t cwnd = cc.cwnd();
  const uint32_t ssthresh = cc.ssthresh();
  EXPECT_GT(cc.cubic_w_max(), 0u);
  cc.set_algo(CcAlgo::newreno, now);
  EXPECT_EQ(cc.algo(), CcAlgo::newreno);
  EXPECT_EQ(cc.cwnd(), cwnd);
  EXPECT_EQ(cc.ssthresh(), ssthresh);
  EXPECT_EQ(cc.cubic_w_max(), 0u);
  cc.set_cwnd(80000);
  now = run_rtt(cc, now, 100 * kMs);  // NewReno now: +1 MSS per round trip
  EXPECT_EQ(cc.cwnd(), 81000u);
  cc.set_algo(CcAlgo::cubic, now);
  EXPECT_EQ(cc.algo(), CcAlgo::cubic);
  EXPECT_EQ(cc.cwnd(), 81000u);
}

TEST(Cubic, LossReducesByBetaAndRemembersWmax) {
  Congestion cc = make(CcAlgo::cubic);
  cc.set_cwnd(100000);
  EXPECT_EQ(cc.on_loss(60000, 0), 70000u);  // cwnd * 0.7
  EXPECT_EQ(cc.cwnd(), 70000u);
  EXPECT_EQ(cc.ssthresh(), 70000u);
  EXPECT_EQ(cc.cubic_w_max(), 100000u);
  EXPECT_FALSE(cc.in_slow_start());
}

TEST(Cubic, LossSsthreshAtLeastTwoMss) {
  Congestion cc = make(CcAlgo::cubic);
  cc.set_cwnd(2000);
  EXPECT_EQ(cc.on_loss(2000, 0), 2000u);
}

TEST(Cubic, FastConvergenceLowersWmax) {
  Congestion cc = cubic_after_loss(100000);
  ASSERT_EQ(cc.cubic_w_max(), 100000u);
  cc.set_cwnd(90000);  // second loss below the previous W_max
  EXPECT_EQ(cc.on_loss(90000, 0), 63000u);
  EXPECT_EQ(cc.cubic_w_max(), 76500u);  // 90000 * (1 + 0.7) / 2
  cc.set_cwnd(80000);                   // a loss above W_max just records cwnd
  cc.on_loss(80000, 0);
  EXPECT_EQ(cc.cubic_w_max(), 80000u);
}

TEST(Cubic, RegrowsConcaveTowardsWmaxThenConvexBeyond) {
  // A 200 ms RTT keeps the Reno-friendly estimate (~2.6 MSS/s) below the cubic curve for 8 s.
  Congestion cc = cubic_after_loss(100000);  // cwnd 70000, W_max 100000
  const uint64_t srtt = 200 * kMs;
  const double k_s = std::cbrt(30.0 / 0.4);  // ~4.22 s
  std::vector<uint32_t> w{cc.cwnd()};        // w[r]: cwnd after r round trips, at t = r * 0.2 s
  uint64_t now = 0;
  for (int r = 0; r < 40; ++r) {
    now = run_rtt(cc, now, srtt);
    w.push_back(cc.cwnd());
  }
  for (size_t i = 1; i < w.size(); ++i) EXPECT_GE(w[i], w[i - 1]);
  const auto growth = [&](size_t r) { return static_cast<int64_t>(w[r + 3]) - w[r]; };
  // Concave: growth slows as cwnd approaches W_max ...
  EXPECT_GT(growth(0), 10 * growth(16));
  EXPECT_LT(w[17], 100000u);
  // ... plateaus around W_max at t = K ...
  EXPECT_NEAR(static_cast<double>(w[21]), 100000.0, 1500.0);
  // ... then convex: accelerating growth beyond W_max.
  EXPECT_GT(growth(36), 10 * growth(23));
  EXPECT_GT(w[39], 110000u);
  // Follows W_cubic(t) = C*(t-K)^3 + W_max within a few segments.
  for (size_t r : {5u, 10u, 15u, 25u, 30u, 35u, 40u}) {
    const double d = 0.2 * r - k_s;
    const double expected = 0.4 * d * d * d * kMss + 100000.0;
    EXPECT_NEAR(static_cast<double>(w[r]), expected, 4.0 * kMss) << "round " << r;
  }
}

TEST(Cubic, RenoFriendlyRegionKeepsCwndAtLeastRenoEstimate) {
  // With a 1 ms RTT the cubic curve is far slower than Reno's ~0.53 MSS per RTT.
  Congestion cc = cubic_after_loss(100000);
  const uint64_t srtt = 1 * kMs;
  const double alpha = 3.0 * (1.0 - 0.7) / (1.0 + 0.7);
  uint64_t now = 0;
  for (int r = 1; r <= 40; ++r) {
    now = run_rtt(cc, now, srtt);
    const double reno = 70000.0 + alpha * r * kMss;
    EXPECT_GE(cc.cwnd() + 0.05 * reno, reno) << "round " << r;
  }
  const double t = static_cast<double>(now) / kS;
  const double d = t - std::cbrt(30.0 / 0.4);
  EXPECT_GT(cc.cwnd(), 0.4 * d * d * d * kMss + 100000.0 + 15 * kMss);  // well above W_cubic(t)
  EXPECT_GT(cc.cwnd(), 89000u);
}

TEST(Cubic, RenoFriendlyAlphaBecomesOneAfterCwndPrior) {
  Congestion cc = cubic_after_loss(20000);  // cwnd 14000, cwnd_prior 20000
  uint64_t now = 0;
  for (int r = 0; r < 40; ++r) now = run_rtt(cc, now, 1 * kMs);
  const uint32_t before = cc.cwnd();
  ASSERT_GT(before, 20000u);
  for (int r = 0; r < 10; ++r) now = run_rtt(cc, now, 1 * kMs);
  EXPECT_NEAR(static_cast<double>(cc.cwnd() - before), 10.0 * kMss, 1.5 * kMss);  // ~1 MSS per RTT
}

TEST(Cubic, FirstEpochAfterRtoStartsConvexFromCwndEpoch) {
  Congestion cc = make(CcAlgo::cubic);
  cc.set_cwnd(100000);
  cc.on_rto(100000, 0);  // ssthresh 70000
  uint64_t now = 0;
  while (cc.in_slow_start()) now = run_rtt(cc, now, 100 * kMs);
  // Slow start hit ssthresh 6/64 into the last round trip; the rest of it was congestion avoidance.
  EXPECT_EQ(cc.cubic_w_max(), 70000u);  // W_max = cwnd_epoch, K = 0
  EXPECT_LT(cc.cwnd(), 71000u);         // flat start
  for (int r = 0; r < 40; ++r) now = run_rtt(cc, now, 100 * kMs);
  const double t = 4.0 + 0.1 * 58 / 64;  // seconds since the epoch started
  EXPECT_NEAR(static_cast<double>(cc.cwnd()), 70000.0 + 0.4 * t * t * t * kMss, 4.0 * kMss);
}

TEST(Cubic, FirstEpochWithoutKnownWmaxUsesCurrentWindow) {
  Congestion cc = make(CcAlgo::cubic);
  cc.set_cwnd(40000);
  cc.on_loss(40000, 0);           // cwnd = ssthresh = 28000
  cc.set_algo(CcAlgo::cubic, 0);  // forget W_max
  EXPECT_EQ(cc.cubic_w_max(), 0u);
  run_rtt(cc, 0, 10 * kMs);
  EXPECT_EQ(cc.cubic_w_max(), 28000u);  // K = 0, W_max = cwnd_epoch
  EXPECT_GE(cc.cwnd(), 28000u);
  EXPECT_LT(cc.cwnd(), 29000u);
}

TEST(Cubic, IdleTimeDoesNotCountAsGrowthTime) {
  Congestion a = cubic_after_loss(100000);
  Congestion b = cubic_after_loss(100000);
  const uint64_t srtt = 100 * kMs;
  uint64_t ta = 0;
  uint64_t tb = 0;
  for (int r = 0; r < 10; ++r) ta = run_rtt(a, ta, srtt);
  for (int r = 0; r < 10; ++r) tb = run_rtt(b, tb, srtt);
  // b idles 3 s, shorter than its RTO so the window is kept.
  tb += 3 * kS;
  b.on_idle(3 * kS, 5 * kS, tb);
  EXPECT_EQ(b.cwnd(), a.cwnd());
  for (int r = 0; r < 5; ++r) {
    ta = run_rtt(a, ta, srtt);
    tb = run_rtt(b, tb, srtt);
  }
  EXPECT_NEAR(static_cast<double>(b.cwnd()), static_cast<double>(a.cwnd()), 1.0 * kMss);
}

TEST(Cubic, AppLimitedTimeDoesNotCountAsGrowthTime) {
  Congestion a = cubic_after_loss(100000);
  Congestion b = cubic_after_loss(100000);
  const uint64_t srtt = 100 * kMs;
  uint64_t ta = 0;
  uint64_t tb = 0;
  for (int r = 0; r < 10; ++r) ta = run_rtt(a, ta, srtt);
  for (int r = 0; r < 10; ++r) tb = run_rtt(b, tb, srtt);
  for (int i = 0; i < 30; ++i) {  // 3 s of application-limited ACKs
    tb += srtt;
    b.on_ack(kMss, b.cwnd(), srtt, tb, /*app_limited=*/true);
  }
  EXPECT_EQ(b.cwnd(), a.cwnd());
  for (int r = 0; r < 5; ++r) {
    ta = run_rtt(a, ta, srtt);
    tb = run_rtt(b, tb, srtt);
  }
  EXPECT_NEAR(static_cast<double>(b.cwnd()), static_cast<double>(a.cwnd()), 1.0 * kMss);
}

TEST(Cubic, SlowStartMatchesNewReno) {
  Congestion cc = make(CcAlgo::cubic);
  run_rtt(cc, 0, 10 * kMs);
  EXPECT_EQ(cc.cwnd(), 20000u);
}

}  // namespace
}  // namespace tern::tcp
