#include "tern/wire/ipv4.hpp"

#include <gtest/gtest.h>

#include <vector>

#include "frames.hpp"
#include "test_util.hpp"

namespace tern::wire {
namespace {

using test::emitted;
using test::vec;

std::vector<uint8_t> bytes_of(std::span<const uint8_t> s) { return {s.begin(), s.end()}; }

// A 24-byte header (IHL 6) carrying @p opts as its 4 option bytes and no data.
std::vector<uint8_t> with_options(std::initializer_list<uint8_t> opts) {
  std::vector<uint8_t> b = bytes_of(test::l3(test::kIcmpEchoRequest).first(20));
  b[0] = 0x46;
  b[2] = 0;
  b[3] = 24;
  b.insert(b.end(), opts);
  return b;
}

TEST(Ipv4View, ParsesCapturedEchoRequestHeader) {
  auto v = Ipv4View::parse(test::l3(test::kIcmpEchoRequest));
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->header_length(), 20u);
  EXPECT_EQ(v->tos(), 0);
  EXPECT_EQ(v->total_length(), 84);
  EXPECT_EQ(v->id(), 29518);
  EXPECT_TRUE(v->dont_fragment());
  EXPECT_FALSE(v->more_fragments());
  EXPECT_EQ(v->fragment_offset(), 0);
  EXPECT_FALSE(v->is_fragment());
  EXPECT_EQ(v->ttl(), 64);
  EXPECT_EQ(v->protocol(), ip_proto::icmp);
  EXPECT_EQ(v->checksum(), 0x3b33);
  EXPECT_EQ(v->src(), Ipv4Addr::from_octets(198, 18, 0, 1));
  EXPECT_EQ(v->dst(), Ipv4Addr::from_octets(198, 18, 0, 2));
  EXPECT_TRUE(v->options().empty());
  EXPECT_EQ(v->payload().size(), 64u);
  EXPECT_TRUE(v->checksum_ok());
}

TEST(Ipv4Header, RoundTripsCapturedHeadersByteExact) {
  for (std::span<const uint8_t> f :
       {std::span<const uint8_t>(test::kIcmpEchoRequest), std::span<const uint8_t>(test::kIcmpEchoReply),
        std::span<const uint8_t>(test::kUdpDnsQuery), std::span<const uint8_t>(test::kIcmpPortUnreachable),
        std::span<const uint8_t>(test::kTcpSyn), std::span<const uint8_t>(test::kTcpSynAck),
        std::span<const uint8_t>(test::kTcpAckSack3), std::span<const uint8_t>(test::kIgmpRouterAlert)}) {
    auto v = Ipv4View::parse(test::l3(f));
    ASSERT_TRUE(v.ok());
    EXPECT_TRUE(v->checksum_ok());
    auto h = Ipv4Header::parse(test::l3(f));
    ASSERT_TRUE(h.ok());
    EXPECT_EQ(h->length(), v->header_length());
    std::vector<uint8_t> out(h->length());
    EXPECT_EQ(h->emit(out, true), h->length());
    EXPECT_EQ(out, vec(v->header())) << "computed checksum";
    EXPECT_EQ(h->emit(out, false), h->length());
    EXPECT_EQ(out, vec(v->header())) << "verbatim checksum";
  }
}

TEST(Ipv4View, ParsesRouterAlertOption) {
  auto v = Ipv4View::parse(test::l3(test::kIgmpRouterAlert));
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->header_length(), 24u);
  EXPECT_EQ(vec(v->options()), (std::vector<uint8_t>{ipv4_opt::router_alert, 4, 0, 0}));
  EXPECT_EQ(v->tos(), 0xc0);
  EXPECT_EQ(v->ttl(), 1);
  EXPECT_EQ(v->protocol(), 2);  // IGMP
  EXPECT_EQ(v->dst(), Ipv4Addr::from_octets(224, 0, 0, 22));
  EXPECT_EQ(v->payload().size(), 16u);
  auto h = Ipv4Header::from_view(*v);
  EXPECT_EQ(h.options_len, 4);
}

TEST(Ipv4View, PayloadExcludesEthernetPadding) {
  std::vector<uint8_t> f(std::begin(test::kTcpPureAck), std::end(test::kTcpPureAck));
  f.resize(kEthernetMinFrame, 0);
  auto v = Ipv4View::parse(test::l3(f));
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->total_length(), 40);
  EXPECT_EQ(v->bytes().size(), 40u);
  EXPECT_EQ(v->payload().size(), 20u);
}

TEST(Ipv4View, ChecksumOkDetectsCorruption) {
  auto b = bytes_of(test::l3(test::kIcmpEchoRequest));
  b[8] = 63;  // TTL changed without updating the checksum
  auto v = Ipv4View::parse(b);
  ASSERT_TRUE(v.ok()) << "parse leaves the checksum to checksum_ok()";
  EXPECT_FALSE(v->checksum_ok());
}

TEST(Ipv4Header, ComputesChecksumOrEmitsItVerbatim) {
  auto h = *Ipv4Header::parse(test::l3(test::kIcmpEchoRequest));
  h.ttl = 63;
  h.checksum = 0x1234;
  std::vector<uint8_t> out(h.length());
  h.emit(out);
  EXPECT_TRUE(Ipv4View::parse_quoted(out)->checksum_ok());
  EXPECT_EQ(load_be16(out.data() + 10), 0x3c33);  // RFC 1624: TTL -1 adds 0x0100
  h.emit(out, false);
  EXPECT_EQ(load_be16(out.data() + 10), 0x1234);
}

TEST(Ipv4Header, PadsOptionsWithEol) {
  Ipv4Header h;
  h.total_length = 24;
  h.protocol = ip_proto::udp;
  h.options[0] = ipv4_opt::nop;
  h.options[1] = ipv4_opt::nop;
  h.options[2] = ipv4_opt::nop;
  h.options_len = 3;
  EXPECT_EQ(h.length(), 24u);
  const auto out = emitted(h);
  ASSERT_EQ(out.size(), 24u);
  EXPECT_EQ(out[0], 0x46);
  EXPECT_EQ(std::vector<uint8_t>(out.begin() + 20, out.end()), (std::vector<uint8_t>{1, 1, 1, 0}));
  auto v = Ipv4View::parse(out);
  ASSERT_TRUE(v.ok());
  EXPECT_TRUE(v->checksum_ok());
}

TEST(Ipv4Header, EqualityIgnoresUnusedOptionBytes) {
  Ipv4Header a;
  a.options[0] = ipv4_opt::nop;
  a.options_len = 1;
  Ipv4Header b = a;
  b.options[5] = 0xff;
  EXPECT_EQ(a, b);
  b.options[0] = ipv4_opt::eol;
  EXPECT_NE(a, b);
}

TEST(Ipv4Header, EncodesFragmentFields) {
  Ipv4Header h;
  h.total_length = 20;
  h.mf = true;
  h.frag_offset = 1480;
  const auto out = emitted(h);
  EXPECT_EQ(load_be16(out.data() + 6), 0x2000 | 185);
  auto v = Ipv4View::parse(out);
  ASSERT_TRUE(v.ok());
  EXPECT_TRUE(v->more_fragments());
  EXPECT_FALSE(v->dont_fragment());
  EXPECT_EQ(v->fragment_offset(), 1480);
  EXPECT_TRUE(v->is_fragment());
  h.mf = false;
  EXPECT_TRUE(Ipv4View::parse(emitted(h))->is_fragment()) << "last fragment: offset only";
}

TEST(Ipv4View, RejectsTruncatedHeader) {
  EXPECT_WIRE_ERROR(Ipv4View::parse(test::l3(test::kIcmpEchoRequest).first(19)), Errc::truncated);
  EXPECT_WIRE_ERROR(Ipv4View::parse({}), Errc::truncated);
}

TEST(Ipv4View, RejectsVersionOtherThanFour) {
  auto b = bytes_of(test::l3(test::kIcmpEchoRequest));
  b[0] = 0x65;
  EXPECT_WIRE_ERROR(Ipv4View::parse(b), Errc::bad_version);
}

TEST(Ipv4View, RejectsIhlBelowFive) {
  auto b = bytes_of(test::l3(test::kIcmpEchoRequest));
  b[0] = 0x44;
  EXPECT_WIRE_ERROR(Ipv4View::parse(b), Errc::bad_header);
}

TEST(Ipv4View, RejectsIhlBeyondData) {
  auto b = bytes_of(test::l3(test::kIcmpEchoRequest).first(22));
  b[0] = 0x46;
  b[3] = 22;
  EXPECT_WIRE_ERROR(Ipv4View::parse(b), Errc::bad_header);
}

TEST(Ipv4View, RejectsTotalLengthBelowHeaderLength) {
  auto b = bytes_of(test::l3(test::kIcmpEchoRequest));
  b[2] = 0;
  b[3] = 19;
  EXPECT_WIRE_ERROR(Ipv4View::parse(b), Errc::bad_length);
  auto opt = bytes_of(test::l3(test::kIgmpRouterAlert));
  opt[3] = 22;  // below IHL 6 * 4
  EXPECT_WIRE_ERROR(Ipv4View::parse(opt), Errc::bad_length);
}

TEST(Ipv4View, RejectsTotalLengthBeyondData) {
  auto b = bytes_of(test::l3(test::kIcmpEchoRequest));
  b[3] = 85;
  EXPECT_WIRE_ERROR(Ipv4View::parse(b), Errc::bad_length);
}

TEST(Ipv4View, RejectsOptionLengthZeroOrOne) {
  EXPECT_WIRE_ERROR(Ipv4View::parse(with_options({0x94, 0, 0, 0})), Errc::bad_option);
  EXPECT_WIRE_ERROR(Ipv4View::parse(with_options({0x94, 1, 0, 0})), Errc::bad_option);
}

TEST(Ipv4View, RejectsOptionOverrunningHeader) {
  EXPECT_WIRE_ERROR(Ipv4View::parse(with_options({0x94, 5, 0, 0})), Errc::bad_option);
  EXPECT_WIRE_ERROR(Ipv4View::parse(with_options({1, 0x94, 4, 0})), Errc::bad_option);
}

TEST(Ipv4View, RejectsOptionWithoutLengthByte) {
  EXPECT_WIRE_ERROR(Ipv4View::parse(with_options({1, 1, 1, 0x94})), Errc::bad_option);
}

TEST(Ipv4View, AcceptsNopsAndStopsAtEol) {
  EXPECT_TRUE(Ipv4View::parse(with_options({1, 1, 1, 1})).ok());
  EXPECT_TRUE(Ipv4View::parse(with_options({0, 0x94, 0, 0xff})).ok()) << "bytes after EOL are padding";
  EXPECT_TRUE(Ipv4View::parse(with_options({0x94, 4, 0, 0})).ok());
}

TEST(Ipv4View, ParseQuotedAcceptsTruncatedDatagram) {
  // Linux quoted the whole DNS query; cut it to the RFC 792 minimum: IP header + 8 bytes.
  auto icmp_body = test::l4(test::kIcmpPortUnreachable).subspan(8);
  ASSERT_EQ(icmp_body.size(), 57u);
  const auto quoted = icmp_body.first(28);
  EXPECT_WIRE_ERROR(Ipv4View::parse(quoted), Errc::bad_length);
  auto v = Ipv4View::parse_quoted(quoted);
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->total_length(), 57);
  EXPECT_EQ(v->protocol(), ip_proto::udp);
  EXPECT_EQ(v->id(), 46118);
  EXPECT_EQ(v->payload().size(), 8u);
  EXPECT_TRUE(v->checksum_ok());
  auto whole = Ipv4View::parse_quoted(icmp_body);
  ASSERT_TRUE(whole.ok());
  EXPECT_EQ(whole->payload().size(), 37u);
}

TEST(Ipv4View, ParseQuotedStillRejectsInconsistentHeaders) {
  auto b = bytes_of(test::l3(test::kIcmpEchoRequest).first(28));
  b[0] = 0x44;
  EXPECT_WIRE_ERROR(Ipv4View::parse_quoted(b), Errc::bad_header);
  b[0] = 0x45;
  b[2] = 0;
  b[3] = 10;
  EXPECT_WIRE_ERROR(Ipv4View::parse_quoted(b), Errc::bad_length);
  EXPECT_WIRE_ERROR(Ipv4View::parse_quoted(std::span<const uint8_t>(b).first(19)), Errc::truncated);
}

TEST(Ipv4OptionProblem, PointsAtTheOctetFoundWrong) {
  // RFC 792 Parameter Problem pointer: offsets from the first header octet.
  EXPECT_EQ(ipv4_option_problem(with_options({0x94, 0, 0, 0})), std::optional<uint8_t>(21)) << "length 0";
  EXPECT_EQ(ipv4_option_problem(with_options({1, 0x94, 1, 0})), std::optional<uint8_t>(22)) << "length 1";
  EXPECT_EQ(ipv4_option_problem(with_options({0x94, 5, 0, 0})), std::optional<uint8_t>(21)) << "overrun";
  EXPECT_EQ(ipv4_option_problem(with_options({1, 1, 1, 0x94})), std::optional<uint8_t>(23))
      << "no length octet: the type octet";
  EXPECT_EQ(ipv4_option_problem(with_options({1, 1, 1, 1})), std::nullopt);
  EXPECT_EQ(ipv4_option_problem(with_options({0x94, 4, 0, 0})), std::nullopt);
  EXPECT_EQ(ipv4_option_problem(with_options({0, 0x94, 0, 0xff})), std::nullopt) << "after EOL: padding";
  EXPECT_EQ(ipv4_option_problem(bytes_of(test::l3(test::kIcmpEchoRequest))), std::nullopt) << "no options";
}

TEST(Ipv4View, ParseQuotedDoesNotWalkOptions) {
  // A Parameter Problem quotes a header with malformed options: the quote must still parse.
  auto b = with_options({0x94, 0, 0, 0});
  EXPECT_WIRE_ERROR(Ipv4View::parse(b), Errc::bad_option);
  auto v = Ipv4View::parse_quoted(b);
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->header_length(), 24u);
  EXPECT_EQ(v->options().size(), 4u);
}

}  // namespace
}  // namespace tern::wire
