#include "tern/wire/toeplitz.hpp"

#include <gtest/gtest.h>

namespace tern::wire {
namespace {

struct RssVector {
  Ipv4Addr src;
  uint16_t sport;
  Ipv4Addr dst;
  uint16_t dport;
  uint32_t ipv4;
  uint32_t ipv4_l4;
};

// Microsoft "Verifying the RSS Hash Calculation", IPv4 table (also Intel 82599 datasheet §7.1.2.8.3).
const RssVector kVectors[] = {
    {Ipv4Addr::from_octets(66, 9, 149, 187), 2794, Ipv4Addr::from_octets(161, 142, 100, 80), 1766, 0x323e8fc2,
     0x51ccc178},
    {Ipv4Addr::from_octets(199, 92, 111, 2), 14230, Ipv4Addr::from_octets(65, 69, 140, 83), 4739, 0xd718262a,
     0xc626b0ea},
    {Ipv4Addr::from_octets(24, 19, 198, 95), 12898, Ipv4Addr::from_octets(12, 22, 207, 184), 38024,
     0xd2d0a5de, 0x5c2b394a},
    {Ipv4Addr::from_octets(38, 27, 205, 30), 48228, Ipv4Addr::from_octets(209, 142, 163, 6), 2217, 0x82989176,
     0xafc7327f},
    {Ipv4Addr::from_octets(153, 39, 163, 191), 44251, Ipv4Addr::from_octets(202, 188, 127, 2), 1303,
     0x5d1809c5, 0x10e828a2},
};

TEST(Toeplitz, MatchesMicrosoftVerificationVectors) {
  for (const auto& t : kVectors) {
    SCOPED_TRACE(t.src.to_string());
    EXPECT_EQ(toeplitz_ipv4(kMicrosoftRssKey, t.src, t.dst), t.ipv4);
    EXPECT_EQ(toeplitz_ipv4_l4(kMicrosoftRssKey, t.src, t.dst, t.sport, t.dport), t.ipv4_l4);
  }
}

TEST(Toeplitz, HashesRawInputLikeTheTupleHelpers) {
  const auto& t = kVectors[0];
  const uint8_t input[12] = {66,  9,  149,       187,         161,       142,
                             100, 80, 2794 >> 8, 2794 & 0xff, 1766 >> 8, 1766 & 0xff};
  EXPECT_EQ(toeplitz_hash(kMicrosoftRssKey, input), t.ipv4_l4);
  EXPECT_EQ(toeplitz_hash(kMicrosoftRssKey, std::span<const uint8_t>(input).first(8)), t.ipv4);
  EXPECT_EQ(toeplitz_hash(kMicrosoftRssKey, {}), 0u);
}

TEST(Toeplitz, MicrosoftKeyIsTheVerificationKey) {
  EXPECT_EQ(kMicrosoftRssKey[0], 0x6d);
  EXPECT_EQ(kMicrosoftRssKey[7], 0xc2);
  EXPECT_EQ(kMicrosoftRssKey[39], 0xfa);
}

TEST(Toeplitz, SymmetricKeyHashesBothDirectionsEqual) {
  for (const auto& t : kVectors) {
    EXPECT_EQ(toeplitz_ipv4_l4(kSymmetricRssKey, t.src, t.dst, t.sport, t.dport),
              toeplitz_ipv4_l4(kSymmetricRssKey, t.dst, t.src, t.dport, t.sport));
    EXPECT_EQ(toeplitz_ipv4(kSymmetricRssKey, t.src, t.dst), toeplitz_ipv4(kSymmetricRssKey, t.dst, t.src));
  }
  uint32_t x = 0x12345678;  // xorshift32: deterministic pseudo-random tuples
  for (int i = 0; i < 1000; ++i) {
    auto next = [&x] {
      x ^= x << 13;
      x ^= x >> 17;
      x ^= x << 5;
      return x;
    };
    const Ipv4Addr a{next()}, b{next()};
    const uint32_t ports = next();
    const auto pa = static_cast<uint16_t>(ports), pb = static_cast<uint16_t>(ports >> 16);
    ASSERT_EQ(toeplitz_ipv4_l4(kSymmetricRssKey, a, b, pa, pb),
              toeplitz_ipv4_l4(kSymmetricRssKey, b, a, pb, pa));
  }
}

TEST(Toeplitz, MicrosoftKeyIsNotSymmetric) {
  const auto& t = kVectors[0];
  EXPECT_NE(toeplitz_ipv4_l4(kMicrosoftRssKey, t.src, t.dst, t.sport, t.dport),
            toeplitz_ipv4_l4(kMicrosoftRssKey, t.dst, t.src, t.dport, t.sport));
}

}  // namespace
}  // namespace tern::wire
