#include "tern/wire/ethernet.hpp"

#include <gtest/gtest.h>

#include <vector>

#include "frames.hpp"
#include "test_util.hpp"

namespace tern::wire {
namespace {

using test::emitted;
using test::vec;

const MacAddr kHostA{{0x26, 0xf7, 0xb7, 0xc7, 0x4c, 0xae}};
const MacAddr kHostB{{0x9e, 0xa6, 0x4b, 0x7a, 0xf9, 0x7d}};

// The captured ARP request with an 802.1Q tag (PCP 5, VID 100) inserted after the source address.
std::vector<uint8_t> tagged_arp_request() {
  std::vector<uint8_t> f(std::begin(test::kArpRequest), std::end(test::kArpRequest));
  const uint8_t tag[] = {0x81, 0x00, 0xa0, 0x64};
  f.insert(f.begin() + 12, std::begin(tag), std::end(tag));
  return f;
}

TEST(EthernetView, ParsesCapturedBroadcastArpFrame) {
  auto v = EthernetView::parse(test::kArpRequest);
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->dst(), MacAddr::broadcast());
  EXPECT_EQ(v->src(), kHostA);
  EXPECT_EQ(v->ethertype(), ethertype::arp);
  EXPECT_FALSE(v->vlan_tci().has_value());
  EXPECT_EQ(v->header_length(), kEthernetHeaderLen);
  EXPECT_EQ(v->payload().size(), 28u);
  EXPECT_EQ(v->bytes().size(), sizeof(test::kArpRequest));
}

TEST(EthernetHeader, RoundTripsCapturedFramesByteExact) {
  for (std::span<const uint8_t> f :
       {std::span<const uint8_t>(test::kArpRequest), std::span<const uint8_t>(test::kArpReply),
        std::span<const uint8_t>(test::kIcmpEchoRequest), std::span<const uint8_t>(test::kIgmpRouterAlert)}) {
    auto h = EthernetHeader::parse(f);
    ASSERT_TRUE(h.ok());
    EXPECT_EQ(h->length(), kEthernetHeaderLen);
    EXPECT_EQ(emitted(*h), vec(f.first(kEthernetHeaderLen)));
  }
  auto h = EthernetHeader::parse(test::kIcmpEchoRequest);
  EXPECT_EQ(h->dst, kHostB);
  EXPECT_EQ(h->src, kHostA);
  EXPECT_EQ(h->ethertype, ethertype::ipv4);
}

TEST(EthernetView, Decodes8021QTag) {
  const auto f = tagged_arp_request();
  auto v = EthernetView::parse(f);
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->ethertype(), ethertype::arp);
  ASSERT_TRUE(v->vlan_tci().has_value());
  EXPECT_EQ(*v->vlan_tci(), 0xa064);
  EXPECT_EQ(*v->vlan_tci() & 0x0fff, 100);
  EXPECT_EQ(v->header_length(), kEthernetHeaderLen + kVlanTagLen);
  EXPECT_EQ(vec(v->payload()), vec(test::l3(test::kArpRequest)));
}

TEST(EthernetHeader, EmitsVlanTagWhenSet) {
  const auto f = tagged_arp_request();
  auto h = EthernetHeader::parse(f);
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(h->length(), 18u);
  EXPECT_EQ(emitted(*h), vec(std::span<const uint8_t>(f).first(18)));
  EthernetHeader untagged = *h;
  untagged.vlan_tci.reset();
  EXPECT_EQ(emitted(untagged), vec(std::span<const uint8_t>(test::kArpRequest).first(14)));
}

TEST(EthernetView, ReportsQinqTypeWithoutDecodingIt) {
  std::vector<uint8_t> f(std::begin(test::kArpRequest), std::end(test::kArpRequest));
  f[12] = 0x88;
  f[13] = 0xa8;
  auto v = EthernetView::parse(f);
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->ethertype(), ethertype::qinq);
  EXPECT_FALSE(v->vlan_tci().has_value());
  EXPECT_EQ(v->header_length(), kEthernetHeaderLen);
}

TEST(EthernetView, PayloadKeepsMinimumFramePadding) {
  std::vector<uint8_t> f(std::begin(test::kArpRequest), std::end(test::kArpRequest));
  f.resize(kEthernetMinFrame, 0);
  auto v = EthernetView::parse(f);
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->payload().size(), kEthernetMinFrame - kEthernetHeaderLen);
}

TEST(EthernetView, RejectsTruncatedHeader) {
  EXPECT_WIRE_ERROR(EthernetView::parse(std::span<const uint8_t>(test::kArpRequest).first(13)),
                    Errc::truncated);
  EXPECT_WIRE_ERROR(EthernetView::parse({}), Errc::truncated);
  EXPECT_WIRE_ERROR(EthernetHeader::parse(std::span<const uint8_t>(test::kArpRequest).first(13)),
                    Errc::truncated);
}

TEST(EthernetView, RejectsTruncatedVlanTag) {
  const auto f = tagged_arp_request();
  EXPECT_WIRE_ERROR(EthernetView::parse(std::span<const uint8_t>(f).first(17)), Errc::truncated);
  EXPECT_TRUE(EthernetView::parse(std::span<const uint8_t>(f).first(18)).ok());
}

}  // namespace
}  // namespace tern::wire
