#include "bench_util.hpp"

#include <rte_eal.h>
#include <rte_mbuf.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "tern/base/byteorder.hpp"
#include "tern/wire/ethernet.hpp"
#include "tern/wire/ipv4.hpp"

namespace tern::perf {

void fail(const char* what) {
  std::fprintf(stderr, "benchmark fixture failed: %s\n", what);
  std::abort();
}

void start_eal(const char* name, int mem_mb) {
  std::string prefix = "--file-prefix=" + std::string(name) + "-" + std::to_string(getpid());
  std::string mem = std::to_string(mem_mb);
  const char* eal[] = {name,
                       "--no-huge",
                       "-m",
                       mem.c_str(),
                       "--no-pci",
                       "--no-telemetry",
                       "--log-level=lib.eal:error",
                       prefix.c_str(),
                       "-l",
                       "0"};
  require(rte_eal_init(sizeof(eal) / sizeof(eal[0]), const_cast<char**>(eal)) >= 0,
          "rte_eal_init failed (see the EAL's message above)");
}

PortCaps plain_caps(const wire::MacAddr& mac) {
  PortCaps c;
  c.mac = mac.b;
  c.mtu = 1500;
  return c;
}

CoreParams host_params(Port& port, wire::Ipv4Addr ip, rte_mempool* pool) {
  CoreParams p;
  p.pool = pool;
  CoreInterface ci;
  ci.port = &port;
  ci.params.name = "if0";
  ci.params.address = wire::Ipv4Prefix{ip, 24};
  ci.params.gratuitous_arp = false;
  p.interfaces.push_back(ci);
  return p;
}

rte_mempool* micro_pool() {
  static rte_mempool* pool = [] {
    rte_mempool* p = rte_mempool_lookup("micro_pool");
    if (p == nullptr) p = rte_pktmbuf_pool_create("micro_pool", 16383, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE, 0);
    require(p != nullptr, "cannot create the mbuf pool micro_pool");
    return p;
  }();
  return pool;
}

std::vector<uint8_t> tcp_frame(const FrameEnds& e, const wire::TcpHeader& th,
                               std::span<const uint8_t> payload, uint16_t ip_id) {
  const size_t l2l3 = wire::kEthernetHeaderLen + wire::kIpv4MinHeaderLen;
  const size_t hlen = th.length();
  std::vector<uint8_t> f(l2l3 + hlen + payload.size());
  std::span<uint8_t> seg = std::span<uint8_t>(f).subspan(l2l3);
  th.emit(seg);
  std::copy(payload.begin(), payload.end(), seg.begin() + static_cast<ptrdiff_t>(hlen));
  store_be16(seg.data() + 16, 0);
  store_be16(seg.data() + 16, wire::tcp_checksum(e.src, e.dst, seg));
  wire::EthernetHeader eh{e.dst_mac, e.src_mac, wire::ethertype::ipv4, {}};
  eh.emit(f);
  wire::Ipv4Header ih;
  ih.total_length = static_cast<uint16_t>(wire::kIpv4MinHeaderLen + seg.size());
  ih.id = ip_id;
  ih.df = true;
  ih.protocol = wire::ip_proto::tcp;
  ih.src = e.src;
  ih.dst = e.dst;
  ih.emit(std::span<uint8_t>(f).subspan(wire::kEthernetHeaderLen));
  if (f.size() < wire::kEthernetMinFrame) f.resize(wire::kEthernetMinFrame, 0);
  return f;
}

}  // namespace tern::perf
