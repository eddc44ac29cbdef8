// RouteTable: longest-prefix match over per-length maps.
#include "tern/l3/route.hpp"

#include <gtest/gtest.h>

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
    ASSERT_TRUE(t_.add(route(pfx(0, 0, 0, 0, 0), ip(192, 168, 0, 100))).ok());
    ASSERT_TRUE(t_.add(route(pfx(10, 0, 0, 0, 8), ip(192, 168, 0, 8))).ok());
    ASSERT_TRUE(t_.add(route(pfx(10, 1, 0, 0, 16), ip(192, 168, 0, 16))).ok());
    ASSERT_TRUE(t_.add(route(pfx(10, 1, 2, 0, 24), ip(192, 168, 0, 24))).ok());
    ASSERT_TRUE(t_.add(route(pfx(10, 1, 2, 3, 32), ip(192, 168, 0, 32))).ok());
  }
  RouteTable t_;
};

TEST_F(RouteTableTest, LongestPrefixWinsAcrossLengths) {
  EXPECT_EQ(t_.size(), 5u);
  EXPECT_EQ(via(t_, ip(10, 1, 2, 3)), 32);
  EXPECT_EQ(via(t_, ip(10, 1, 2, 4)), 24);
  EXPECT_EQ(via(t_, ip(10, 1, 2, 255)), 24);
  EXPECT_EQ(via(t_, ip(10, 1, 3, 3)), 16);
  EXPECT_EQ(via(t_, ip(10, 1, 255, 255)), 16);
  EXPECT_EQ(via(t_, ip(10, 2, 2, 3)), 8);
  EXPECT_EQ(via(t_, ip(10, 255, 255, 255)), 8);
  EXPECT_EQ(via(t_, ip(11, 1, 2, 3)), 100);
  EXPECT_EQ(via(t_, ip(0, 0, 0, 0)), 100);
  EXPECT_EQ(via(t_, ip(255, 255, 255, 255)), 100);
  const Route* r = t_.lookup(ip(10, 1, 2, 9));
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->prefix, pfx(10, 1, 2, 0, 24));
  EXPECT_FALSE(r->connected());
}

TEST_F(RouteTableTest, AddReplacesRouteForSamePrefix) {
  ASSERT_TRUE(t_.add(route(pfx(10, 1, 0, 0, 16), ip(192, 168, 0, 77), 3)).ok());
  EXPECT_EQ(t_.size(), 5u);
  const Route* r = t_.lookup(ip(10, 1, 9, 9));
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->gateway, ip(192, 168, 0, 77));
  EXPECT_EQ(r->iface, 3u);
  // Host bits of the prefix are ignored: this is the same /16 again.
  ASSERT_TRUE(t_.add(route(pfx(10, 1, 77, 77, 16), ip(192, 168, 0, 78))).ok());
  EXPECT_EQ(t_.size(), 5u);
  EXPECT_EQ(via(t_, ip(10, 1, 9, 9)), 78);
  EXPECT_EQ(t_.lookup(ip(10, 1, 9, 9))->prefix, pfx(10, 1, 0, 0, 16));
}

TEST_F(RouteTableTest, RemoveDeletesExactlyThatPrefix) {
  EXPECT_TRUE(t_.remove(pfx(10, 1, 2, 0, 24)));
  EXPECT_EQ(t_.size(), 4u);
  EXPECT_EQ(via(t_, ip(10, 1, 2, 4)), 16);
  EXPECT_EQ(via(t_, ip(10, 1, 2, 3)), 32) << "the /32 inside it stays";
  EXPECT_FALSE(t_.remove(pfx(10, 1, 2, 0, 24))) << "already gone";
  EXPECT_FALSE(t_.remove(pfx(10, 9, 0, 0, 16))) << "never there";
  EXPECT_FALSE(t_.remove(pfx(10, 0, 0, 0, 33)));
  EXPECT_TRUE(t_.remove(pfx(10, 1, 200, 1, 16))) << "host bits ignored";
  EXPECT_EQ(via(t_, ip(10, 1, 2, 4)), 8);
  EXPECT_TRUE(t_.remove(pfx(0, 0, 0, 0, 0)));
  EXPECT_EQ(via(t_, ip(11, 0, 0, 1)), -1);
  size_t n = 0;
  t_.for_each([&](const Route&) { ++n; });
  EXPECT_EQ(n, t_.size());
}

TEST(RouteTable, NoRouteWithoutMatchingPrefix) {
  RouteTable t;
  EXPECT_EQ(t.lookup(ip(10, 0, 0, 1)), nullptr);
  ASSERT_TRUE(t.add(route(pfx(10, 0, 0, 0, 24), Ipv4Addr{})).ok());
  EXPECT_EQ(t.lookup(ip(10, 0, 1, 1)), nullptr);
  const Route* r = t.lookup(ip(10, 0, 0, 200));
  ASSERT_NE(r, nullptr);
  EXPECT_TRUE(r->connected());
}

TEST(RouteTable, RejectsPrefixLengthAbove32) {
  RouteTable t;
  Status s = t.add(route(pfx(10, 0, 0, 0, 33), Ipv4Addr{}));
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, Errc::invalid_argument);
  EXPECT_EQ(t.size(), 0u);
}

}  // namespace
}  // namespace tern::l3
