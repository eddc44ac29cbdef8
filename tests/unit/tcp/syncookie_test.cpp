#include "tern/tcp/syncookie.hpp"

#include <gtest/gtest.h>

namespace tern::tcp {
namespace {

using wire::SeqNum;

SipKey test_key() {
  SipKey k{};
  for (size_t i = 0; i < k.size(); ++i) k[i] = static_cast<uint8_t>(0xa0 + i);
  return k;
}

constexpr FourTuple kTuple{0xc6120001, 0xc6120002, 443, 51000};
constexpr SeqNum kPeerIsn{0x12345678};
constexpr uint64_t kP = SynCookies::kPeriodNs;
constexpr uint64_t kNow = 1000 * kP + kP / 2;

TEST(SynCookies, RoundTripsEveryMssTableEntry) {
  const SynCookies sc(test_key());
  for (uint16_t mss : SynCookies::kMssTable) {
    const SeqNum c = sc.make(kTuple, kPeerIsn, mss, kNow);
    EXPECT_EQ(sc.check(kTuple, kPeerIsn, c, kNow), mss) << "mss " << mss;
  }
}

TEST(SynCookies, MssRoundsDownToTableEntry) {
  const SynCookies sc(test_key());
  auto roundtrip = [&](uint16_t mss) {
    return sc.check(kTuple, kPeerIsn, sc.make(kTuple, kPeerIsn, mss, kNow), kNow);
  };
  EXPECT_EQ(roundtrip(1459), 1452);
  EXPECT_EQ(roundtrip(1400), 1300);
  EXPECT_EQ(roundtrip(65535), 8960);
  EXPECT_EQ(roundtrip(9000), 8960);
  EXPECT_EQ(roundtrip(535), 536);  // below the table: the smallest entry
  EXPECT_EQ(roundtrip(0), 536);
}

TEST(SynCookies, LayoutCarriesCounterAndMssIndex) {
  const SynCookies sc(test_key());
  const uint32_t c = sc.make(kTuple, kPeerIsn, 1460, kNow).v;
  EXPECT_EQ(c >> 27, 1000u % 32);
  EXPECT_EQ((c >> 24) & 7, 5u);  // kMssTable[5] == 1460
}

TEST(SynCookies, WrongTupleFails) {
  const SynCookies sc(test_key());
  const SeqNum c = sc.make(kTuple, kPeerIsn, 1460, kNow);
  FourTuple t = kTuple;
  t.remote_port ^= 1;
  EXPECT_FALSE(sc.check(t, kPeerIsn, c, kNow).has_value());
  t = kTuple;
  t.remote_ip ^= 0x100;
  EXPECT_FALSE(sc.check(t, kPeerIsn, c, kNow).has_value());
  t = kTuple;
  t.local_port ^= 1;
  EXPECT_FALSE(sc.check(t, kPeerIsn, c, kNow).has_value());
  t = kTuple;
  t.local_ip ^= 1;
  EXPECT_FALSE(sc.check(t, kPeerIsn, c, kNow).has_value());
}

TEST(SynCookies, WrongPeerIsnFails) {
  const SynCookies sc(test_key());
  const SeqNum c = sc.make(kTuple, kPeerIsn, 1460, kNow);
  EXPECT_FALSE(sc.check(kTuple, kPeerIsn + 1, c, kNow).has_value());
}

TEST(SynCookies, WrongAckFails) {
  const SynCookies sc(test_key());
  const SeqNum c = sc.make(kTuple, kPeerIsn, 1460, kNow);
  EXPECT_FALSE(sc.check(kTuple, kPeerIsn, c + 1, kNow).has_value());
  // Editing the MSS index, or relabelling the cookie as the previous period, breaks the MAC.
  EXPECT_FALSE(sc.check(kTuple, kPeerIsn, SeqNum{c.v ^ (1u << 24)}, kNow).has_value());
  const uint32_t prev = (c.v & ~(0x1fu << 27)) | (((1000u - 1) % 32) << 27);
  EXPECT_FALSE(sc.check(kTuple, kPeerIsn, SeqNum{prev}, kNow).has_value());
  // Flipping any MAC bit fails.
  for (uint32_t bit = 0; bit < 24; ++bit) {
    EXPECT_FALSE(sc.check(kTuple, kPeerIsn, SeqNum{c.v ^ (1u << bit)}, kNow).has_value()) << bit;
  }
}

TEST(SynCookies, WrongSecretFails) {
  const SynCookies sc(test_key());
  SipKey other = test_key();
  other[0] ^= 1;
  const SynCookies sc2(other);
  const SeqNum c = sc.make(kTuple, kPeerIsn, 1460, kNow);
  EXPECT_FALSE(sc2.check(kTuple, kPeerIsn, c, kNow).has_value());
}

TEST(SynCookies, PreviousPeriodAccepted) {
  const SynCookies sc(test_key());
  const uint64_t made = 1000 * kP;  // start of period 1000
  const SeqNum c = sc.make(kTuple, kPeerIsn, 1300, made);
  EXPECT_EQ(sc.check(kTuple, kPeerIsn, c, made + kP - 1), 1300);
  EXPECT_EQ(sc.check(kTuple, kPeerIsn, c, made + kP), 1300);
  EXPECT_EQ(sc.check(kTuple, kPeerIsn, c, made + 2 * kP - 1), 1300);
}

TEST(SynCookies, ExpiredAfterTwoPeriodsFails) {
  const SynCookies sc(test_key());
  const SeqNum c = sc.make(kTuple, kPeerIsn, 1300, kNow);
  EXPECT_FALSE(sc.check(kTuple, kPeerIsn, c, kNow + 2 * kP).has_value());
  EXPECT_FALSE(sc.check(kTuple, kPeerIsn, c, kNow + 3 * kP).has_value());
  // Nor when the 5-bit counter comes round again (32 periods later).
  EXPECT_FALSE(sc.check(kTuple, kPeerIsn, c, kNow + 32 * kP).has_value());
  // And not from the future.
  EXPECT_FALSE(sc.check(kTuple, kPeerIsn, c, kNow - kP).has_value());
}

TEST(SynCookies, WorksInTheFirstPeriod) {
  const SynCookies sc(test_key());
  const SeqNum c = sc.make(kTuple, kPeerIsn, 536, 0);
  EXPECT_EQ(sc.check(kTuple, kPeerIsn, c, 0), 536);
  EXPECT_EQ(sc.check(kTuple, kPeerIsn, c, kP), 536);
}

TEST(SynCookies, TimestampOptionsRoundTrip) {
  for (bool sack : {false, true}) {
    for (int ws = -1; ws <= 14; ++ws) {
      SynCookieOptions o;
      o.sack_permitted = sack;
      if (ws >= 0) o.wscale = static_cast<uint8_t>(ws);
      const uint32_t ts = SynCookies::encode_ts(0x12345678, o);
      const auto d = SynCookies::decode_ts(ts);
      ASSERT_TRUE(d.has_value());
      EXPECT_EQ(d->sack_permitted, sack);
      EXPECT_EQ(d->wscale, o.wscale);
      EXPECT_TRUE(d->timestamps);
      EXPECT_EQ(d->mss, SynCookieOptions{}.mss);
    }
  }
}

TEST(SynCookies, TimestampWithoutWscaleDecodesAsNone) {
  SynCookieOptions o;
  o.sack_permitted = true;
  const uint32_t ts = SynCookies::encode_ts(0x1000, o);
  EXPECT_EQ(ts & 0x3f, 0x3fu);  // marker, SACK, 0xf
  const auto d = SynCookies::decode_ts(ts);
  ASSERT_TRUE(d.has_value());
  EXPECT_FALSE(d->wscale.has_value());
  EXPECT_TRUE(d->sack_permitted);
}

TEST(SynCookies, TimestampWscaleAbove14IsSentAs14) {
  SynCookieOptions o;
  o.wscale = 15;
  const auto d = SynCookies::decode_ts(SynCookies::encode_ts(0x1000, o));
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->wscale, 14);
}

TEST(SynCookies, TimestampNeverAheadOfClock) {
  SynCookieOptions o;
  o.wscale = 7;
  o.sack_permitted = true;
  for (uint32_t now : {0x1000u, 0x1001u, 0x103fu, 0x1037u, 0x1038u, 0u, 5u}) {
    const uint32_t ts = SynCookies::encode_ts(now, o);
    EXPECT_LE(static_cast<int32_t>(ts - now), 0) << now;
    EXPECT_GT(static_cast<int32_t>(ts - now), -64) << now;
    EXPECT_EQ(ts & 0x3f, 0x20u | 0x10u | 7u);
  }
}

TEST(SynCookies, TimestampWithoutMarkerIsNotACookie) {
  EXPECT_FALSE(SynCookies::decode_ts(0).has_value());
  EXPECT_FALSE(SynCookies::decode_ts(0xffffffdfu).has_value());  // every bit but the marker
  EXPECT_TRUE(SynCookies::decode_ts(0x20).has_value());
}

}  // namespace
}  // namespace tern::tcp
