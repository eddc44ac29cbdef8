#include "tern/wire/arp.hpp"

#include <gtest/gtest.h>

#include <vector>

#include "frames.hpp"
#include "test_util.hpp"

namespace tern::wire {
namespace {

using test::emitted;
using test::vec;

std::vector<uint8_t> arp_request() {
  const auto s = test::l3(test::kArpRequest);
  return {s.begin(), s.end()};
}

TEST(ArpView, ParsesCapturedLinuxRequest) {
  auto v = ArpView::parse(test::l3(test::kArpRequest));
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->htype(), 1);
  EXPECT_EQ(v->ptype(), 0x0800);
  EXPECT_EQ(v->hlen(), 6);
  EXPECT_EQ(v->plen(), 4);
  EXPECT_EQ(v->op(), arp_op::request);
  EXPECT_EQ(v->sha(), (MacAddr{{0x26, 0xf7, 0xb7, 0xc7, 0x4c, 0xae}}));
  EXPECT_EQ(v->spa(), Ipv4Addr::from_octets(198, 18, 0, 1));
  EXPECT_TRUE(v->tha().is_zero());
  EXPECT_EQ(v->tpa(), Ipv4Addr::from_octets(198, 18, 0, 2));
}

TEST(ArpView, ParsesCapturedLinuxReply) {
  auto v = ArpView::parse(test::l3(test::kArpReply));
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->op(), arp_op::reply);
  EXPECT_EQ(v->sha(), (MacAddr{{0x9e, 0xa6, 0x4b, 0x7a, 0xf9, 0x7d}}));
  EXPECT_EQ(v->spa(), Ipv4Addr::from_octets(198, 18, 0, 2));
  EXPECT_EQ(v->tpa(), Ipv4Addr::from_octets(198, 18, 0, 1));
}

TEST(ArpPacket, RoundTripsCapturedPacketsByteExact) {
  for (std::span<const uint8_t> f :
       {std::span<const uint8_t>(test::kArpRequest), std::span<const uint8_t>(test::kArpReply)}) {
    auto p = ArpPacket::parse(test::l3(f));
    ASSERT_TRUE(p.ok());
    EXPECT_EQ(p->length(), kArpLen);
    EXPECT_EQ(emitted(*p), vec(test::l3(f)));
  }
}

TEST(ArpView, IgnoresEthernetPadding) {
  auto b = arp_request();
  b.resize(46, 0);
  auto v = ArpView::parse(b);
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->bytes().size(), kArpLen);
}

TEST(ArpView, RejectsTruncatedPacket) {
  const auto b = arp_request();
  EXPECT_WIRE_ERROR(ArpView::parse(std::span<const uint8_t>(b).first(27)), Errc::truncated);
  EXPECT_WIRE_ERROR(ArpPacket::parse(std::span<const uint8_t>(b).first(8)), Errc::truncated);
}

TEST(ArpView, RejectsNonEthernetHardwareType) {
  auto b = arp_request();
  b[1] = 6;  // IEEE 802
  EXPECT_WIRE_ERROR(ArpView::parse(b), Errc::unsupported);
}

TEST(ArpView, RejectsNonIpv4ProtocolType) {
  auto b = arp_request();
  b[2] = 0x86;
  b[3] = 0xdd;
  EXPECT_WIRE_ERROR(ArpView::parse(b), Errc::unsupported);
}

TEST(ArpView, RejectsWrongAddressLengths) {
  auto b = arp_request();
  b[4] = 8;
  EXPECT_WIRE_ERROR(ArpView::parse(b), Errc::unsupported);
  b = arp_request();
  b[5] = 16;
  EXPECT_WIRE_ERROR(ArpView::parse(b), Errc::unsupported);
}

TEST(ArpView, RejectsUnknownOp) {
  auto b = arp_request();
  for (uint8_t op : {0, 3, 8}) {
    b[7] = op;
    EXPECT_WIRE_ERROR(ArpView::parse(b), Errc::bad_value);
  }
}

TEST(ArpPacket, EmitsFixedHardwareAndProtocolFields) {
  const ArpPacket p{arp_op::reply, MacAddr{{2, 0, 0, 0, 0, 1}}, Ipv4Addr::from_octets(198, 18, 0, 1),
                    MacAddr{{2, 0, 0, 0, 0, 2}}, Ipv4Addr::from_octets(198, 18, 0, 2)};
  const auto b = emitted(p);
  ASSERT_EQ(b.size(), kArpLen);
  EXPECT_EQ(std::vector<uint8_t>(b.begin(), b.begin() + 8), (std::vector<uint8_t>{0, 1, 8, 0, 6, 4, 0, 2}));
  auto back = ArpPacket::parse(b);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, p);
}

}  // namespace
}  // namespace tern::wire
