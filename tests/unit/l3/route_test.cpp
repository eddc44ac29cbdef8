// RouteTable: longest-prefix match (per-length maps + DIR-16-8-8 index).
#include "tern/l3/route.hpp"

#include <gtest/gtest.h>

#include <random>
#include <vector>

namespace tern::l3 {
namespace {

using wire::Ipv4Addr;
using wire::Ipv4Prefix;

Ipv4Addr ip(uint8_t a, uint8_t b, uint8_t c, uint8_t d) { return Ipv4Addr::from_octets(a, b, c, d); }
Ipv4Prefix pfx(uint8_t a, uint8_t b, uint8_t c, uint8_t d, uint8_t len) {
  return Ipv4Prefix{ip(a, b, c, d), len};
}
Route route(Ipv4Prefix p, Ipv4Addr gw, uint16_t iface = 0) { return Route{p, gw, iface}; }

/** The gateway's last octet of the route chosen for @p dst, or -1 for none. */
int via(const RouteTable& t, Ipv4Addr dst) {
  const Route* r = t.lookup(dst);
  return r == nullptr ? -1 : static_cast<int>(r->gateway.v & 0xff);
}

class RouteTableTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(t_.add(route(pfx(0, 0, 0, 0, 0), ip(198, 18, 0, 100))).ok());
    ASSERT_TRUE(t_.add(route(pfx(198, 18, 0, 0, 15), ip(198, 18, 0, 15))).ok());
    ASSERT_TRUE(t_.add(route(pfx(198, 19, 0, 0, 16), ip(198, 18, 0, 16))).ok());
    ASSERT_TRUE(t_.add(route(pfx(198, 19, 2, 0, 24), ip(198, 18, 0, 24))).ok());
    ASSERT_TRUE(t_.add(route(pfx(198, 19, 2, 3, 32), ip(198, 18, 0, 32))).ok());
  }
  RouteTable t_;
};

TEST_F(RouteTableTest, LongestPrefixWinsAcrossLengths) {
  EXPECT_EQ(t_.size(), 5u);
  EXPECT_EQ(via(t_, ip(198, 19, 2, 3)), 32);
  EXPECT_EQ(via(t_, ip(198, 19, 2, 4)), 24);
  EXPECT_EQ(via(t_, ip(198, 19, 2, 255)), 24);
  EXPECT_EQ(via(t_, ip(198, 19, 3, 3)), 16);
  EXPECT_EQ(via(t_, ip(198, 19, 255, 255)), 16);
  EXPECT_EQ(via(t_, ip(198, 18, 2, 3)), 15);
  EXPECT_EQ(via(t_, ip(198, 18, 255, 255)), 15);
  EXPECT_EQ(via(t_, ip(127, 1, 2, 3)), 100);
  EXPECT_EQ(via(t_, ip(0, 0, 0, 0)), 100);
  EXPECT_EQ(via(t_, ip(255, 255, 255, 255)), 100);
  const Route* r = t_.lookup(ip(198, 19, 2, 9));
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->prefix, pfx(198, 19, 2, 0, 24));
  EXPECT_FALSE(r->connected());
}

TEST_F(RouteTableTest, AddReplacesRouteForSamePrefix) {
  ASSERT_TRUE(t_.add(route(pfx(198, 19, 0, 0, 16), ip(198, 18, 0, 77), 3)).ok());
  EXPECT_EQ(t_.size(), 5u);
  const Route* r = t_.lookup(ip(198, 19, 9, 9));
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->gateway, ip(198, 18, 0, 77));
  EXPECT_EQ(r->iface, 3u);
  // Host bits of the prefix are ignored: this is the same /16 again.
  ASSERT_TRUE(t_.add(route(pfx(198, 19, 77, 77, 16), ip(198, 18, 0, 78))).ok());
  EXPECT_EQ(t_.size(), 5u);
  EXPECT_EQ(via(t_, ip(198, 19, 9, 9)), 78);
  EXPECT_EQ(t_.lookup(ip(198, 19, 9, 9))->prefix, pfx(198, 19, 0, 0, 16));
}

TEST_F(RouteTableTest, RemoveDeletesExactlyThatPrefix) {
  EXPECT_TRUE(t_.remove(pfx(198, 19, 2, 0, 24)));
  EXPECT_EQ(t_.size(), 4u);
  EXPECT_EQ(via(t_, ip(198, 19, 2, 4)), 16);
  EXPECT_EQ(via(t_, ip(198, 19, 2, 3)), 32) << "the /32 inside it stays";
  EXPECT_FALSE(t_.remove(pfx(198, 19, 2, 0, 24))) << "already gone";
  EXPECT_FALSE(t_.remove(pfx(198, 18, 0, 0, 16))) << "never there";
  EXPECT_FALSE(t_.remove(pfx(198, 18, 0, 0, 33)));
  EXPECT_TRUE(t_.remove(pfx(198, 19, 200, 1, 16))) << "host bits ignored";
  EXPECT_EQ(via(t_, ip(198, 19, 2, 4)), 15);
  EXPECT_TRUE(t_.remove(pfx(0, 0, 0, 0, 0)));
  EXPECT_EQ(via(t_, ip(127, 0, 0, 1)), -1);
  size_t n = 0;
  t_.for_each([&](const Route&) { ++n; });
  EXPECT_EQ(n, t_.size());
}

TEST(RouteTable, NoRouteWithoutMatchingPrefix) {
  RouteTable t;
  EXPECT_EQ(t.lookup(ip(198, 18, 0, 1)), nullptr);
  ASSERT_TRUE(t.add(route(pfx(198, 18, 0, 0, 24), Ipv4Addr{})).ok());
  EXPECT_EQ(t.lookup(ip(198, 18, 1, 1)), nullptr);
  const Route* r = t.lookup(ip(198, 18, 0, 200));
  ASSERT_NE(r, nullptr);
  EXPECT_TRUE(r->connected());
}

TEST(RouteTable, RejectsPrefixLengthAbove32) {
  RouteTable t;
  Status s = t.add(route(pfx(198, 18, 0, 0, 33), Ipv4Addr{}));
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, Errc::invalid_argument);
  EXPECT_EQ(t.size(), 0u);
}

// The index against a brute-force model: random prefixes of every length,
// random adds, replacements and removes, lookups at random and at prefix edges.
TEST(RouteTable, IndexAgreesWithBruteForceUnderAddsAndRemoves) {
  std::mt19937 rng(12345);
  RouteTable t;
  struct M {
    uint32_t addr;
    uint8_t len;
    uint32_t tag;
  };
  std::vector<M> model;
  auto mask = [](uint8_t len) { return len == 0 ? 0u : ~0u << (32 - len); };
  auto best = [&](uint32_t dst) -> int64_t {
    int bl = -1;
    int64_t tag = -1;
    for (const M& m : model) {
      if ((dst & mask(m.len)) == m.addr && m.len > bl) {
        bl = m.len;
        tag = m.tag;
      }
    }
    return tag;
  };
  auto check = [&](uint32_t dst) {
    const Route* r = t.lookup(Ipv4Addr{dst});
    int64_t got = r == nullptr ? -1 : int64_t{r->gateway.v};
    ASSERT_EQ(got, best(dst)) << "dst " << Ipv4Addr{dst}.to_string();
  };
  for (int step = 0; step < 600; ++step) {
    uint32_t op = rng() % 10;
    if (op < 7 || model.empty()) {
      // Lengths cluster around the level boundaries (16, 24) and the ends.
      static const uint8_t lens[] = {0, 1, 8, 12, 15, 16, 17, 20, 23, 24, 25, 28, 31, 32};
      uint8_t len = lens[rng() % sizeof(lens)];
      uint32_t base = (rng() % 4 == 0) ? 0xc6120000u : rng();  // overlap often under 198.18.0.0/15
      uint32_t addr = base & mask(len);
      uint32_t tag = 1 + static_cast<uint32_t>(step);
      ASSERT_TRUE(t.add(route(Ipv4Prefix{Ipv4Addr{addr}, len}, Ipv4Addr{tag})).ok());
      std::erase_if(model, [&](const M& m) { return m.addr == addr && m.len == len; });
      model.push_back({addr, len, tag});
    } else {
      size_t k = rng() % model.size();
      ASSERT_TRUE(t.remove(Ipv4Prefix{Ipv4Addr{model[k].addr}, model[k].len}));
      model.erase(model.begin() + static_cast<long>(k));
    }
    ASSERT_EQ(t.size(), model.size());
    for (int q = 0; q < 20; ++q) check(rng() % 3 == 0 ? (0xc6120000u | (rng() & 0x1ffff)) : rng());
    for (const M& m : model) {
      check(m.addr);
      check(m.addr | ~mask(m.len));
    }
  }
  RouteTable copy = t;  // copies point into their own maps
  t = RouteTable{};
  for (const M& m : model) ASSERT_EQ(int64_t{copy.lookup(Ipv4Addr{m.addr})->gateway.v}, best(m.addr));
}

}  // namespace
}  // namespace tern::l3
