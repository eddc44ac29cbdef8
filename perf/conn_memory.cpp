// tern-conn-memory: memory per established idle TCP connection at scale.
// Two tern Cores in one process, joined by a PairWire; the client core opens
// N connections to the server core (spread over several listening ports, as
// the ephemeral range holds 16,384 ports per destination), everything is
// polled until idle, then heap (glibc mallinfo2), process RSS and mbufs in use
// are compared with the empty state. Prints one JSON line (perf/run.sh).
//   tern-conn-memory [N]      (default 100000)
#include <malloc.h>
#include <rte_eal.h>
#include <rte_mempool.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "micro/bench_util.hpp"
#include "tern/drivers/pair_wire.hpp"
#include "tern/stack/core.hpp"
#include "tern/tcp/tcp.hpp"

namespace {

using namespace tern;

const wire::MacAddr kMacC{{0x02, 0, 0, 0, 0, 0x0c}};
const wire::MacAddr kMacS{{0x02, 0, 0, 0, 0, 0x05}};
const wire::Ipv4Addr kIpC = wire::Ipv4Addr::from_octets(198, 18, 0, 1);
const wire::Ipv4Addr kIpS = wire::Ipv4Addr::from_octets(198, 18, 0, 2);

[[noreturn]] void fail(const std::string& why) {
  std::fprintf(stderr, "tern-conn-memory: %s\n", why.c_str());
  std::exit(1);
}

size_t rss_bytes() {
  std::ifstream f("/proc/self/statm");
  size_t pages = 0, resident = 0;
  f >> pages >> resident;
  return resident * static_cast<size_t>(sysconf(_SC_PAGESIZE));
}

}  // namespace

int main(int argc, char** argv) {
  const long n_arg = argc > 1 ? std::atol(argv[1]) : 100000;
  if (n_arg < 1 || n_arg > 1'000'000) fail("N must be 1..1000000 connections");
  const uint32_t n = static_cast<uint32_t>(n_arg);
  perf::start_eal("tern-conn-memory", 1024);
  rte_mempool* pool = rte_pktmbuf_pool_create("connmem", 65535, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE, 0);
  if (pool == nullptr) fail("cannot create the mbuf pool (EAL memory: -m)");
  uint64_t heap_per = 0, rss_per = 0;
  unsigned mbufs_held = 0;
  size_t est_c = 0, est_s = 0;
  {
    drivers::PairWire wire(perf::plain_caps(kMacC), perf::plain_caps(kMacS), 65536);
    CoreParams pc = perf::host_params(wire.a(), kIpC, pool), ps = perf::host_params(wire.b(), kIpS, pool);
    pc.tcp.max_connections = ps.tcp.max_connections = n + 1024;
    Core client(std::move(pc));
    Core server(std::move(ps));
    uint64_t now = 1'000'000'000;
    client.start(now);
    server.start(now);
    client.interface(0).neighbours().learn(kIpS, kMacS, true, now);
    server.interface(0).neighbours().learn(kIpC, kMacC, true, now);
    const uint32_t per_port = 16000, ports = (n + per_port - 1) / per_port;
    std::vector<tcp::Listener*> ls;
    for (uint32_t i = 0; i < ports; ++i) {
      auto l = server.tcp().listen(static_cast<uint16_t>(1000 + i), tcp::ListenOptions{65535, {}});
      if (!l) fail("listen failed");
      ls.push_back(*l);
    }
    auto poll = [&](int turns) {
      for (int i = 0; i < turns; ++i) {
        now += 100'000;
        client.poll(now);
        server.poll(now);
        for (auto* l : ls) {
          while (l->accept() != nullptr) {
          }
        }
      }
    };
    poll(2);
    const unsigned in_use0 = rte_mempool_in_use_count(pool);
    const size_t heap0 = mallinfo2().uordblks, rss0 = rss_bytes();
    for (uint32_t i = 0; i < n; ++i) {
      auto c = client.tcp().connect(tcp::Endpoint{kIpS, static_cast<uint16_t>(1000 + i / per_port)});
      if (!c) fail("connect " + std::to_string(i) + ": " + std::string(c.error().reason));
      if (i % 32 == 31) poll(1);
    }
    for (int i = 0; i < 200000 && server.tcp().connections() < n; ++i) poll(1);
    poll(2000);  // delayed ACKs and the rest settle: idle
    est_c = client.tcp().connections();
    est_s = server.tcp().connections();
    if (est_s != n || est_c != n)
      fail("only " + std::to_string(est_s) + " server / " + std::to_string(est_c) +
           " client connections of " + std::to_string(n));
    const size_t heap1 = mallinfo2().uordblks, rss1 = rss_bytes();
    mbufs_held = rte_mempool_in_use_count(pool) - in_use0;
    heap_per = (heap1 - heap0) / (2 * uint64_t{n});  // both halves live in this process
    rss_per = (rss1 > rss0 ? rss1 - rss0 : 0) / (2 * uint64_t{n});
    client.tcp().abort_all();
    server.tcp().abort_all();
    poll(10);
  }
  std::printf(
      "{\"connections\":%u,\"server_connections\":%zu,\"client_connections\":%zu,\"heap_bytes_per_"
      "connection\":%lu,"
      "\"rss_bytes_per_connection\":%lu,\"mbufs_held\":%u,\"sizeof_connection\":%zu}\n",
      n, est_s, est_c, heap_per, rss_per, mbufs_held, tcp::Tcp::connection_size());
  rte_eal_cleanup();
  return 0;
}
