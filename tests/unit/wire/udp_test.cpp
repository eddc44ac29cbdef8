#include "tern/wire/udp.hpp"

#include <gtest/gtest.h>

#include <vector>

#include "frames.hpp"
#include "tern/base/checksum.hpp"
#include "test_util.hpp"

namespace tern::wire {
namespace {

using test::emitted;
using test::vec;

const Ipv4Addr kClient = Ipv4Addr::from_octets(198, 18, 0, 1);
const Ipv4Addr kServer = Ipv4Addr::from_octets(198, 18, 0, 2);

std::vector<uint8_t> dns_query() {
  const auto s = test::l4(test::kUdpDnsQuery);
  return {s.begin(), s.end()};
}

TEST(UdpView, ParsesCapturedDnsQuery) {
  auto v = UdpView::parse(test::l4(test::kUdpDnsQuery));
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->src_port(), 37832);
  EXPECT_EQ(v->dst_port(), 53);
  EXPECT_EQ(v->length(), 37);
  EXPECT_EQ(v->payload().size(), 29u);
  EXPECT_EQ(v->payload()[12], 7) << "QNAME starts with the 7-byte label \"example\"";
  EXPECT_TRUE(v->checksum_ok(kClient, kServer));
}

TEST(UdpHeader, RoundTripsCapturedDnsQueryByteExact) {
  auto h = UdpHeader::parse(test::l4(test::kUdpDnsQuery));
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(h->src_port, 37832);
  EXPECT_EQ(h->length, 37);
  EXPECT_EQ(UdpHeader::header_length(), kUdpHeaderLen);
  EXPECT_EQ(emitted(*h), vec(test::l4(test::kUdpDnsQuery).first(kUdpHeaderLen)));
}

TEST(UdpChecksum, MatchesCapturedDnsQuery) {
  auto d = dns_query();
  const uint16_t captured = load_be16(d.data() + 6);
  ASSERT_NE(captured, 0);
  d[6] = d[7] = 0;
  EXPECT_EQ(udp_checksum(kClient, kServer, d), captured);
  EXPECT_EQ(UdpHeader::udp_checksum(kClient, kServer, d), captured);
}

TEST(UdpView, ChecksumOkDetectsCorruptionAndWrongPseudoHeader) {
  auto d = dns_query();
  d[20] ^= 0x20;
  EXPECT_FALSE(UdpView::parse(d)->checksum_ok(kClient, kServer));
  EXPECT_FALSE(UdpView::parse(test::l4(test::kUdpDnsQuery))
                   ->checksum_ok(kClient, Ipv4Addr::from_octets(198, 18, 0, 3)));
}

TEST(UdpView, ZeroChecksumMeansNoneWasSent) {
  auto d = dns_query();
  d[6] = d[7] = 0;
  d[20] ^= 0x20;
  EXPECT_TRUE(UdpView::parse(d)->checksum_ok(kClient, kServer));
}

TEST(UdpChecksum, TransmitsComputedZeroAsAllOnes) {
  // Two payload bytes chosen so that the one's complement sum is 0xffff.
  std::vector<uint8_t> d = {0x12, 0x34, 0x56, 0x78, 0x00, 0x0a, 0x00, 0x00, 0x00, 0x00};
  ChecksumAccumulator acc;
  add_ipv4_pseudo_header(acc, kClient.v, kServer.v, 17, 10);
  acc.add(d);
  store_be16(d.data() + 8, static_cast<uint16_t>(~acc.sum16()));
  const uint16_t c = udp_checksum(kClient, kServer, d);
  EXPECT_EQ(c, 0xffff);
  store_be16(d.data() + 6, c);
  EXPECT_TRUE(UdpView::parse(d)->checksum_ok(kClient, kServer));
}

TEST(UdpView, PayloadStopsAtLengthField) {
  auto d = dns_query();
  d.resize(d.size() + 9, 0);  // trailing padding
  auto v = UdpView::parse(d);
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->bytes().size(), 37u);
  EXPECT_EQ(v->payload().size(), 29u);
  EXPECT_TRUE(v->checksum_ok(kClient, kServer));
}

TEST(UdpView, RejectsTruncatedHeader) {
  EXPECT_WIRE_ERROR(UdpView::parse(test::l4(test::kUdpDnsQuery).first(7)), Errc::truncated);
}

TEST(UdpView, RejectsLengthBelowEight) {
  auto d = dns_query();
  d[4] = 0;
  d[5] = 7;
  EXPECT_WIRE_ERROR(UdpView::parse(d), Errc::bad_length);
  d[5] = 0;
  EXPECT_WIRE_ERROR(UdpHeader::parse(d), Errc::bad_length);
}

TEST(UdpView, RejectsLengthBeyondData) {
  auto d = dns_query();
  d[5] = 38;
  EXPECT_WIRE_ERROR(UdpView::parse(d), Errc::bad_length);
}

}  // namespace
}  // namespace tern::wire
