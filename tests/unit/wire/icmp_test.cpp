#include "tern/wire/icmp.hpp"

#include <gtest/gtest.h>

#include <vector>

#include "frames.hpp"
#include "tern/wire/ipv4.hpp"
#include "tern/wire/udp.hpp"
#include "test_util.hpp"

namespace tern::wire {
namespace {

using test::emitted;
using test::vec;

std::vector<uint8_t> bytes_of(std::span<const uint8_t> s) { return {s.begin(), s.end()}; }

TEST(IcmpView, ParsesCapturedEchoRequest) {
  auto v = IcmpView::parse(test::l4(test::kIcmpEchoRequest));
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->type(), icmp_type::echo_request);
  EXPECT_EQ(v->code(), 0);
  EXPECT_EQ(v->checksum(), 0xae48);
  EXPECT_EQ(v->id(), 8925);
  EXPECT_EQ(v->seq(), 1);
  EXPECT_EQ(v->rest(), (8925u << 16) | 1u);
  EXPECT_EQ(v->payload().size(), 56u);
  EXPECT_TRUE(v->checksum_ok());
  EXPECT_FALSE(v->is_error());
}

TEST(IcmpHeader, RoundTripsCapturedMessagesByteExact) {
  for (std::span<const uint8_t> f :
       {std::span<const uint8_t>(test::kIcmpEchoRequest), std::span<const uint8_t>(test::kIcmpEchoReply),
        std::span<const uint8_t>(test::kIcmpPortUnreachable)}) {
    auto h = IcmpHeader::parse(test::l4(f));
    ASSERT_TRUE(h.ok());
    EXPECT_EQ(h->length(), kIcmpHeaderLen);
    EXPECT_EQ(emitted(*h), vec(test::l4(f).first(kIcmpHeaderLen)));
  }
}

TEST(IcmpHeader, ComputeChecksumMatchesCapturedEchoReply) {
  auto msg = bytes_of(test::l4(test::kIcmpEchoReply));
  const uint16_t captured = load_be16(msg.data() + 2);
  msg[2] = msg[3] = 0;
  EXPECT_EQ(IcmpHeader::compute_checksum(msg), captured);
  auto v = IcmpView::parse(test::l4(test::kIcmpEchoReply));
  EXPECT_EQ(v->type(), icmp_type::echo_reply);
  EXPECT_EQ(v->id(), 8925);
  EXPECT_TRUE(v->checksum_ok());
}

TEST(IcmpView, ParsesPortUnreachableAndItsQuotedDatagram) {
  auto v = IcmpView::parse(test::l4(test::kIcmpPortUnreachable));
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->type(), icmp_type::dest_unreachable);
  EXPECT_EQ(v->code(), icmp_code::port_unreachable);
  EXPECT_TRUE(v->is_error());
  EXPECT_TRUE(v->checksum_ok());
  auto ip = Ipv4View::parse_quoted(v->payload());
  ASSERT_TRUE(ip.ok());
  EXPECT_EQ(ip->src(), Ipv4Addr::from_octets(198, 18, 0, 1));
  EXPECT_EQ(ip->dst(), Ipv4Addr::from_octets(198, 18, 0, 2));
  EXPECT_EQ(ip->protocol(), ip_proto::udp);
  auto udp = UdpView::parse(ip->payload());
  ASSERT_TRUE(udp.ok());
  EXPECT_EQ(udp->src_port(), 37832);
  EXPECT_EQ(udp->dst_port(), 53);
}

TEST(IcmpView, ChecksumOkDetectsCorruption) {
  auto msg = bytes_of(test::l4(test::kIcmpEchoRequest));
  msg[20] ^= 0x01;
  auto v = IcmpView::parse(msg);
  ASSERT_TRUE(v.ok());
  EXPECT_FALSE(v->checksum_ok());
}

TEST(IcmpView, ReadsNextHopMtuOfFragNeeded) {
  // RFC 1191 §4: unused(16) then next-hop MTU(16) in the rest of header.
  const IcmpHeader h{icmp_type::dest_unreachable, icmp_code::frag_needed, 0, 1400};
  std::vector<uint8_t> msg = emitted(h);
  const auto quoted = test::l3(test::kTcpSyn).first(28);
  msg.insert(msg.end(), quoted.begin(), quoted.end());
  store_be16(msg.data() + 2, IcmpHeader::compute_checksum(msg));
  auto v = IcmpView::parse(msg);
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->next_hop_mtu(), 1400);
  EXPECT_TRUE(v->is_error());
  EXPECT_TRUE(v->checksum_ok());
}

TEST(IcmpView, ClassifiesErrorTypes) {
  uint8_t msg[8] = {};
  for (int t = 0; t < 256; ++t) {
    msg[0] = static_cast<uint8_t>(t);
    const bool error = t == 3 || t == 4 || t == 5 || t == 11 || t == 12;
    EXPECT_EQ(IcmpView::parse(msg)->is_error(), error) << "type " << t;
  }
}

TEST(IcmpView, ExposesRedirectGatewayAndParameterPointer) {
  const uint8_t redirect[8] = {icmp_type::redirect, 1, 0, 0, 198, 18, 0, 1};
  EXPECT_EQ(IcmpView::parse(redirect)->gateway(), Ipv4Addr::from_octets(198, 18, 0, 1));
  const uint8_t param[8] = {icmp_type::parameter_problem, 0, 0, 0, 9, 0, 0, 0};
  EXPECT_EQ(IcmpView::parse(param)->pointer(), 9);
}

TEST(IcmpView, RejectsTruncatedHeader) {
  EXPECT_WIRE_ERROR(IcmpView::parse(test::l4(test::kIcmpEchoRequest).first(7)), Errc::truncated);
  EXPECT_WIRE_ERROR(IcmpHeader::parse({}), Errc::truncated);
}

}  // namespace
}  // namespace tern::wire
