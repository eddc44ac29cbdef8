// Micro paths of the wire layer: the Internet checksum (full and RFC 1624
// incremental), the parser of every header in lib/wire, Toeplitz hashing.
// Every parse benchmark checks once that its input parses (a benchmark of an
// error path by mistake would look fast), and the incremental checksum ones
// check after the loop that the header still sums correctly.
#include <benchmark/benchmark.h>

#include <array>
#include <vector>

#include "bench_util.hpp"
#include "tern/base/byteorder.hpp"
#include "tern/base/checksum.hpp"
#include "tern/wire/arp.hpp"
#include "tern/wire/ethernet.hpp"
#include "tern/wire/icmp.hpp"
#include "tern/wire/ipv4.hpp"
#include "tern/wire/tcp.hpp"
#include "tern/wire/toeplitz.hpp"
#include "tern/wire/udp.hpp"

namespace {

using tern::perf::require;
namespace wire = tern::wire;

// A valid 20-byte IPv4 header (TCP, 198.18.0.1 -> 198.18.0.2) followed by 40 more bytes.
std::array<uint8_t, 60> ipv4_datagram() {
  std::array<uint8_t, 60> d{};
  wire::Ipv4Header ih;
  ih.total_length = 60;
  ih.id = 0x1c46;
  ih.df = true;
  ih.protocol = wire::ip_proto::tcp;
  ih.src = wire::Ipv4Addr::from_octets(198, 18, 0, 1);
  ih.dst = wire::Ipv4Addr::from_octets(198, 18, 0, 2);
  ih.emit(d);
  return d;
}

// ---- checksum --------------------------------------------------------------

void BM_Checksum(benchmark::State& st) {
  std::vector<uint8_t> data(static_cast<size_t>(st.range(0)));
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<uint8_t>(i);
  for (auto _ : st) {
    benchmark::DoNotOptimize(data.data());
    benchmark::DoNotOptimize(tern::internet_checksum(data));
  }
  st.SetBytesProcessed(static_cast<int64_t>(st.iterations()) * st.range(0));
  st.SetItemsProcessed(static_cast<int64_t>(st.iterations()));
}
BENCHMARK(BM_Checksum)->Arg(20)->Arg(64)->Arg(1500)->Arg(9000);

// RFC 1624 as forwarding uses it (Ipv4::forward): decrement the TTL and update the header checksum.
void BM_ChecksumUpdateTtl(benchmark::State& st) {
  auto d = ipv4_datagram();
  uint8_t* h = d.data();
  require(tern::checksum_valid({h, 20}), "the IPv4 header's checksum is not valid");
  for (auto _ : st) {
    benchmark::DoNotOptimize(h);
    uint16_t old_word = tern::load_be16(h + 8);
    --h[8];
    tern::store_be16(h + 10,
                     tern::checksum_update16(tern::load_be16(h + 10), old_word, tern::load_be16(h + 8)));
    benchmark::ClobberMemory();
  }
  require(tern::checksum_valid({h, 20}), "the incrementally updated IPv4 checksum is wrong");
  st.SetItemsProcessed(static_cast<int64_t>(st.iterations()));
}
BENCHMARK(BM_ChecksumUpdateTtl);

// RFC 1624 for a 32-bit field: rewrite the source address (what a NAT does).
void BM_ChecksumUpdateAddr(benchmark::State& st) {
  auto d = ipv4_datagram();
  uint8_t* h = d.data();
  for (auto _ : st) {
    benchmark::DoNotOptimize(h);
    uint32_t old_addr = tern::load_be32(h + 12);
    tern::store_be32(h + 12, old_addr + 1);
    tern::store_be16(h + 10, tern::checksum_update32(tern::load_be16(h + 10), old_addr, old_addr + 1));
    benchmark::ClobberMemory();
  }
  require(tern::checksum_valid({h, 20}), "the incrementally updated IPv4 checksum is wrong");
  st.SetItemsProcessed(static_cast<int64_t>(st.iterations()));
}
BENCHMARK(BM_ChecksumUpdateAddr);

// ---- parsers ---------------------------------------------------------------

// Parse @p bytes with @p parse every iteration; the input must parse.
template <typename Parse>
void parse_loop(benchmark::State& st, std::span<const uint8_t> bytes, Parse parse) {
  require(parse(bytes), "the benchmark's input does not parse");
  for (auto _ : st) {
    benchmark::DoNotOptimize(bytes);
    benchmark::DoNotOptimize(parse(bytes));
  }
  st.SetItemsProcessed(static_cast<int64_t>(st.iterations()));
}

void BM_EthernetParse(benchmark::State& st) {
  std::array<uint8_t, 60> f{};
  wire::EthernetHeader eh{
      wire::MacAddr{{2, 0, 0, 0, 0, 1}}, wire::MacAddr{{2, 0, 0, 0, 0, 2}}, wire::ethertype::ipv4, {}};
  if (st.range(0) != 0) eh.vlan_tci = 0x0064;
  eh.emit(f);
  parse_loop(st, f, [](std::span<const uint8_t> b) {
    auto v = wire::EthernetView::parse(b);
    return v.ok() && v->ethertype() == wire::ethertype::ipv4;
  });
}
BENCHMARK(BM_EthernetParse)->ArgName("vlan")->Arg(0)->Arg(1);

void BM_ArpParse(benchmark::State& st) {
  std::array<uint8_t, 28> a{};
  wire::ArpPacket p{wire::arp_op::request, wire::MacAddr{{2, 0, 0, 0, 0, 1}},
                    wire::Ipv4Addr::from_octets(198, 18, 0, 1), wire::MacAddr{},
                    wire::Ipv4Addr::from_octets(198, 18, 0, 2)};
  p.emit(a);
  parse_loop(st, a, [](std::span<const uint8_t> b) {
    auto v = wire::ArpView::parse(b);
    return v.ok() && v->op() == wire::arp_op::request;
  });
}
BENCHMARK(BM_ArpParse);

void BM_Ipv4Parse(benchmark::State& st) {
  auto d = ipv4_datagram();
  parse_loop(st, d, [](std::span<const uint8_t> b) { return wire::Ipv4View::parse(b).ok(); });
}
BENCHMARK(BM_Ipv4Parse);

// What IPv4 input does without a NIC: parse and verify the header checksum.
void BM_Ipv4ParseChecksum(benchmark::State& st) {
  auto d = ipv4_datagram();
  parse_loop(st, d, [](std::span<const uint8_t> b) {
    auto v = wire::Ipv4View::parse(b);
    return v.ok() && v->checksum_ok();
  });
}
BENCHMARK(BM_Ipv4ParseChecksum);

void BM_IcmpParse(benchmark::State& st) {
  std::array<uint8_t, 64> m{};  // an echo request with 56 bytes of data, like ping's
  for (size_t i = 8; i < m.size(); ++i) m[i] = static_cast<uint8_t>(i);
  wire::IcmpHeader ih{wire::icmp_type::echo_request, 0, 0, 0x12340001};
  ih.emit(m);
  tern::store_be16(m.data() + 2, wire::IcmpHeader::compute_checksum(m));
  parse_loop(st, m, [](std::span<const uint8_t> b) {
    auto v = wire::IcmpView::parse(b);
    return v.ok() && v->type() == wire::icmp_type::echo_request;
  });
}
BENCHMARK(BM_IcmpParse);

void BM_UdpParse(benchmark::State& st) {
  std::array<uint8_t, 8 + 64> d{};
  wire::UdpHeader uh{4000, 7, static_cast<uint16_t>(d.size()), 0};
  uh.emit(d);
  parse_loop(st, d, [](std::span<const uint8_t> b) {
    auto v = wire::UdpView::parse(b);
    return v.ok() && v->payload().size() == 64;
  });
}
BENCHMARK(BM_UdpParse);

void BM_TcpParseWithOptions(benchmark::State& st) {
  // A Linux SYN: MSS, SACK-permitted, timestamps, window scale.
  std::array<uint8_t, 40> seg{0xa3, 0x2e, 0x00, 0x50, 0x5b, 0x2b, 0x35, 0x2a, 0x00, 0x00,
                              0x00, 0x00, 0xa0, 0x02, 0xfa, 0xf0, 0x00, 0x00, 0x00, 0x00,
                              0x02, 0x04, 0x05, 0xb4, 0x04, 0x02, 0x08, 0x0a, 0x00, 0x01,
                              0x02, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01, 0x03, 0x03, 0x07};
  parse_loop(st, seg, [](std::span<const uint8_t> b) {
    auto v = wire::TcpView::parse(b);
    return v.ok() && v->options().mss.has_value() && v->options().timestamps.has_value();
  });
}
BENCHMARK(BM_TcpParseWithOptions);

// An established-state data segment: NOP NOP timestamps, 64 bytes of payload.
void BM_TcpParseTimestamps(benchmark::State& st) {
  wire::TcpHeader th;
  th.src_port = 40000;
  th.dst_port = 80;
  th.seq = wire::SeqNum{1000};
  th.ack = wire::SeqNum{2000};
  th.flags = wire::tcp_flag::ack | wire::tcp_flag::psh;
  th.window = 512;
  th.options.timestamps = wire::TcpTimestamps{123456, 654321};
  std::vector<uint8_t> seg(th.length() + 64, 0x5a);
  th.emit(seg);
  parse_loop(st, seg, [](std::span<const uint8_t> b) {
    auto v = wire::TcpView::parse(b);
    return v.ok() && v->options().timestamps.has_value() && v->payload().size() == 64;
  });
}
BENCHMARK(BM_TcpParseTimestamps);

// ---- RSS -------------------------------------------------------------------

void BM_ToeplitzIpv4L4(benchmark::State& st) {
  wire::Ipv4Addr a{0x420995bb}, b{0xa18e6450};
  uint16_t p = 1000;
  for (auto _ : st) benchmark::DoNotOptimize(wire::toeplitz_ipv4_l4(wire::kSymmetricRssKey, a, b, p++, 80));
  st.SetItemsProcessed(static_cast<int64_t>(st.iterations()));
}
BENCHMARK(BM_ToeplitzIpv4L4);

}  // namespace
