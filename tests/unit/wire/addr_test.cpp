#include "tern/wire/addr.hpp"

#include <gtest/gtest.h>

#include <string_view>

#include "test_util.hpp"

namespace tern::wire {
namespace {

TEST(MacAddr, ParsesEitherCase) {
  auto m = MacAddr::parse("0a:1B:2c:3D:4e:5F");
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(*m, (MacAddr{{0x0a, 0x1b, 0x2c, 0x3d, 0x4e, 0x5f}}));
  EXPECT_EQ(m->to_string(), "0a:1b:2c:3d:4e:5f");
}

TEST(MacAddr, RejectsMalformedText) {
  for (std::string_view bad :
       {"", "aa:bb:cc:dd:ee", "aa:bb:cc:dd:ee:ff:", "aa-bb-cc-dd-ee-ff", "aa:bb:cc:dd:ee:fg",
        "aaa:bb:cc:dd:ee:f", " aa:bb:cc:dd:ee:f", "aa:bb:cc:dd:ee:ff ", "a:bb:cc:dd:ee:fff"}) {
    SCOPED_TRACE(bad);
    EXPECT_WIRE_ERROR(MacAddr::parse(bad), Errc::invalid_argument);
  }
}

TEST(MacAddr, ClassifiesBroadcastMulticastAndZero) {
  EXPECT_TRUE(MacAddr::broadcast().is_broadcast());
  EXPECT_TRUE(MacAddr::broadcast().is_multicast());
  EXPECT_FALSE(MacAddr::broadcast().is_zero());
  const MacAddr mcast{{0x01, 0x00, 0x5e, 0x00, 0x00, 0x16}};
  EXPECT_TRUE(mcast.is_multicast());
  EXPECT_FALSE(mcast.is_broadcast());
  const MacAddr unicast{{0x26, 0xf7, 0xb7, 0xc7, 0x4c, 0xae}};
  EXPECT_FALSE(unicast.is_multicast());
  EXPECT_TRUE(MacAddr{}.is_zero());
  EXPECT_FALSE(unicast.is_zero());
}

TEST(MacAddr, LoadsStoresAndOrdersBytewise) {
  const uint8_t raw[6] = {0x9e, 0xa6, 0x4b, 0x7a, 0xf9, 0x7d};
  const MacAddr m = MacAddr::load(raw);
  uint8_t out[6] = {};
  m.store(out);
  EXPECT_EQ(0, std::memcmp(raw, out, 6));
  EXPECT_LT((MacAddr{{0, 0, 0, 0, 0, 1}}), (MacAddr{{0, 0, 0, 0, 1, 0}}));
  EXPECT_NE(m, MacAddr{});
}

TEST(Ipv4Addr, ParsesDottedQuadToHostOrder) {
  auto a = Ipv4Addr::parse("198.18.0.1");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->v, 0xc6120001u);
  EXPECT_EQ(Ipv4Addr::parse("0.0.0.0")->v, 0u);
  EXPECT_EQ(Ipv4Addr::parse("255.255.255.255")->v, 0xffffffffu);
  EXPECT_EQ(Ipv4Addr::from_octets(198, 19, 1, 20), *Ipv4Addr::parse("198.19.1.20"));
  EXPECT_EQ(Ipv4Addr{0xc6130114}.to_string(), "198.19.1.20");
}

TEST(Ipv4Addr, RejectsMalformedText) {
  for (std::string_view bad :
       {"", "198.18.0", "198.18.0.1.", "198.18.0.1.5", "256.18.0.1", "198.18.0.256", "198.18.0.1000",
        "198.18.0.1x", "198.18.0.1 ", " 198.18.0.1", "198.018.0.1", "198.18.0.00", "198..0.1", "+198.18.0.1",
        "198.18.0.-1", "198.18.0.1/24", "a.b.c.d", "198,18,0,1"}) {
    SCOPED_TRACE(bad);
    EXPECT_WIRE_ERROR(Ipv4Addr::parse(bad), Errc::invalid_argument);
  }
}

TEST(Ipv4Addr, ClassifiesSpecialAddresses) {
  EXPECT_TRUE(Ipv4Addr{0xffffffff}.is_broadcast());
  EXPECT_TRUE(Ipv4Addr::from_octets(224, 0, 0, 22).is_multicast());
  EXPECT_TRUE(Ipv4Addr::from_octets(239, 255, 255, 255).is_multicast());
  EXPECT_FALSE(Ipv4Addr::from_octets(240, 0, 0, 1).is_multicast());
  EXPECT_TRUE(Ipv4Addr::from_octets(127, 1, 2, 3).is_loopback());
  EXPECT_TRUE(Ipv4Addr{}.is_unspecified());
  EXPECT_FALSE(Ipv4Addr::from_octets(198, 18, 0, 1).is_unspecified());
  // RFC 1122 §3.2.1.3: 0.0.0.0/8 ("this network", the source of a tap_garbage frame that once got a
  // Parameter Problem back) and class E never name one host.
  EXPECT_TRUE(Ipv4Addr::from_octets(0, 130, 127, 240).is_special());
  EXPECT_TRUE(Ipv4Addr::from_octets(0, 0, 0, 0).is_special());
  EXPECT_TRUE(Ipv4Addr::from_octets(240, 0, 0, 1).is_special());
  EXPECT_FALSE(Ipv4Addr::from_octets(198, 18, 0, 1).is_special());
}

TEST(Ipv4Addr, LoadsAndStoresNetworkOrder) {
  const uint8_t raw[4] = {198, 18, 0, 2};
  EXPECT_EQ(Ipv4Addr::load(raw).v, 0xc6120002u);
  uint8_t out[4] = {};
  Ipv4Addr::from_octets(198, 19, 3, 4).store(out);
  EXPECT_EQ(out[0], 198);
  EXPECT_EQ(out[3], 4);
  EXPECT_LT(Ipv4Addr::from_octets(198, 18, 255, 255), Ipv4Addr::from_octets(198, 19, 0, 0));
}

TEST(Ipv4Prefix, ParsesAndDerivesMaskNetworkBroadcast) {
  auto p = Ipv4Prefix::parse("198.19.2.3/24");
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->addr, Ipv4Addr::from_octets(198, 19, 2, 3));
  EXPECT_EQ(p->len, 24);
  EXPECT_EQ(p->mask(), 0xffffff00u);
  EXPECT_EQ(p->network(), Ipv4Addr::from_octets(198, 19, 2, 0));
  EXPECT_EQ(p->broadcast(), Ipv4Addr::from_octets(198, 19, 2, 255));
  EXPECT_TRUE(p->contains(Ipv4Addr::from_octets(198, 19, 2, 200)));
  EXPECT_FALSE(p->contains(Ipv4Addr::from_octets(198, 19, 3, 1)));
  EXPECT_EQ(p->to_string(), "198.19.2.3/24");
}

TEST(Ipv4Prefix, HandlesZeroAndFullLength) {
  auto any = Ipv4Prefix::parse("0.0.0.0/0");
  ASSERT_TRUE(any.ok());
  EXPECT_EQ(any->mask(), 0u);
  EXPECT_TRUE(any->contains(Ipv4Addr{0xdeadbeef}));
  auto host = Ipv4Prefix::parse("198.19.1.1/32");
  ASSERT_TRUE(host.ok());
  EXPECT_EQ(host->mask(), 0xffffffffu);
  EXPECT_TRUE(host->contains(Ipv4Addr::from_octets(198, 19, 1, 1)));
  EXPECT_FALSE(host->contains(Ipv4Addr::from_octets(198, 19, 1, 2)));
}

TEST(Ipv4Prefix, RejectsMalformedText) {
  for (std::string_view bad :
       {"198.18.0.1/33", "198.18.0.1/", "198.18.0.1", "198.18.0.1/024", "198.18.0.1/3x", "198.18.0/8",
        "198.18.0.1/-1", "198.18.0.1/ 8", "198.18.0.1/100", "256.0.0.0/8", "198.18.0.1//8", "/8"}) {
    SCOPED_TRACE(bad);
    EXPECT_WIRE_ERROR(Ipv4Prefix::parse(bad), Errc::invalid_argument);
  }
}

}  // namespace
}  // namespace tern::wire
