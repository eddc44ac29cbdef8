// SipHash's two-word form, SecretRandom, and the three rate limiters, on a fake clock.
#include "tern/base/rate_limit.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <set>
#include <vector>

#include "tern/base/siphash.hpp"

namespace tern {
namespace {

constexpr uint64_t kMs = 1'000'000;
constexpr uint64_t kSec = 1'000'000'000;

SipKey key_of(uint8_t seed) {
  SipKey k{};
  for (size_t i = 0; i < k.size(); ++i) k[i] = static_cast<uint8_t>(seed + i);
  return k;
}

TEST(SipHash, PaperVectorForFifteenBytes) {
  // SipHash paper, Appendix A: key 00..0f, message 00..0e -> a129ca6149be45e5.
  std::array<uint8_t, 15> msg{};
  for (size_t i = 0; i < msg.size(); ++i) msg[i] = static_cast<uint8_t>(i);
  EXPECT_EQ(siphash24(key_of(0), msg), 0xa129ca6149be45e5ull);
}

TEST(SipHash, TwoWordFormEqualsTheByteForm) {
  const SipKey k = key_of(3);
  for (uint64_t a : {0ull, 1ull, 0x0123456789abcdefull, ~0ull}) {
    for (uint64_t b : {0ull, 99ull, 0xfedcba9876543210ull}) {
      std::array<uint8_t, 16> bytes{};
      for (int i = 0; i < 8; ++i) {
        bytes[i] = static_cast<uint8_t>(a >> (8 * i));
        bytes[8 + i] = static_cast<uint8_t>(b >> (8 * i));
      }
      EXPECT_EQ(siphash24(k, a, b), siphash24(k, bytes)) << a << " " << b;
    }
  }
}

TEST(SipHash, OneThreeIsItsOwnFunctionOfKeyAndMessage) {
  // SipHash-1-3 has no published vector for this message form; check what a keyed PRF must do.
  const SipKey k = key_of(3), k2 = key_of(4);
  EXPECT_NE(siphash13(k, 1, 2), siphash24(k, 1, 2));
  EXPECT_NE(siphash13(k, 1, 2), siphash13(k2, 1, 2));
  EXPECT_NE(siphash13(k, 1, 2), siphash13(k, 2, 1));
  EXPECT_EQ(siphash13(k, 1, 2), siphash13(k, 1, 2));
  std::set<uint64_t> low12;
  for (uint64_t i = 0; i < 4096; ++i) low12.insert(siphash13(k, i, 17) & 4095);
  EXPECT_GT(low12.size(), 2400u) << "4,096 inputs into 4,096 buckets fill about 63% of them";
}

TEST(SecretRandom, DrawsDependOnTheKeyAndStayInRange) {
  SecretRandom a(key_of(1)), a2(key_of(1)), b(key_of(2));
  std::vector<uint64_t> xa, xb;
  for (int i = 0; i < 8; ++i) {
    uint64_t v = a.next();
    EXPECT_EQ(v, a2.next()) << "same key, same stream";
    xa.push_back(v);
    xb.push_back(b.next());
  }
  EXPECT_NE(xa, xb);
  EXPECT_EQ(std::set<uint64_t>(xa.begin(), xa.end()).size(), xa.size());
  std::array<int, 10> hist{};
  for (int i = 0; i < 10000; ++i) {
    uint64_t v = a.below(10);
    ASSERT_LT(v, 10u);
    ++hist[v];
  }
  for (int h : hist) EXPECT_NEAR(h, 1000, 150);
  EXPECT_EQ(a.below(0), 0u);
}

TEST(TokenBucket, BurstThenRate) {
  TokenBucket tb(10, 3);  // 10/s, burst 3
  uint64_t t = 5 * kSec;
  int ok = 0;
  for (int i = 0; i < 10; ++i) ok += tb.take(t);
  EXPECT_EQ(ok, 3);
  EXPECT_FALSE(tb.take(t + 99 * kMs));
  EXPECT_TRUE(tb.take(t + 100 * kMs));
  EXPECT_FALSE(tb.take(t + 100 * kMs));
  // A long pause refills only up to the burst.
  ok = 0;
  for (int i = 0; i < 10; ++i) ok += tb.take(t + 60 * kSec);
  EXPECT_EQ(ok, 3);
}

TEST(TokenBucket, ZeroRateIsUnlimitedAndTimeZeroWorks) {
  TokenBucket off(0, 1);
  for (int i = 0; i < 1000; ++i) EXPECT_TRUE(off.take(0));
  TokenBucket tb(1, 2);
  EXPECT_TRUE(tb.take(0));
  EXPECT_TRUE(tb.take(0));
  EXPECT_FALSE(tb.take(0));
  EXPECT_TRUE(tb.take(kSec));
}

/** Events granted per second over @p seconds when asked @p per_ms times every millisecond. */
std::vector<uint64_t> granted_per_second(RandomBudget& b, int seconds, int per_ms) {
  std::vector<uint64_t> out;
  uint64_t t = 0;
  for (int s = 0; s < seconds; ++s) {
    uint64_t n = 0;
    for (int ms = 0; ms < 1000; ++ms, t += kMs) {
      for (int i = 0; i < per_ms; ++i) n += b.take(t);
    }
    out.push_back(n);
  }
  return out;
}

TEST(RandomBudget, KeepsTheMeanRate) {
  SecretRandom rng(key_of(9));
  RandomBudget b(1000, rng);
  auto per_s = granted_per_second(b, 200, 5);
  uint64_t total = 0;
  for (uint64_t n : per_s) total += n;
  EXPECT_NEAR(static_cast<double>(total) / 200, 1000.0, 60.0);
}

TEST(RandomBudget, WindowsDifferInLengthAndSize) {
  // What an attacker exhausting the budget sees: how many it got before the budget ran out, and
  // when it was refilled. Both vary from window to window.
  SecretRandom rng(key_of(4));
  RandomBudget b(100, rng);
  std::vector<uint64_t> sizes, lengths;
  uint64_t t = 0, opened = 0, got = 0;
  bool was_empty = false;
  for (; t < 200 * kSec; t += kMs) {
    bool ok = b.take(t);
    if (ok && was_empty) {  // a new window opened
      sizes.push_back(got);
      lengths.push_back(t - opened);
      opened = t;
      got = 0;
    }
    got += ok;
    was_empty = !ok;
  }
  ASSERT_GT(sizes.size(), 100u);
  auto [smin, smax] = std::minmax_element(sizes.begin() + 1, sizes.end());
  auto [lmin, lmax] = std::minmax_element(lengths.begin() + 1, lengths.end());
  EXPECT_GE(*smin, 25u);  // [mean/2, 3 mean/2] of a mean in [50, 150]
  EXPECT_LE(*smax, 225u);
  EXPECT_GT(*smax - *smin, 100u);
  EXPECT_GE(*lmin, 500 * kMs);
  EXPECT_LE(*lmax, 1500 * kMs);
  EXPECT_GT(*lmax - *lmin, 500 * kMs);
}

TEST(RandomBudget, ZeroRateAllowsNothing) {
  SecretRandom rng(key_of(5));
  RandomBudget b(0, rng);
  for (uint64_t t = 0; t < 5 * kSec; t += 100 * kMs) EXPECT_FALSE(b.take(t));
}

TEST(KeyedLimiter, EachKeySpendsOnlyItsOwnAllowance) {
  KeyedLimiter l(256, 10, 2, key_of(7));
  const uint64_t t = 3 * kSec;
  EXPECT_TRUE(l.take(1, t));
  EXPECT_TRUE(l.take(1, t));
  for (int i = 0; i < 100; ++i) EXPECT_FALSE(l.take(1, t));
  for (uint32_t k = 2; k < 50; ++k) {
    EXPECT_TRUE(l.take(k, t)) << "key " << k << " is not limited by key 1";
  }
  EXPECT_TRUE(l.take(1, t + 100 * kMs)) << "key 1 refills at its rate";
}

TEST(KeyedLimiter, ACollisionNeverTakesAllowanceAway) {
  // One slot: every key collides. A key that finds another in its slot starts with a full bucket.
  KeyedLimiter l(1, 1, 1, key_of(8));
  EXPECT_TRUE(l.take(1, kSec));
  EXPECT_FALSE(l.take(1, kSec));
  EXPECT_TRUE(l.take(2, kSec));
  EXPECT_TRUE(l.take(1, kSec));
}

}  // namespace
}  // namespace tern
