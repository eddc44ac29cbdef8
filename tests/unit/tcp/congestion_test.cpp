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

// Connection embeds a Congestion: two cache lines at most (64 bytes before HyStart++ and undo).
static_assert(sizeof(Congestion) <= 128);

Congestion make(CcAlgo algo, uint32_t mss = kMss, uint32_t iw = 10) {
  Congestion cc;
  cc.init(algo, mss, iw, 0);
  return cc;
}

Congestion make(CcAlgo algo, CcParams params) {
  Congestion cc;
  cc.init(algo, kMss, 10, 0, params);
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
  // Without HyStart++, which counts up to 8 segments per ACK (RFC 9406 §4.3).
  const CcParams no_hystart{.hystart = false};
  Congestion cc = make(CcAlgo::newreno, no_hystart);
  cc.on_ack(5 * kMss, 10000, 0, 0);
  EXPECT_EQ(cc.cwnd(), 12000u);
  Congestion cu = make(CcAlgo::cubic, no_hystart);
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

// ---- Byte counting limit (RFC 3465, RFC 9406 §4.3) ----

TEST(Congestion, StretchAckGrowthFollowsAbcLimit) {
  struct Case {
    uint32_t abc_limit;
    bool hystart;
    uint32_t segments;  // growth for one ACK of 10 segments
  };
  for (CcAlgo a : {CcAlgo::newreno, CcAlgo::cubic}) {
    for (Case c : {Case{1, false, 1}, Case{2, false, 2}, Case{0, false, 10}, Case{1, true, 8},
                   Case{2, true, 8}, Case{0, true, 10}}) {
      Congestion cc = make(a, CcParams{.hystart = c.hystart, .abc_limit = c.abc_limit});
      EXPECT_EQ(cc.params().abc_limit, c.abc_limit);
      cc.on_ack(10 * kMss, 10000, 0, 0);
      EXPECT_EQ(cc.cwnd(), 10000u + c.segments * kMss)
          << to_string(a) << " abc_limit " << c.abc_limit << " hystart " << c.hystart;
    }
  }
}

TEST(Congestion, StretchAckAfterRtoCountsOneSegmentWhateverTheLimit) {
  for (uint32_t abc : {0u, 1u, 2u, 5u}) {
    for (bool hystart : {false, true}) {
      Congestion cc = make(CcAlgo::newreno, CcParams{.hystart = hystart, .abc_limit = abc});
      cc.on_rto(40000, 0);
      cc.on_ack(10 * kMss, kMss, 0, 0);
      EXPECT_EQ(cc.cwnd(), 2 * kMss) << "abc_limit " << abc << " hystart " << hystart;
    }
  }
}

TEST(Congestion, DefaultParamsAndSetParams) {
  Congestion cc;
  EXPECT_TRUE(cc.params().hystart);
  EXPECT_EQ(cc.params().abc_limit, 2u);
  cc.set_params(CcParams{.hystart = false, .abc_limit = 0});
  cc.init(CcAlgo::cubic, kMss, 10, 0);  // init() keeps the parameters
  EXPECT_FALSE(cc.params().hystart);
  EXPECT_EQ(cc.params().abc_limit, 0u);
}

// ---- HyStart++ (RFC 9406) ----

// A cwnd-limited sender: whole segments up to cwnd, one ACK per segment. round_trip() acknowledges
// exactly one HyStart++ round: what was sent before the previous round's last ACK was processed.
// Sequence numbers start just below the wrap so that round ends rely on modular comparison.
struct Flow {
  Congestion cc;
  wire::SeqNum una{UINT32_MAX - 25'000};
  wire::SeqNum nxt = una;
  wire::SeqNum round_end = una;
  uint64_t now = 0;

  explicit Flow(Congestion c) : cc(c) {}

  void send() {
    while (static_cast<uint32_t>(nxt - una) + cc.mss() <= cc.cwnd()) nxt += cc.mss();
  }

  // Every ACK carries RTT sample rtt_ns, except that only the first `valid` ACKs carry one (Karn).
  // Returns the number of ACKs.
  uint32_t round_trip(uint64_t rtt_ns, uint32_t valid = UINT32_MAX) {
    if (round_end == una) {
      send();
      round_end = nxt;
    }
    const wire::SeqNum end = round_end;
    uint32_t acks = 0;
    while (una < end) {
      const uint32_t flight = static_cast<uint32_t>(nxt - una);
      una += cc.mss();
      cc.on_ack_sample(una, nxt, acks < valid ? rtt_ns : 0);
      cc.on_ack(cc.mss(), flight, rtt_ns, now);
      ++acks;
      if (una == end) round_end = nxt;  // SND.NXT when the round's last ACK was processed
      send();
    }
    now += rtt_ns;
    return acks;
  }
};

// Two rounds at 100 ms then one at 120 ms (RttThresh = 12.5 ms): CSS from the 8th ACK of round 3.
// Returns the number of ACKs of round 3.
uint32_t enter_css(Flow& f) {
  f.round_trip(100 * kMs);
  f.round_trip(100 * kMs);
  return f.round_trip(120 * kMs);
}

TEST(HyStart, FlatRttKeepsSlowStartDoubling) {
  for (CcAlgo a : {CcAlgo::newreno, CcAlgo::cubic}) {
    Flow f(make(a));
    for (int r = 0; r < 8; ++r) {
      const uint32_t before = f.cc.cwnd();
      const uint32_t acks = f.round_trip(100 * kMs);
      EXPECT_EQ(f.cc.cwnd(), before + acks * kMss) << to_string(a) << " round " << r;  // 1 MSS per ACK
      EXPECT_GE(f.cc.cwnd(), 2 * before - 2 * kMss) << to_string(a) << " round " << r;
    }
    EXPECT_GT(f.cc.cwnd(), 1'000'000u);
    EXPECT_FALSE(f.cc.in_css());
    EXPECT_TRUE(f.cc.in_slow_start());
    EXPECT_EQ(f.cc.ssthresh(), UINT32_MAX);
    EXPECT_EQ(f.cc.hystart_exits(), 0u);
  }
}

TEST(HyStart, RisingRttEntersCssGrowsAQuarterAndExitsAfterFiveRounds) {
  Flow f(make(CcAlgo::newreno));
  f.round_trip(100 * kMs);
  f.round_trip(100 * kMs);
  uint32_t before = f.cc.cwnd();
  uint32_t acks = f.round_trip(120 * kMs);
  ASSERT_TRUE(f.cc.in_css());
  // 7 ACKs of slow start; from the 8th sample on, a quarter of the acknowledged bytes.
  EXPECT_EQ(f.cc.cwnd(), before + 7 * kMss + (acks - 7) * kMss / 4);
  EXPECT_TRUE(f.cc.in_slow_start());
  // The partial entry round was CSS round 1; rounds 2 to 4 stay in CSS at a quarter of the growth.
  for (int r = 2; r <= 4; ++r) {
    before = f.cc.cwnd();
    acks = f.round_trip(120 * kMs);
    EXPECT_EQ(f.cc.cwnd(), before + acks * kMss / 4) << "CSS round " << r;
    EXPECT_TRUE(f.cc.in_css());
    EXPECT_EQ(f.cc.ssthresh(), UINT32_MAX);
  }
  before = f.cc.cwnd();
  acks = f.round_trip(120 * kMs);                          // CSS round 5: its last ACK ends slow start
  EXPECT_EQ(f.cc.cwnd(), before + (acks - 1) * kMss / 4);  // the last ACK counts as congestion avoidance
  EXPECT_FALSE(f.cc.in_css());
  EXPECT_FALSE(f.cc.in_slow_start());
  EXPECT_EQ(f.cc.ssthresh(), f.cc.cwnd());
  EXPECT_EQ(f.cc.hystart_exits(), 1u);
  // Congestion avoidance from now on: about one MSS per round trip, whatever the RTT does.
  const uint32_t ca = f.cc.cwnd();
  f.round_trip(100 * kMs);
  f.round_trip(200 * kMs);
  EXPECT_LE(f.cc.cwnd(), ca + 2 * kMss);
  EXPECT_FALSE(f.cc.in_css());
}

TEST(HyStart, CubicExitStartsEpochFromExitWindow) {
  Flow f(make(CcAlgo::cubic));
  enter_css(f);
  for (int r = 2; r <= 5; ++r) f.round_trip(120 * kMs);
  ASSERT_EQ(f.cc.hystart_exits(), 1u);
  const uint32_t exit_cwnd = f.cc.ssthresh();
  EXPECT_LE(f.cc.cwnd(), exit_cwnd + kMss);
  f.round_trip(120 * kMs);
  EXPECT_EQ(f.cc.cubic_w_max(), exit_cwnd);  // RFC 9438 §4.10: W_max = cwnd_epoch, K = 0
  EXPECT_LT(f.cc.cwnd(), exit_cwnd + 2 * kMss);
}

TEST(HyStart, FallingRttInCssResumesSlowStart) {
  Flow f(make(CcAlgo::newreno));
  enter_css(f);
  ASSERT_TRUE(f.cc.in_css());
  const uint32_t before = f.cc.cwnd();
  const uint32_t acks = f.round_trip(100 * kMs);  // below cssBaselineMinRtt (120 ms) from the 8th sample
  EXPECT_FALSE(f.cc.in_css());
  EXPECT_EQ(f.cc.cwnd(), before + 7 * kMss / 4 + (acks - 7) * kMss);
  EXPECT_TRUE(f.cc.in_slow_start());
  EXPECT_EQ(f.cc.ssthresh(), UINT32_MAX);
  // Slow start including HyStart++ again: a new rise enters CSS again.
  f.round_trip(100 * kMs);
  f.round_trip(120 * kMs);
  EXPECT_TRUE(f.cc.in_css());
  EXPECT_EQ(f.cc.hystart_exits(), 0u);
}

TEST(HyStart, DisabledNeverLeavesSlowStartOnRtt) {
  Flow f(make(CcAlgo::cubic, CcParams{.hystart = false}));
  f.round_trip(100 * kMs);
  f.round_trip(100 * kMs);
  for (int r = 0; r < 6; ++r) {
    const uint32_t before = f.cc.cwnd();
    const uint32_t acks = f.round_trip(150 * kMs);
    EXPECT_EQ(f.cc.cwnd(), before + acks * kMss);
    EXPECT_FALSE(f.cc.in_css());
  }
  EXPECT_EQ(f.cc.ssthresh(), UINT32_MAX);
  EXPECT_EQ(f.cc.hystart_exits(), 0u);
}

TEST(HyStart, TurningItOffInCssResumesStandardSlowStart) {
  Flow f(make(CcAlgo::newreno));
  enter_css(f);
  ASSERT_TRUE(f.cc.in_css());
  f.cc.set_params(CcParams{.hystart = false});
  EXPECT_FALSE(f.cc.in_css());
  const uint32_t before = f.cc.cwnd();
  const uint32_t acks = f.round_trip(120 * kMs);
  EXPECT_EQ(f.cc.cwnd(), before + acks * kMss);
}

TEST(HyStart, NeedsEightRttSamplesInTheRound) {
  Flow f(make(CcAlgo::newreno));
  f.round_trip(100 * kMs);
  f.round_trip(100 * kMs);
  f.round_trip(130 * kMs, 7);  // 7 samples, the other ACKs carry none (Karn)
  EXPECT_FALSE(f.cc.in_css());
  f.round_trip(130 * kMs, 8);  // lastRoundMinRTT is now 130 ms: no rise
  EXPECT_FALSE(f.cc.in_css());
  f.round_trip(150 * kMs, 8);
  EXPECT_TRUE(f.cc.in_css());
}

TEST(HyStart, RttThresholdIsClampedBetween4And16Ms) {
  struct Case {
    uint64_t base_us;
    uint64_t next_us;
    bool css;
  };
  // RttThresh = clamp(lastRoundMinRTT / 8, 4 ms, 16 ms).
  for (Case c : {Case{10'000, 13'999, false}, Case{10'000, 14'000, true}, Case{80'000, 89'999, false},
                 Case{80'000, 90'000, true}, Case{200'000, 215'999, false}, Case{200'000, 216'000, true}}) {
    Flow f(make(CcAlgo::newreno));
    f.round_trip(c.base_us * 1000);
    f.round_trip(c.next_us * 1000);
    EXPECT_EQ(f.cc.in_css(), c.css) << c.base_us << " -> " << c.next_us << " us";
  }
}

TEST(HyStart, LossInCssEndsHyStartForGood) {
  Flow f(make(CcAlgo::newreno));
  enter_css(f);
  ASSERT_TRUE(f.cc.in_css());
  f.cc.on_loss(f.cc.cwnd(), f.now);
  EXPECT_FALSE(f.cc.in_css());
  f.cc.set_cwnd(4 * kMss);  // back in slow start below ssthresh: standard slow start, L = 2
  ASSERT_TRUE(f.cc.in_slow_start());
  f.cc.on_ack(10 * kMss, 4 * kMss, 0, f.now);
  EXPECT_EQ(f.cc.cwnd(), 6 * kMss);
}

TEST(HyStart, EcnInSlowStartEndsHyStart) {
  Flow f(make(CcAlgo::cubic));
  enter_css(f);
  ASSERT_TRUE(f.cc.in_css());
  f.cc.on_ecn(f.cc.cwnd(), f.now);
  EXPECT_FALSE(f.cc.in_css());
  EXPECT_FALSE(f.cc.in_slow_start());
}

TEST(HyStart, NotUsedInTheSlowStartAfterAnRto) {
  Flow f(make(CcAlgo::newreno));
  f.round_trip(100 * kMs);
  f.cc.on_rto(400 * kMss, f.now);  // ssthresh 200 segments, far above what follows
  f.una = f.nxt;                   // everything was acknowledged after the retransmission
  f.round_end = f.una;
  for (int r = 0; r < 6; ++r) {
    const uint32_t before = f.cc.cwnd();
    const uint32_t acks = f.round_trip((100 + 30 * r) * kMs);
    EXPECT_EQ(f.cc.cwnd(), before + acks * kMss);
    EXPECT_FALSE(f.cc.in_css());
  }
}

// ---- Undo of spurious reductions ----

TEST(Undo, SpuriousFastRetransmitRestoresNewRenoWindows) {
  Congestion cc = make(CcAlgo::newreno);
  cc.on_loss(60000, 0);  // ssthresh 30000
  cc.set_cwnd(40000);
  EXPECT_EQ(cc.on_loss(40000, 0), 20000u);
  ASSERT_TRUE(cc.can_undo());
  cc.undo(false, 20000, kMss, 0);
  EXPECT_EQ(cc.cwnd(), 40000u);
  EXPECT_EQ(cc.ssthresh(), 30000u);
  EXPECT_FALSE(cc.can_undo());
  EXPECT_EQ(cc.undos(), 1u);
}

TEST(Undo, SpuriousFastRetransmitNeverLowersWindows) {
  Congestion cc = make(CcAlgo::newreno);
  cc.on_loss(20000, 0);  // ssthresh 10000
  cc.on_loss(10000, 0);  // ssthresh 5000; saved: cwnd 10000, ssthresh 10000
  cc.set_cwnd(30000);    // the engine's recovery inflation
  cc.undo(false, 20000, kMss, 0);
  EXPECT_EQ(cc.cwnd(), 30000u);  // max(cwnd, saved cwnd)
  EXPECT_EQ(cc.ssthresh(), 10000u);
}

TEST(Undo, SpuriousFastRetransmitRestoresCubicCurve) {
  Congestion a = cubic_after_loss(100000);
  const uint64_t srtt = 100 * kMs;
  uint64_t now = 0;
  for (int r = 0; r < 10; ++r) now = run_rtt(a, now, srtt);
  Congestion b = a;  // the twin that sees no spurious loss
  const uint32_t cwnd = a.cwnd();
  const uint32_t ssthresh = a.ssthresh();
  const uint32_t w_max = a.cubic_w_max();
  a.on_loss(cwnd, now);
  ASSERT_NE(a.cubic_w_max(), w_max);  // fast convergence lowered it
  // The D-SACK comes after recovery, when a new epoch has started from the reduced window.
  a.on_recovery_exit(a.cwnd(), now);
  uint64_t tb = now;
  for (int r = 0; r < 2; ++r) {
    now = run_rtt(a, now, srtt);
    tb = run_rtt(b, tb, srtt);
  }
  ASSERT_LT(a.cwnd(), cwnd);
  a.undo(false, a.cwnd(), kMss, now);
  EXPECT_EQ(a.cwnd(), cwnd);
  EXPECT_EQ(a.ssthresh(), ssthresh);
  EXPECT_EQ(a.cubic_w_max(), w_max);
  for (int r = 0; r < 20; ++r) {  // on the same W_cubic(t) as the twin
    now = run_rtt(a, now, srtt);
    tb = run_rtt(b, tb, srtt);
    EXPECT_NEAR(static_cast<double>(a.cwnd()), static_cast<double>(b.cwnd()), 1.0 * kMss) << "round " << r;
  }
  EXPECT_GT(b.cwnd(), cwnd + 10 * kMss);
}

TEST(Undo, SpuriousTimeoutFollowsRfc4015) {
  Congestion cc = make(CcAlgo::newreno);
  cc.on_loss(60000, 0);  // ssthresh 30000
  cc.set_cwnd(50000);
  cc.on_rto(40000, 0);  // pipe_prev = max(FlightSize, ssthresh) = 40000
  cc.on_rto(40000, 0);  // a repeated timeout keeps the first saved state
  ASSERT_EQ(cc.cwnd(), kMss);
  ASSERT_EQ(cc.ssthresh(), 20000u);
  cc.undo(true, 20000, kMss, 0);
  EXPECT_EQ(cc.cwnd(), 21000u);  // FlightSize + min(bytes_acked, IW)
  EXPECT_EQ(cc.ssthresh(), 40000u);
  EXPECT_FALSE(cc.can_undo());
  // No longer "after an RTO": byte counting is back to L = 2.
  cc.on_ack(5 * kMss, 21000, 0, 0);
  EXPECT_EQ(cc.cwnd(), 23000u);

  Congestion big = make(CcAlgo::newreno);
  big.on_loss(20000, 0);  // ssthresh 10000
  big.set_cwnd(30000);
  big.on_rto(8000, 0);  // pipe_prev = max(8000, 10000) = 10000
  big.undo(true, 30000, 25000, 0);
  EXPECT_EQ(big.cwnd(), 40000u);  // bytes_acked capped at IW = 10000
  EXPECT_EQ(big.ssthresh(), 10000u);
}

TEST(Undo, SpuriousTimeoutRestoresCubicWmax) {
  Congestion cc = cubic_after_loss(100000);  // W_max 100000, cwnd 70000
  cc.on_rto(70000, 0);
  cc.undo(true, 60000, kMss, 0);
  EXPECT_EQ(cc.cubic_w_max(), 100000u);
  EXPECT_EQ(cc.ssthresh(), 70000u);  // pipe_prev = max(70000, 70000)
  EXPECT_EQ(cc.cwnd(), 61000u);
  // Slow start back to ssthresh, then a concave epoch towards the restored W_max (K > 0).
  uint64_t now = 0;
  while (cc.in_slow_start()) now = run_rtt(cc, now, 100 * kMs);
  now = run_rtt(cc, now, 100 * kMs);
  EXPECT_EQ(cc.cubic_w_max(), 100000u);
  EXPECT_LT(cc.cwnd(), 80000u);
}

TEST(Undo, SpuriousTimeoutInInitialSlowStartResumesHyStart) {
  Flow f(make(CcAlgo::newreno));
  f.round_trip(100 * kMs);
  const uint32_t flight = static_cast<uint32_t>(f.nxt - f.una);
  f.cc.on_rto(flight, f.now);
  f.cc.undo(true, flight - kMss, kMss, f.now);
  EXPECT_EQ(f.cc.ssthresh(), UINT32_MAX);  // pipe_prev = max(FlightSize, ssthresh)
  EXPECT_EQ(f.cc.cwnd(), flight);
  f.una = f.nxt;
  f.round_end = f.una;
  f.round_trip(100 * kMs);
  f.round_trip(100 * kMs);
  f.round_trip(120 * kMs);
  EXPECT_TRUE(f.cc.in_css());
}

TEST(Undo, SecondUndoDoesNothing) {
  Congestion cc = make(CcAlgo::cubic);
  cc.set_cwnd(100000);
  cc.on_loss(100000, 0);
  cc.undo(false, 70000, kMss, 0);
  ASSERT_EQ(cc.cwnd(), 100000u);
  cc.undo(true, 1000, 0, 0);  // would set cwnd to 1000 if it did anything
  EXPECT_EQ(cc.cwnd(), 100000u);
  EXPECT_EQ(cc.undos(), 1u);
}

TEST(Undo, NothingToUndoWithoutAReduction) {
  Congestion cc = make(CcAlgo::newreno);
  EXPECT_FALSE(cc.can_undo());
  cc.undo(true, 1000, 0, 0);
  cc.undo(false, 1000, 0, 0);
  EXPECT_EQ(cc.cwnd(), 10000u);
  EXPECT_EQ(cc.ssthresh(), UINT32_MAX);
  EXPECT_EQ(cc.undos(), 0u);
}

TEST(Undo, EcnIsNeverUndone) {
  Congestion cc = make(CcAlgo::newreno);
  cc.set_cwnd(40000);
  cc.on_loss(40000, 0);
  ASSERT_TRUE(cc.can_undo());
  cc.on_ecn(20000, 0);  // a reduction on top of the loss: undoing the loss would undo it too
  EXPECT_FALSE(cc.can_undo());
  cc.undo(false, 10000, kMss, 0);
  EXPECT_EQ(cc.cwnd(), 10000u);
  EXPECT_EQ(cc.undos(), 0u);
}

TEST(Undo, SetAlgoForgetsSavedState) {
  Congestion cc = cubic_after_loss(100000);
  cc.set_algo(CcAlgo::newreno, 0);
  EXPECT_FALSE(cc.can_undo());
}

// ---- ECN (RFC 3168 §6.1.2) ----

TEST(Congestion, EcnHalvesNewRenoWithoutInflation) {
  Congestion cc = make(CcAlgo::newreno);
  cc.set_cwnd(40000);
  EXPECT_EQ(cc.on_ecn(40000, 0), 20000u);
  EXPECT_EQ(cc.cwnd(), 20000u);
  EXPECT_EQ(cc.ssthresh(), 20000u);
  EXPECT_FALSE(cc.in_slow_start());
  EXPECT_FALSE(cc.can_undo());
  EXPECT_EQ(cc.on_ecn(1000, 0), 2000u);  // ssthresh floor of 2 MSS, as for a loss
}

TEST(Cubic, EcnMultipliesByBeta) {
  Congestion cc = make(CcAlgo::cubic);
  cc.set_cwnd(100000);
  EXPECT_EQ(cc.on_ecn(60000, 0), 70000u);
  EXPECT_EQ(cc.cwnd(), 70000u);
  EXPECT_EQ(cc.ssthresh(), 70000u);
  EXPECT_EQ(cc.cubic_w_max(), 100000u);
  EXPECT_FALSE(cc.can_undo());
}

// ---- Restart after idle (RFC 5681 §4.1, RFC 9438 §5.8) ----

TEST(Congestion, IdleLongerThanRtoRestartsFromRestartWindow) {
  for (CcAlgo a : {CcAlgo::newreno, CcAlgo::cubic}) {
    Congestion cc = make(a);
    cc.set_cwnd(60000);
    cc.on_loss(60000, 0);
    const uint32_t ssthresh = cc.ssthresh();
    const uint32_t w_max = cc.cubic_w_max();
    cc.on_idle(1001 * kMs, 1 * kS, 5 * kS);
    EXPECT_EQ(cc.cwnd(), cc.initial_window()) << to_string(a);  // RW = min(IW, cwnd)
    EXPECT_EQ(cc.ssthresh(), ssthresh);
    EXPECT_EQ(cc.cubic_w_max(), w_max);
    EXPECT_TRUE(cc.in_slow_start());
  }
}

TEST(Congestion, IdleNotLongerThanRtoKeepsWindow) {
  for (CcAlgo a : {CcAlgo::newreno, CcAlgo::cubic}) {
    Congestion cc = make(a);
    cc.set_cwnd(60000);
    cc.on_loss(60000, 0);
    const uint32_t cwnd = cc.cwnd();
    cc.on_idle(1 * kS, 1 * kS, 5 * kS);
    EXPECT_EQ(cc.cwnd(), cwnd) << to_string(a);
    cc.on_idle(10 * kMs, 1 * kS, 6 * kS);
    EXPECT_EQ(cc.cwnd(), cwnd) << to_string(a);
  }
}

TEST(Cubic, IdleTimeAlreadyExcludedByAppLimitedAcksIsNotExcludedTwice) {
  Congestion a = cubic_after_loss(100000);
  const uint64_t srtt = 100 * kMs;
  uint64_t t = 0;
  for (int r = 0; r < 10; ++r) t = run_rtt(a, t, srtt);
  for (int i = 0; i < 30; ++i) {  // 3 s of application-limited ACKs
    t += srtt;
    a.on_ack(kMss, a.cwnd(), srtt, t, /*app_limited=*/true);
  }
  Congestion b = a;
  // The engine measures idle time from the last transmission: the 3 s were already excluded.
  b.on_idle(3 * kS, 5 * kS, t);
  uint64_t ta = t;
  uint64_t tb = t;
  for (int r = 0; r < 10; ++r) {
    ta = run_rtt(a, ta, srtt);
    tb = run_rtt(b, tb, srtt);
  }
  EXPECT_EQ(b.cwnd(), a.cwnd());
}

}  // namespace
}  // namespace tern::tcp
