#include "tern/tcp/isn.hpp"

#include <gtest/gtest.h>

#include <set>
#include <vector>

namespace tern::tcp {
namespace {

SipKey reference_key() {
  SipKey k{};
  for (size_t i = 0; i < k.size(); ++i) k[i] = static_cast<uint8_t>(i);
  return k;
}

std::vector<uint8_t> counting_message(size_t n) {
  std::vector<uint8_t> m(n);
  for (size_t i = 0; i < n; ++i) m[i] = static_cast<uint8_t>(i);
  return m;
}

constexpr FourTuple kTuple{0xc6120001, 0xc6120002, 80, 40000};
constexpr uint64_t kNsPerSec = 1'000'000'000;

TEST(SipHash24, MatchesPaperVector) {
  // SipHash paper, Appendix A: key 00..0f, message 00..0e.
  EXPECT_EQ(siphash24(reference_key(), counting_message(15)), 0xa129ca6149be45e5ULL);
}

TEST(SipHash24, MatchesReferenceVectorsAtBlockBoundaries) {
  // Reference implementation vectors (key 00..0f, message 00..len-1).
  EXPECT_EQ(siphash24(reference_key(), {}), 0x726fdb47dd0e0e31ULL);
  EXPECT_EQ(siphash24(reference_key(), counting_message(7)), 0xab0200f58b01d137ULL);
  EXPECT_EQ(siphash24(reference_key(), counting_message(8)), 0x93f5f5799a932462ULL);
}

TEST(SipHash24, DependsOnEveryKeyByte) {
  const auto msg = counting_message(12);
  const uint64_t base = siphash24(reference_key(), msg);
  for (size_t i = 0; i < 16; ++i) {
    SipKey k = reference_key();
    k[i] ^= 1;
    EXPECT_NE(siphash24(k, msg), base) << "key byte " << i;
  }
}

TEST(IsnGenerator, AdvancesAt250kPerSecond) {
  const IsnGenerator gen(reference_key());
  const wire::SeqNum a = gen.isn(kTuple, 10 * kNsPerSec);
  EXPECT_EQ(gen.isn(kTuple, 11 * kNsPerSec) - a, 250'000);
  EXPECT_EQ(gen.isn(kTuple, 10 * kNsPerSec + 4000) - a, 1);
  EXPECT_EQ(gen.isn(kTuple, 10 * kNsPerSec + 3999) - a, 0);
  // Same tuple, same time: same ISN.
  EXPECT_EQ(gen.isn(kTuple, 10 * kNsPerSec), a);
}

TEST(IsnGenerator, TimerWrapsModulo2To32) {
  const IsnGenerator gen(reference_key());
  const uint64_t wrap_ns = (uint64_t{1} << 32) * 4000;  // M wraps after 2^32 ticks
  EXPECT_EQ(gen.isn(kTuple, 123), gen.isn(kTuple, 123 + wrap_ns));
}

TEST(IsnGenerator, DiffersByTupleField) {
  const IsnGenerator gen(reference_key());
  const uint64_t now = 5 * kNsPerSec;
  std::set<uint32_t> seen;
  seen.insert(gen.isn(kTuple, now).v);
  FourTuple t = kTuple;
  t.local_ip ^= 1;
  seen.insert(gen.isn(t, now).v);
  t = kTuple;
  t.remote_ip ^= 1;
  seen.insert(gen.isn(t, now).v);
  t = kTuple;
  t.local_port ^= 1;
  seen.insert(gen.isn(t, now).v);
  t = kTuple;
  t.remote_port ^= 1;
  seen.insert(gen.isn(t, now).v);
  // Swapping local and remote is another connection.
  seen.insert(
      gen.isn(FourTuple{kTuple.remote_ip, kTuple.local_ip, kTuple.remote_port, kTuple.local_port}, now).v);
  EXPECT_EQ(seen.size(), 6u);
}

TEST(IsnGenerator, DiffersByKey) {
  SipKey other = reference_key();
  other[15] ^= 0x80;
  const IsnGenerator a(reference_key());
  const IsnGenerator b(other);
  EXPECT_NE(a.isn(kTuple, 0), b.isn(kTuple, 0));
  EXPECT_NE(a.hash(kTuple, 1), b.hash(kTuple, 1));
}

TEST(IsnGenerator, HashIsKeyedPerDomainAndIndependentOfIsn) {
  const IsnGenerator gen(reference_key());
  EXPECT_EQ(gen.hash(kTuple, 1), gen.hash(kTuple, 1));
  EXPECT_NE(gen.hash(kTuple, 1), gen.hash(kTuple, 2));
  // isn() at time 0 is F() alone; hash() must not reveal it.
  EXPECT_NE(gen.hash(kTuple, 0), gen.isn(kTuple, 0).v);
  FourTuple t = kTuple;
  t.remote_port ^= 1;
  EXPECT_NE(gen.hash(t, 1), gen.hash(kTuple, 1));
}

TEST(IsnGenerator, HashesTheTupleInNetworkOrder) {
  const auto b = tuple_bytes(kTuple);
  const std::array<uint8_t, 12> want = {0xc6, 0x12, 0x00, 0x01, 0x00, 80, 0xc6, 0x12, 0x00, 0x02, 0x9c, 0x40};
  EXPECT_EQ(b, want);
  const IsnGenerator gen(reference_key());
  EXPECT_EQ(gen.isn(kTuple, 0).v, static_cast<uint32_t>(siphash24(reference_key(), b)));
}

}  // namespace
}  // namespace tern::tcp
