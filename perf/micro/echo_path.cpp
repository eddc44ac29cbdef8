#include "echo_path.hpp"

#include "bench_util.hpp"
#include "tern/wire/ethernet.hpp"
#include "tern/wire/ipv4.hpp"
#include "tern/wire/udp.hpp"

namespace tern::perf {

namespace {
std::vector<uint8_t> udp_frame(const PortCaps& dut, size_t payload) {
  std::vector<uint8_t> f(14 + 20 + 8 + payload, 0xab);
  wire::EthernetHeader eh{
      wire::MacAddr{dut.mac}, wire::MacAddr{{2, 0, 0, 0, 0, 1}}, wire::ethertype::ipv4, {}};
  eh.emit(f);
  wire::Ipv4Header ih{};
  ih.total_length = static_cast<uint16_t>(20 + 8 + payload);
  ih.protocol = wire::ip_proto::udp;
  ih.src = *wire::Ipv4Addr::parse("198.18.0.1");
  ih.dst = *wire::Ipv4Addr::parse("198.18.0.2");
  ih.emit({f.data() + 14, 20});
  wire::UdpHeader uh{4000, 7, static_cast<uint16_t>(8 + payload), 0};
  uh.emit({f.data() + 34, 8});
  uint16_t c = wire::udp_checksum(ih.src, ih.dst, {f.data() + 34, 8 + payload});
  f[40] = static_cast<uint8_t>(c >> 8);
  f[41] = static_cast<uint8_t>(c);
  return f;
}
}  // namespace

EchoPath::EchoPath(size_t payload) {
  pool_ = rte_mempool_lookup("bench_pool");
  if (pool_ == nullptr)
    pool_ = rte_pktmbuf_pool_create("bench_pool", 8191, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE, 0);
  caps_a_.mac = {2, 0, 0, 0, 0, 2};
  caps_b_.mac = {2, 0, 0, 0, 0, 1};
  wire_ = std::make_unique<drivers::PairWire>(caps_a_, caps_b_, 4096);
  core_ = std::make_unique<Core>(host_params(wire_->a(), *wire::Ipv4Addr::parse("198.18.0.2"), pool_));
  auto sock = core_->udp().bind(7);
  (*sock)->on_readable([](udp::Socket& s) {
    udp::Datagram d;
    while (s.recv(d)) (void)s.send(d.from, std::move(d.payload));  // zero copy
  });
  // The peer's MAC is known, so replies do not wait for ARP.
  core_->interface(0).neighbours().learn(*wire::Ipv4Addr::parse("198.18.0.1"), wire::MacAddr{caps_b_.mac},
                                         true, 1);
  frame_ = udp_frame(caps_a_, payload);
}

void EchoPath::run(int bursts) {
  for (int b = 0; b < bursts; ++b) {
    rte_mbuf* in[kBurst];
    for (int i = 0; i < kBurst; ++i) in[i] = Packet::copy_from(pool_, frame_).release();
    wire_->b().tx_burst(0, in, kBurst);
    core_->poll(now_ += 1000);
    rte_mbuf* out[kBurst];
    uint16_t n = wire_->b().rx_burst(0, out, kBurst);
    replies_ += n;
    rte_pktmbuf_free_bulk(out, n);
  }
}

}  // namespace tern::perf
