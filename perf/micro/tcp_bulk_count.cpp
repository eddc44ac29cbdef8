// Fixed-size bulk TCP transfer for callgrind (issue 11): two Cores in one thread over a
// PairWire (no NIC offloads: every checksum in software unless trusted), one connection
// moving MIB mebibytes one way. The application's work (send_copy filling the send buffer,
// zero-copy recv and free) runs outside bulk_poll(), the only caller of both cores' poll:
// callgrind's --toggle-collect='bulk_poll(*' counts the stack alone, sender and receiver.
// Instructions for 2N MiB minus those for N, divided by N MiB, is the stack's cost per byte.
//   tern-tcp-bulk-count [MIB] [MODE]   MODE: default (GSO+GRO, software checksums),
//                                            plain (one segment at a time, no GRO), trusted
#include <rte_eal.h>
#include <rte_mbuf.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "bench_util.hpp"
#include "tern/drivers/pair_wire.hpp"
#include "tern/stack/core.hpp"
#include "tern/tcp/tcp.hpp"

__attribute__((noinline)) uint32_t bulk_poll(tern::Core& core, uint64_t now) { return core.poll(now); }

namespace {

using namespace tern;

const wire::MacAddr kMacA{{0x02, 0, 0, 0, 0, 0x0a}};
const wire::MacAddr kMacB{{0x02, 0, 0, 0, 0, 0x0b}};
const wire::Ipv4Addr kIpA = wire::Ipv4Addr::from_octets(198, 18, 0, 1);
const wire::Ipv4Addr kIpB = wire::Ipv4Addr::from_octets(198, 18, 0, 2);

CoreParams params(Port& port, wire::Ipv4Addr ip, rte_mempool* pool, const std::string& mode) {
  CoreParams p = perf::host_params(port, ip, pool);
  p.tcp.socket.send_buffer = 1 << 20;
  p.tcp.socket.recv_buffer = 1 << 20;
#if __has_include("tern/l3/gro.hpp")  // built at a commit with the offloads (issue 11)
  p.interfaces[0].params.gso = mode != "plain";
  p.interfaces[0].params.gro = mode != "plain";
  if (mode == "trusted") p.interfaces[0].params.checksum = ChecksumMode::trusted;
#else
  (void)mode;
#endif
  return p;
}

}  // namespace

int main(int argc, char** argv) {
  const uint64_t mib = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 64;
  const std::string mode = argc > 2 ? argv[2] : "default";
  perf::start_eal("tern-bulk", 512);
  rte_mempool* pool = rte_pktmbuf_pool_create("bulk_pool", 16383, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE, 0);
  if (pool == nullptr) return 1;
  const uint64_t total = mib << 20;
  uint64_t got = 0, rtx = 0;
  bool bad = false;
  {
    drivers::PairWire wire(perf::plain_caps(kMacA), perf::plain_caps(kMacB), 8192);
    Core a(params(wire.a(), kIpA, pool, mode));
    Core b(params(wire.b(), kIpB, pool, mode));
    uint64_t now = 1000ull * 1'000'000'000;
    a.start(now);
    b.start(now);
    a.interface(0).neighbours().learn(kIpB, kMacB, true, now);
    b.interface(0).neighbours().learn(kIpA, kMacA, true, now);
    auto l = b.tcp().listen(9);
    auto c = a.tcp().connect(tcp::Endpoint{kIpB, 9});
    if (!l || !c) return 1;
    tcp::Connection* rx = nullptr;
    std::vector<uint8_t> chunk(64 * 1024);
    for (size_t i = 0; i < chunk.size(); ++i) chunk[i] = static_cast<uint8_t>(i * 7);
    uint64_t sent = 0;
    for (uint64_t turn = 0; got < total && turn < 100'000'000; ++turn) {
      now += 20'000;  // 20 us of fake time per turn
      bulk_poll(a, now);
      bulk_poll(b, now);
      if (rx == nullptr) rx = (*l)->accept();
      while (sent < total && (*c)->send_space() > 0) {
        const size_t n = std::min<uint64_t>({chunk.size(), total - sent, (*c)->send_space()});
        auto r = (*c)->send_copy(std::span<const uint8_t>(chunk.data(), n));
        if (!r || *r == 0) break;
        sent += *r;
      }
      Packet p;
      while (rx != nullptr && rx->recv(p)) {
        got += p.length();
        p.reset();
      }
    }
    bad = got != total;
    rtx = a.tcp().stats().retrans_segs + b.tcp().stats().retrans_segs;
    (*c)->abort();
    if (rx != nullptr) rx->abort();
    (*l)->close();
    for (int i = 0; i < 4; ++i) {
      a.poll(now += 1'000'000);
      b.poll(now += 1'000'000);
    }
  }
  const unsigned leaked = pool->size - rte_mempool_avail_count(pool);
  std::printf("bulk %s: %lu MiB received, retransmissions %lu, mbufs leaked %u\n", mode.c_str(),
              static_cast<unsigned long>(got >> 20), static_cast<unsigned long>(rtx), leaked);
  rte_mempool_free(pool);
  rte_eal_cleanup();
  return !bad && leaked == 0 ? 0 : 1;
}
