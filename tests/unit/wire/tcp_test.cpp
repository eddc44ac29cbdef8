#include "tern/wire/tcp.hpp"

#include <gtest/gtest.h>

#include <vector>

#include "frames.hpp"
#include "test_util.hpp"

namespace tern::wire {
namespace {

using test::emitted;
using test::vec;

const Ipv4Addr kClient = Ipv4Addr::from_octets(198, 18, 0, 1);
const Ipv4Addr kServer = Ipv4Addr::from_octets(198, 18, 0, 2);
const Ipv4Addr kScapy = Ipv4Addr::from_octets(198, 18, 0, 3);

std::vector<uint8_t> bytes_of(std::span<const uint8_t> s) { return {s.begin(), s.end()}; }

// A 20-byte header with the given option bytes appended (padded by the caller to a multiple of 4).
std::vector<uint8_t> with_options(std::initializer_list<uint8_t> opts) {
  std::vector<uint8_t> b = bytes_of(test::l4(test::kTcpPureAck));
  b.insert(b.end(), opts);
  b[12] = static_cast<uint8_t>((b.size() / 4) << 4);
  return b;
}

TEST(TcpView, ParsesCapturedLinuxSyn) {
  auto v = TcpView::parse(test::l4(test::kTcpSyn));
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->src_port(), 40068);
  EXPECT_EQ(v->dst_port(), 5001);
  EXPECT_EQ(v->seq(), SeqNum{3480812060u});
  EXPECT_EQ(v->ack(), SeqNum{0});
  EXPECT_EQ(v->data_offset(), 10);
  EXPECT_EQ(v->header_length(), 40u);
  EXPECT_EQ(v->flags(), tcp_flag::syn);
  EXPECT_TRUE(v->has(tcp_flag::syn));
  EXPECT_FALSE(v->has(tcp_flag::syn | tcp_flag::ack));
  EXPECT_EQ(v->window(), 64240);
  EXPECT_EQ(v->checksum(), 0xbca8);
  EXPECT_EQ(v->urgent(), 0);
  const TcpOptions& o = v->options();
  EXPECT_EQ(o.mss, 1460);
  EXPECT_TRUE(o.sack_permitted);
  ASSERT_TRUE(o.timestamps.has_value());
  EXPECT_EQ(o.timestamps->tsval, 2435053940u);
  EXPECT_EQ(o.timestamps->tsecr, 0u);
  EXPECT_EQ(o.wscale, 10);
  EXPECT_EQ(o.sack_count, 0);
  EXPECT_EQ(v->raw_options().size(), 20u);
  EXPECT_TRUE(v->payload().empty());
  EXPECT_TRUE(v->checksum_ok(kClient, kServer));
}

TEST(TcpView, ParsesCapturedSynAck) {
  auto v = TcpView::parse(test::l4(test::kTcpSynAck));
  ASSERT_TRUE(v.ok());
  EXPECT_TRUE(v->has(tcp_flag::syn | tcp_flag::ack));
  EXPECT_EQ(v->seq(), SeqNum{475741308u});
  EXPECT_EQ(v->ack(), SeqNum{3480812061u});
  EXPECT_EQ(v->window(), 65160);
  EXPECT_EQ(v->options().timestamps->tsecr, 2435053940u);
  EXPECT_TRUE(v->checksum_ok(kServer, kClient));
}

TEST(TcpView, ParsesCapturedSynWithoutTimestamps) {
  auto v = TcpView::parse(test::l4(test::kTcpSynNoTs));
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->header_length(), 32u);
  EXPECT_EQ(v->options().mss, 1460);
  EXPECT_TRUE(v->options().sack_permitted);
  EXPECT_EQ(v->options().wscale, 10);
  EXPECT_FALSE(v->options().timestamps.has_value());
  EXPECT_TRUE(v->checksum_ok(kClient, kServer));
}

TEST(TcpView, ParsesCapturedDataSegment) {
  auto v = TcpView::parse(test::l4(test::kTcpDataTs));
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->flags(), tcp_flag::psh | tcp_flag::ack);
  EXPECT_EQ(v->seq(), SeqNum{3480812061u});
  EXPECT_EQ(vec(v->payload()), (std::vector<uint8_t>{'h', 'e', 'l', 'l', 'o', '\n'}));
  EXPECT_EQ(v->options().timestamps->tsval, 2435053941u);
  EXPECT_FALSE(v->options().mss.has_value());
  EXPECT_TRUE(v->checksum_ok(kClient, kServer));
}

TEST(TcpView, ParsesCapturedSackBlocks) {
  auto v = TcpView::parse(test::l4(test::kTcpAckSack3));
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->ack(), SeqNum{1001});
  const TcpOptions& o = v->options();
  ASSERT_EQ(o.sack_count, 3);
  EXPECT_EQ(o.sack[0], (SackBlock{SeqNum{1301}, SeqNum{1351}}));
  EXPECT_EQ(o.sack[1], (SackBlock{SeqNum{1201}, SeqNum{1251}}));
  EXPECT_EQ(o.sack[2], (SackBlock{SeqNum{1101}, SeqNum{1151}}));
  EXPECT_EQ(o.sack_blocks().size(), 3u);
  EXPECT_EQ(o.timestamps->tsval, 2801978388u);
  EXPECT_EQ(o.timestamps->tsecr, 101u);
  EXPECT_TRUE(v->checksum_ok(kServer, kScapy));
}

TEST(TcpHeader, RoundTripsCapturedLinuxSegmentsByteExact) {
  for (std::span<const uint8_t> f :
       {std::span<const uint8_t>(test::kTcpSyn), std::span<const uint8_t>(test::kTcpSynAck),
        std::span<const uint8_t>(test::kTcpAckTs), std::span<const uint8_t>(test::kTcpDataTs),
        std::span<const uint8_t>(test::kTcpSynNoTs), std::span<const uint8_t>(test::kTcpSynAckNoTs),
        std::span<const uint8_t>(test::kTcpPureAck), std::span<const uint8_t>(test::kTcpAckSack1),
        std::span<const uint8_t>(test::kTcpAckSack2), std::span<const uint8_t>(test::kTcpAckSack3)}) {
    auto v = TcpView::parse(test::l4(f));
    ASSERT_TRUE(v.ok());
    auto h = TcpHeader::parse(test::l4(f));
    ASSERT_TRUE(h.ok());
    EXPECT_EQ(h->length(), v->header_length());
    EXPECT_EQ(emitted(*h), vec(test::l4(f).first(v->header_length())));
  }
}

TEST(TcpChecksum, MatchesCapturedSegments) {
  auto seg = bytes_of(test::l4(test::kTcpDataTs));
  const uint16_t captured = load_be16(seg.data() + 16);
  seg[16] = seg[17] = 0;
  EXPECT_EQ(tcp_checksum(kClient, kServer, seg), captured);
  EXPECT_EQ(TcpHeader::tcp_checksum(kClient, kServer, seg), captured);
  auto ack = bytes_of(test::l4(test::kTcpAckSack2));
  const uint16_t captured_ack = load_be16(ack.data() + 16);
  ack[16] = ack[17] = 0;
  EXPECT_EQ(tcp_checksum(kServer, kScapy, ack), captured_ack);
}

TEST(TcpView, ChecksumOkDetectsCorruption) {
  auto seg = bytes_of(test::l4(test::kTcpDataTs));
  seg.back() ^= 0x01;
  auto v = TcpView::parse(seg);
  ASSERT_TRUE(v.ok());
  EXPECT_FALSE(v->checksum_ok(kClient, kServer));
  EXPECT_FALSE(TcpView::parse(test::l4(test::kTcpDataTs))->checksum_ok(kClient, kScapy));
}

TEST(TcpView, ClampsWindowScaleAboveFourteen) {
  auto v = TcpView::parse(with_options({tcp_opt::wscale, 3, 15, tcp_opt::nop}));
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->options().wscale, kTcpMaxWindowShift);
}

TEST(TcpView, SkipsUnknownOptionsByLength) {
  auto v = TcpView::parse(with_options({30, 6, 0xaa, 0xbb, 0xcc, 0xdd, tcp_opt::mss, 4, 0x05, 0x78, 1, 1}));
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->options().mss, 1400);
}

TEST(TcpView, StopsAtEndOfOptionList) {
  auto v = TcpView::parse(with_options({tcp_opt::eol, tcp_opt::mss, 0, 0xff}));
  ASSERT_TRUE(v.ok());
  EXPECT_FALSE(v->options().mss.has_value());
}

TEST(TcpView, RejectsTruncatedHeader) {
  EXPECT_WIRE_ERROR(TcpView::parse(test::l4(test::kTcpPureAck).first(19)), Errc::truncated);
  EXPECT_WIRE_ERROR(TcpHeader::parse({}), Errc::truncated);
}

TEST(TcpView, RejectsDataOffsetBelowFive) {
  auto b = bytes_of(test::l4(test::kTcpPureAck));
  b[12] = 0x40;
  EXPECT_WIRE_ERROR(TcpView::parse(b), Errc::bad_header);
}

TEST(TcpView, RejectsDataOffsetBeyondData) {
  auto b = bytes_of(test::l4(test::kTcpSyn));
  EXPECT_WIRE_ERROR(TcpView::parse(std::span<const uint8_t>(b).first(36)), Errc::bad_header);
  b[12] = 0xf0;
  EXPECT_WIRE_ERROR(TcpView::parse(b), Errc::bad_header);
}

TEST(TcpView, RejectsWrongMssLength) {
  EXPECT_WIRE_ERROR(TcpView::parse(with_options({tcp_opt::mss, 3, 0x05, tcp_opt::nop})), Errc::bad_option);
  EXPECT_WIRE_ERROR(TcpView::parse(with_options({tcp_opt::mss, 6, 0x05, 0xb4, 0, 0, 1, 1})),
                    Errc::bad_option);
}

TEST(TcpView, RejectsWrongWindowScaleLength) {
  EXPECT_WIRE_ERROR(TcpView::parse(with_options({tcp_opt::wscale, 4, 7, 0})), Errc::bad_option);
}

TEST(TcpView, RejectsWrongSackPermittedLength) {
  EXPECT_WIRE_ERROR(TcpView::parse(with_options({tcp_opt::sack_permitted, 3, 0, 1})), Errc::bad_option);
}

TEST(TcpView, RejectsWrongTimestampsLength) {
  EXPECT_WIRE_ERROR(TcpView::parse(with_options({tcp_opt::timestamps, 8, 0, 0, 0, 1, 0, 0})),
                    Errc::bad_option);
}

TEST(TcpView, RejectsSackWithZeroBlocks) {
  EXPECT_WIRE_ERROR(TcpView::parse(with_options({1, 1, tcp_opt::sack, 2})), Errc::bad_option);
}

TEST(TcpView, RejectsSackWithFiveBlocks) {
  // 2 + 5 * 8 = 42 bytes cannot fit in the 40-byte option space.
  std::vector<uint8_t> b = bytes_of(test::l4(test::kTcpPureAck));
  b.push_back(tcp_opt::sack);
  b.push_back(42);
  b.resize(60, 0);
  b[12] = 0xf0;
  EXPECT_WIRE_ERROR(TcpView::parse(b), Errc::bad_option);
}

TEST(TcpView, RejectsSackLengthNotTwoPlusMultipleOfEight) {
  EXPECT_WIRE_ERROR(TcpView::parse(with_options({1, 1, tcp_opt::sack, 6, 0, 0, 0, 1})), Errc::bad_option);
  EXPECT_WIRE_ERROR(TcpView::parse(with_options({tcp_opt::sack, 11, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0})),
                    Errc::bad_option);
}

TEST(TcpView, RejectsOptionLengthZeroOrOne) {
  EXPECT_WIRE_ERROR(TcpView::parse(with_options({30, 0, 0, 0})), Errc::bad_option);
  EXPECT_WIRE_ERROR(TcpView::parse(with_options({30, 1, 0, 0})), Errc::bad_option);
}

TEST(TcpView, RejectsOptionOverrunningHeader) {
  EXPECT_WIRE_ERROR(TcpView::parse(with_options({1, 30, 4, 0})), Errc::bad_option);
  EXPECT_WIRE_ERROR(TcpView::parse(with_options({1, 1, tcp_opt::timestamps, 10, 0, 0, 0, 1})),
                    Errc::bad_option);
}

TEST(TcpView, RejectsOptionWithoutLengthByte) {
  EXPECT_WIRE_ERROR(TcpView::parse(with_options({1, 1, 1, tcp_opt::mss})), Errc::bad_option);
}

TcpOptions syn_options(bool ts, bool sack_perm) {
  TcpOptions o;
  o.mss = 1460;
  o.wscale = 7;
  o.sack_permitted = sack_perm;
  if (ts) o.timestamps = TcpTimestamps{0x01020304, 0};
  return o;
}

TEST(TcpOptions, EmitsLinuxSynLayouts) {
  EXPECT_EQ(emitted(syn_options(true, true)),
            (std::vector<uint8_t>{2, 4, 0x05, 0xb4, 4, 2, 8, 10, 1, 2, 3, 4, 0, 0, 0, 0, 1, 3, 3, 7}));
  EXPECT_EQ(emitted(syn_options(false, true)),
            (std::vector<uint8_t>{2, 4, 0x05, 0xb4, 1, 1, 4, 2, 1, 3, 3, 7}));
  EXPECT_EQ(emitted(syn_options(true, false)),
            (std::vector<uint8_t>{2, 4, 0x05, 0xb4, 1, 1, 8, 10, 1, 2, 3, 4, 0, 0, 0, 0, 1, 3, 3, 7}));
  EXPECT_EQ(emitted(syn_options(false, false)), (std::vector<uint8_t>{2, 4, 0x05, 0xb4, 1, 3, 3, 7}));
}

TEST(TcpOptions, EmitsSackAfterTimestamps) {
  TcpOptions o;
  o.timestamps = TcpTimestamps{5, 6};
  o.sack_count = 1;
  o.sack[0] = SackBlock{SeqNum{0x10}, SeqNum{0x20}};
  EXPECT_EQ(emitted(o), (std::vector<uint8_t>{1, 1, 8, 10, 0, 0, 0, 5,    0, 0, 0, 6,
                                              1, 1, 5, 10, 0, 0, 0, 0x10, 0, 0, 0, 0x20}));
}

TEST(TcpOptions, DropsSackBlocksThatDoNotFit) {
  TcpOptions o;
  o.sack_count = 4;
  for (uint32_t i = 0; i < 4; ++i) o.sack[i] = SackBlock{SeqNum{i * 100}, SeqNum{i * 100 + 50}};
  EXPECT_EQ(o.emitted_sack_blocks(), 4u);
  EXPECT_EQ(o.length(), 36u);
  o.timestamps = TcpTimestamps{1, 2};
  EXPECT_EQ(o.emitted_sack_blocks(), 3u);
  EXPECT_EQ(o.length(), 40u);
  o.wscale = 2;
  EXPECT_EQ(o.emitted_sack_blocks(), 2u);
  EXPECT_EQ(o.length(), 36u);
  o.mss = 536;
  EXPECT_EQ(o.emitted_sack_blocks(), 2u);
  EXPECT_EQ(o.length(), 40u);
  TcpHeader h;
  h.options = o;
  auto back = TcpView::parse(emitted(h));
  ASSERT_TRUE(back.ok());
  ASSERT_EQ(back->options().sack_count, 2);
  EXPECT_EQ(back->options().sack[0], o.sack[0]) << "the first (most recent) blocks are kept";
  EXPECT_EQ(back->options().sack[1], o.sack[1]);
}

TEST(TcpHeader, LengthAgreesWithEmitForEveryOptionMix) {
  for (int mask = 0; mask < 16; ++mask) {
    for (uint8_t n = 0; n <= 4; ++n) {
      TcpHeader h;
      h.flags = tcp_flag::ack;
      if (mask & 1) h.options.mss = 1200;
      if (mask & 2) h.options.wscale = 3;
      if (mask & 4) h.options.sack_permitted = true;
      if (mask & 8) h.options.timestamps = TcpTimestamps{7, 8};
      h.options.sack_count = n;
      const auto out = emitted(h);
      ASSERT_EQ(out.size(), h.length()) << "mask " << mask << " blocks " << int{n};
      EXPECT_EQ(out.size() % 4, 0u);
      EXPECT_LE(out.size(), kTcpMaxHeaderLen);
      auto v = TcpView::parse(out);
      ASSERT_TRUE(v.ok());
      EXPECT_EQ(v->header_length(), h.length());
      EXPECT_EQ(v->options().mss, h.options.mss);
      EXPECT_EQ(v->options().wscale, h.options.wscale);
      EXPECT_EQ(v->options().sack_permitted, h.options.sack_permitted);
      EXPECT_EQ(v->options().timestamps, h.options.timestamps);
      EXPECT_EQ(v->options().sack_count, h.options.emitted_sack_blocks());
    }
  }
}

TEST(TcpOptions, EqualityIgnoresUnusedSackEntries) {
  TcpOptions a;
  a.sack_count = 1;
  a.sack[0] = SackBlock{SeqNum{1}, SeqNum{2}};
  TcpOptions b = a;
  b.sack[3] = SackBlock{SeqNum{9}, SeqNum{10}};
  EXPECT_EQ(a, b);
  b.sack_count = 2;
  EXPECT_NE(a, b);
}

TEST(TcpHeader, EmitsFieldsAndZeroReservedBits) {
  TcpHeader h{443, 51000, SeqNum{0xfffffff0}, SeqNum{7}, tcp_flag::fin | tcp_flag::ack, 1024, 0xbeef, 3, {}};
  const auto out = emitted(h);
  ASSERT_EQ(out.size(), 20u);
  EXPECT_EQ(out[12], 0x50);
  auto back = TcpHeader::parse(out);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, h);
}

}  // namespace
}  // namespace tern::wire

namespace tern::wire {
namespace {

// RFC 7413 §4.1.1: the Fast Open option, as Linux writes it (NOP NOP 34 len cookie).
TEST(TcpFastOpen, ParsesCookieRequestAndCookie) {
  auto req = TcpView::parse(with_options({0x01, 0x01, 0x22, 0x02}));
  ASSERT_TRUE(req.ok());
  ASSERT_TRUE(req->options().fastopen.has_value());
  EXPECT_EQ(req->options().fastopen->len, 0u);
  auto c = TcpView::parse(with_options({0x01, 0x01, 0x22, 0x0a, 1, 2, 3, 4, 5, 6, 7, 8}));
  ASSERT_TRUE(c.ok());
  ASSERT_TRUE(c->options().fastopen.has_value());
  EXPECT_EQ(bytes_of(c->options().fastopen->cookie()), (std::vector<uint8_t>{1, 2, 3, 4, 5, 6, 7, 8}));
}

TEST(TcpFastOpen, MalformedLengthsAreIgnoredNotRejected) {
  // Lengths 3..5 and 19+ are outside 2 / 6..18: the option is ignored (RFC 7413 §4.1.1 MUST).
  auto three = TcpView::parse(with_options({0x22, 0x03, 0x00, 0x01}));
  ASSERT_TRUE(three.ok());
  EXPECT_FALSE(three->options().fastopen.has_value());
  auto nineteen = TcpView::parse(
      with_options({0x22, 0x13, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 0x00}));
  ASSERT_TRUE(nineteen.ok());
  EXPECT_FALSE(nineteen->options().fastopen.has_value());
  // A length running past the header is a broken option list (the usual RFC 9293 §3.2 rule).
  EXPECT_FALSE(TcpView::parse(with_options({0x01, 0x01, 0x22, 0x0a, 1, 2, 3, 4})).ok());
}

TEST(TcpFastOpen, EmitsAlignedAndRoundTrips) {
  TcpOptions o;
  o.mss = 1460;
  o.fastopen = FastOpenCookie{};
  std::vector<uint8_t> out(o.length());
  ASSERT_EQ(o.emit(out), 8u);
  EXPECT_EQ(out, (std::vector<uint8_t>{0x02, 0x04, 0x05, 0xb4, 0x01, 0x01, 0x22, 0x02}));
  FastOpenCookie c;
  c.len = 8;
  for (uint8_t i = 0; i < 8; ++i) c.bytes[i] = static_cast<uint8_t>(0xa0 + i);
  o.fastopen = c;
  out.assign(o.length(), 0);
  ASSERT_EQ(o.emit(out), 16u);
  EXPECT_EQ(std::vector<uint8_t>(out.begin() + 4, out.end()),
            (std::vector<uint8_t>{0x01, 0x01, 0x22, 0x0a, 0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7}));
  // An odd-sized cookie is padded in front to keep the next option aligned.
  c.len = 5;
  o.fastopen = c;
  out.assign(o.length(), 0);
  ASSERT_EQ(o.emit(out), 12u);
  EXPECT_EQ(std::vector<uint8_t>(out.begin() + 4, out.end()),
            (std::vector<uint8_t>{0x01, 0x22, 0x07, 0xa0, 0xa1, 0xa2, 0xa3, 0xa4}));
  // Every SYN option at once still fits the 40 bytes (16-byte cookie).
  o.timestamps = TcpTimestamps{1, 0};
  o.sack_permitted = true;
  o.wscale = 7;
  c.len = 16;
  o.fastopen = c;
  EXPECT_EQ(o.length(), 40u);
  TcpHeader h;
  h.flags = tcp_flag::syn;
  h.options = o;
  std::vector<uint8_t> seg(h.length());
  h.emit(seg);
  auto back = TcpView::parse(seg);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->options(), o);
}

}  // namespace
}  // namespace tern::wire
