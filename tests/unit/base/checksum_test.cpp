#include "tern/base/checksum.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace tern {
namespace {

// RFC 1071 §3 example: the words 0001 f203 f4f5 f6f7 sum to ddf2.
TEST(Checksum, MatchesRfc1071Example) {
  const uint8_t data[] = {0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7};
  ChecksumAccumulator acc;
  acc.add(data, sizeof(data));
  EXPECT_EQ(acc.sum16(), 0xddf2);
  EXPECT_EQ(acc.finish(), static_cast<uint16_t>(~0xddf2));
}

// A real IPv4 header (captured): checksum field b861 (RFC 791 example header).
TEST(Checksum, ComputesIpv4HeaderChecksum) {
  std::vector<uint8_t> h = {0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11,
                            0x00, 0x00, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7};
  EXPECT_EQ(internet_checksum(h), 0xb861);
  h[10] = 0xb8;
  h[11] = 0x61;
  EXPECT_TRUE(checksum_valid(h));
  h[15] ^= 1;
  EXPECT_FALSE(checksum_valid(h));
}

// The unrolled 20-byte check agrees with the general one on the RFC 791 header, on every
// single-bit corruption of it, and on random blocks fixed up to be valid (carries included).
TEST(Checksum, TwentyByteCheckAgreesWithGeneralCheck) {
  std::vector<uint8_t> h = {0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11,
                            0xad, 0x8d, 0xc6, 0x12, 0x00, 0x01, 0xc6, 0x12, 0x00, 0xc7};
  EXPECT_TRUE(checksum_valid20(h.data()));
  for (size_t bit = 0; bit < 160; ++bit) {
    h[bit / 8] ^= static_cast<uint8_t>(1u << (bit % 8));
    EXPECT_EQ(checksum_valid20(h.data()), checksum_valid(h)) << "bit " << bit;
    EXPECT_FALSE(checksum_valid20(h.data())) << "bit " << bit;
    h[bit / 8] ^= static_cast<uint8_t>(1u << (bit % 8));
  }
  uint32_t x = 12345;
  for (int round = 0; round < 1000; ++round) {
    std::vector<uint8_t> b(20);
    for (auto& v : b) v = static_cast<uint8_t>((x = x * 1103515245u + 12345u) >> 16);
    if (round % 2 == 0) std::fill(b.begin(), b.begin() + 10, 0xff);  // force carries
    b[10] = b[11] = 0;
    uint16_t c = internet_checksum(b);
    b[10] = static_cast<uint8_t>(c >> 8);
    b[11] = static_cast<uint8_t>(c);
    ASSERT_TRUE(checksum_valid20(b.data())) << "round " << round;
    b[round % 20] ^= 0x10;
    ASSERT_EQ(checksum_valid20(b.data()), checksum_valid(b)) << "round " << round;
  }
}

TEST(Checksum, OddLengthPadsWithZero) {
  const uint8_t data[] = {0x12, 0x34, 0x56};
  ChecksumAccumulator acc;
  acc.add(data, 3);
  EXPECT_EQ(acc.sum16(), 0x1234 + 0x5600);
}

TEST(Checksum, PiecesOfAnyLengthEqualWhole) {
  std::vector<uint8_t> data(1001);
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<uint8_t>(i * 7 + 3);
  uint16_t whole = internet_checksum(data);
  for (size_t cut1 = 0; cut1 < 40; ++cut1) {
    for (size_t cut2 = cut1; cut2 < cut1 + 37; cut2 += 5) {
      ChecksumAccumulator acc;
      acc.add(data.data(), cut1);
      acc.add(data.data() + cut1, cut2 - cut1);
      acc.add(data.data() + cut2, data.size() - cut2);
      ASSERT_EQ(acc.finish(), whole) << cut1 << " " << cut2;
    }
  }
}

TEST(Checksum, HostWordsMatchBytes) {
  const uint8_t data[] = {0xc6, 0x12, 0x00, 0x01, 0x00, 0x11};
  ChecksumAccumulator a;
  a.add(data, sizeof(data));
  ChecksumAccumulator b;
  b.add_u32(0xc6120001);
  b.add_u16(0x0011);
  EXPECT_EQ(a.sum16(), b.sum16());
}

// RFC 1624 §4: incremental update gives the same result as recomputing.
TEST(Checksum, IncrementalUpdateMatchesRecompute) {
  std::vector<uint8_t> h = {0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11,
                            0xad, 0x8d, 0xc6, 0x12, 0x00, 0x01, 0xc6, 0x12, 0x00, 0xc7};
  for (int ttl = 64; ttl > 0; --ttl) {
    uint16_t old_word = static_cast<uint16_t>((h[8] << 8) | h[9]);
    h[8] = static_cast<uint8_t>(ttl - 1);
    uint16_t new_word = static_cast<uint16_t>((h[8] << 8) | h[9]);
    uint16_t old_csum = static_cast<uint16_t>((h[10] << 8) | h[11]);
    uint16_t upd = checksum_update16(old_csum, old_word, new_word);
    h[10] = h[11] = 0;
    uint16_t full = internet_checksum(h);
    ASSERT_EQ(upd, full) << "ttl " << ttl;
    h[10] = static_cast<uint8_t>(full >> 8);
    h[11] = static_cast<uint8_t>(full);
  }
}

TEST(Checksum, IncrementalUpdate32MatchesRecompute) {
  std::vector<uint8_t> h = {0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11,
                            0xad, 0x8d, 0xc6, 0x12, 0x00, 0x01, 0xc6, 0x12, 0x00, 0xc7};
  uint16_t upd = checksum_update32(0xad8d, 0xc6120001, 0xc6130005);
  h[12] = 0xc6;  // the source becomes 198.19.0.5
  h[13] = 0x13;
  h[14] = 0x00;
  h[15] = 0x05;
  h[10] = h[11] = 0;
  EXPECT_EQ(upd, internet_checksum(h));
}

}  // namespace
}  // namespace tern
