#include "tern/tcp/rtt.hpp"

#include <gtest/gtest.h>

#include <cstdint>

namespace tern::tcp {
namespace {

constexpr uint64_t kMs = 1'000'000;
constexpr uint64_t kS = 1'000'000'000;

TEST(RttEstimator, StartsAtInitialRtoWithoutSample) {
  RttEstimator r;
  EXPECT_FALSE(r.has_sample());
  EXPECT_EQ(r.srtt_ns(), 0u);
  EXPECT_EQ(r.rttvar_ns(), 0u);
  EXPECT_EQ(r.rto_ns(), 1 * kS);
  EXPECT_EQ(r.base_rto_ns(), 1 * kS);
  EXPECT_EQ(r.backoffs(), 0u);
}

TEST(RttEstimator, FirstSampleSetsSrttAndHalfVariance) {
  RttEstimator r;
  r.sample(100 * kMs);
  EXPECT_TRUE(r.has_sample());
  EXPECT_EQ(r.srtt_ns(), 100 * kMs);
  EXPECT_EQ(r.rttvar_ns(), 50 * kMs);
  EXPECT_EQ(r.rto_ns(), 300 * kMs);  // 100 + max(1, 4*50)
}

TEST(RttEstimator, SubsequentSamplesUseAlphaEighthBetaQuarter) {
  RttEstimator r;
  r.sample(100 * kMs);
  r.sample(200 * kMs);
  // RTTVAR = (3*50 + |100-200|)/4 = 62.5 ms, SRTT = (7*100 + 200)/8 = 112.5 ms.
  EXPECT_EQ(r.rttvar_ns(), 62'500'000u);
  EXPECT_EQ(r.srtt_ns(), 112'500'000u);
  EXPECT_EQ(r.rto_ns(), 362'500'000u);
  r.sample(50 * kMs);
  // RTTVAR = (3*62.5 + 62.5)/4 = 62.5 ms, SRTT = (7*112.5 + 50)/8 = 104.6875 ms.
  EXPECT_EQ(r.rttvar_ns(), 62'500'000u);
  EXPECT_EQ(r.srtt_ns(), 104'687'500u);
  EXPECT_EQ(r.rto_ns(), 354'687'500u);
}

TEST(RttEstimator, IntegerArithmeticRoundsDown) {
  RttEstimator r({.initial_rto_ns = kS, .min_rto_ns = 1, .max_rto_ns = 60 * kS, .granularity_ns = 1});
  r.sample(1001);
  EXPECT_EQ(r.srtt_ns(), 1001u);
  EXPECT_EQ(r.rttvar_ns(), 500u);
  EXPECT_EQ(r.rto_ns(), 3001u);
  r.sample(10);
  EXPECT_EQ(r.rttvar_ns(), 622u);  // (1500 + 991)/4 = 622.75
  EXPECT_EQ(r.srtt_ns(), 877u);    // (7007 + 10)/8 = 877.125
  EXPECT_EQ(r.rto_ns(), 877u + 4 * 622u);
}

TEST(RttEstimator, VarianceUsesSrttBeforeUpdate) {
  RttEstimator r({.initial_rto_ns = kS, .min_rto_ns = 1, .max_rto_ns = 60 * kS, .granularity_ns = 1});
  r.sample(800);
  r.sample(0);  // counts as 1 ns; |SRTT - R| must use SRTT = 800, not the updated one
  EXPECT_EQ(r.rttvar_ns(), (3 * 400u + 799u) / 4);
  EXPECT_EQ(r.srtt_ns(), (7 * 800u + 1u) / 8);
}

TEST(RttEstimator, ZeroSampleCountsAsOneNanosecond) {
  RttEstimator r({.initial_rto_ns = kS, .min_rto_ns = 1, .max_rto_ns = 60 * kS, .granularity_ns = 1});
  r.sample(0);
  EXPECT_TRUE(r.has_sample());
  EXPECT_EQ(r.srtt_ns(), 1u);
  EXPECT_EQ(r.rttvar_ns(), 0u);
  EXPECT_EQ(r.rto_ns(), 2u);  // 1 + max(G = 1, 0)
}

TEST(RttEstimator, GranularityIsTheFloorOfTheVarianceTerm) {
  RttEstimator r({.initial_rto_ns = kS, .min_rto_ns = 1, .max_rto_ns = 60 * kS, .granularity_ns = 10 * kMs});
  for (int i = 0; i < 40; ++i) r.sample(100 * kMs);
  EXPECT_EQ(r.srtt_ns(), 100 * kMs);
  EXPECT_LT(4 * r.rttvar_ns(), 10 * kMs);
  EXPECT_EQ(r.rto_ns(), 110 * kMs);  // SRTT + G
}

TEST(RttEstimator, RtoClampedToMinimum) {
  RttEstimator r;
  r.sample(1 * kMs);  // 1 + max(1, 2) = 3 ms
  EXPECT_EQ(r.rto_ns(), 200 * kMs);
  EXPECT_EQ(r.base_rto_ns(), 200 * kMs);
}

TEST(RttEstimator, StrictRfcMinimumOfOneSecond) {
  RttEstimator r({.min_rto_ns = 1 * kS});
  r.sample(100 * kMs);
  EXPECT_EQ(r.rto_ns(), 1 * kS);
}

TEST(RttEstimator, RtoClampedToMaximum) {
  RttEstimator r;
  r.sample(100 * kS);  // 100 + 200 = 300 s
  EXPECT_EQ(r.rto_ns(), 120 * kS);
}

TEST(RttEstimator, HugeSamplesDoNotOverflow) {
  RttEstimator r;
  r.sample(UINT64_MAX);
  EXPECT_EQ(r.srtt_ns(), RttEstimator::kMaxSampleNs);
  r.sample(UINT64_MAX);
  r.sample(0);
  EXPECT_EQ(r.rto_ns(), 120 * kS);
}

TEST(RttEstimator, HugeGranularitySaturates) {
  RttEstimator r({.granularity_ns = UINT64_MAX});
  r.sample(10 * kMs);
  EXPECT_EQ(r.rto_ns(), 120 * kS);
}

TEST(RttEstimator, BackoffDoublesTheRto) {
  RttEstimator r;
  r.sample(100 * kMs);  // 300 ms
  r.backoff();
  EXPECT_EQ(r.rto_ns(), 600 * kMs);
  r.backoff();
  EXPECT_EQ(r.rto_ns(), 1200 * kMs);
  EXPECT_EQ(r.backoffs(), 2u);
  EXPECT_EQ(r.base_rto_ns(), 300 * kMs);
}

TEST(RttEstimator, BackoffSaturatesAtMaximum) {
  RttEstimator r;  // 1 s initial
  for (int i = 0; i < 6; ++i) r.backoff();
  EXPECT_EQ(r.rto_ns(), 64 * kS);
  r.backoff();
  EXPECT_EQ(r.rto_ns(), 120 * kS);
  for (int i = 0; i < 200; ++i) r.backoff();
  EXPECT_EQ(r.rto_ns(), 120 * kS);
  EXPECT_EQ(r.backoffs(), 207u);
}

TEST(RttEstimator, ResetBackoffCollapsesToBase) {
  RttEstimator r;
  r.sample(100 * kMs);
  r.backoff();
  r.backoff();
  r.reset_backoff();
  EXPECT_EQ(r.backoffs(), 0u);
  EXPECT_EQ(r.rto_ns(), 300 * kMs);
}

TEST(RttEstimator, SampleKeepsBackoffUntilEngineResetsIt) {
  RttEstimator r;
  r.sample(100 * kMs);
  r.backoff();
  r.sample(100 * kMs);  // RTTVAR = 37.5 ms -> base 250 ms
  EXPECT_EQ(r.base_rto_ns(), 250 * kMs);
  EXPECT_EQ(r.rto_ns(), 500 * kMs);
  r.reset_backoff();
  EXPECT_EQ(r.rto_ns(), 250 * kMs);
}

TEST(RttEstimator, ResetForgetsSamplesAndBackoff) {
  RttEstimator r;
  r.sample(100 * kMs);
  r.backoff();
  r.reset();
  EXPECT_FALSE(r.has_sample());
  EXPECT_EQ(r.srtt_ns(), 0u);
  EXPECT_EQ(r.backoffs(), 0u);
  EXPECT_EQ(r.rto_ns(), 1 * kS);
  r.sample(40 * kMs);  // a first sample again
  EXPECT_EQ(r.srtt_ns(), 40 * kMs);
  EXPECT_EQ(r.rttvar_ns(), 20 * kMs);
}

TEST(RttEstimator, ResetToThreeSecondsAfterSynTimeout) {
  RttEstimator r;
  r.backoff();
  r.reset_to(3 * kS);
  EXPECT_FALSE(r.has_sample());
  EXPECT_EQ(r.backoffs(), 0u);
  EXPECT_EQ(r.rto_ns(), 3 * kS);
  r.reset_to(1000 * kS);
  EXPECT_EQ(r.rto_ns(), 120 * kS);
  r.reset_to(0);
  EXPECT_EQ(r.rto_ns(), 200 * kMs);
}

TEST(RttEstimator, SetParamsRecomputesAndSanitises) {
  RttEstimator r;
  r.set_params({.initial_rto_ns = 2 * kS});
  EXPECT_EQ(r.rto_ns(), 2 * kS);
  r.sample(100 * kMs);
  r.set_params({.min_rto_ns = 500 * kMs});
  EXPECT_EQ(r.rto_ns(), 500 * kMs);
  r.set_params({.min_rto_ns = 0, .max_rto_ns = 0});
  EXPECT_EQ(r.params().min_rto_ns, 1u);
  EXPECT_EQ(r.params().max_rto_ns, 1u);
  EXPECT_EQ(r.rto_ns(), 1u);
  r.set_params({.min_rto_ns = 5 * kS, .max_rto_ns = 1 * kS});
  EXPECT_EQ(r.params().max_rto_ns, 5 * kS);
  EXPECT_EQ(r.rto_ns(), 5 * kS);
}

}  // namespace
}  // namespace tern::tcp
