// A UDP echo server embedding tern (docs/embedding.md). Build against an
// installed tern:  c++ -std=c++20 embed_udp_echo.cpp $(pkg-config --cflags --libs libtern)
// Run as root:     ./a.out net_tap0,iface=tern0 198.18.0.2/24 [seconds]
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <cstdlib>

#include "tern/api/net.hpp"
#include "tern/drivers/dpdk_port.hpp"
#include "tern/stack/stack.hpp"

static std::atomic<bool> stop{false};

int main(int argc, char** argv) {
  if (argc < 3) return std::fprintf(stderr, "usage: %s DEVARGS A.B.C.D/N [SECONDS]\n", argv[0]), 2;
  tern::config::StackConfig cfg;
  tern::config::PortConfig port;
  port.name = "p0";
  port.devargs = argv[1];
  port.address = *tern::wire::Ipv4Prefix::parse(argv[2]);
  cfg.ports.push_back(port);
  auto open = [](const tern::config::PortConfig& pc, const tern::PortSetup& s, std::string& err) {
    tern::drivers::DpdkPortOptions o{.name = pc.name,
                                     .devargs = pc.devargs,
                                     .rx_queues = s.queues,
                                     .tx_queues = s.queues,
                                     .rx_pools = s.pools};
    return std::unique_ptr<tern::Port>(tern::drivers::DpdkPort::open(o, err));
  };
  std::string err;
  auto stack = tern::Stack::create(cfg, {}, open, err);
  if (!stack) return std::fprintf(stderr, "tern: %s\n", err.c_str()), 1;
  tern::Net net(stack->core(0));  // one per core, used from that core's thread
  auto sock = net.udp_bind(7);
  if (!sock) return std::fprintf(stderr, "bind: %s\n", sock.error().reason.data()), 1;
  // Each loop turn: echo what arrived, zero copy (the received mbufs go back out as they are).
  net.on_poll([s = *sock](uint64_t) {
    tern::Packet p;
    tern::Endpoint from;
    while (s.recv(p, &from)) (void)s.send(p, from);
  });
  std::signal(SIGINT, [](int) { stop = true; });
  if (argc > 3) std::signal(SIGALRM, [](int) { stop = true; }), alarm(std::atoi(argv[3]));
  stack->run(stop);
  std::string stats = stack->stats_json();  // before shutdown(), which tears the cores down
  std::printf("%s\nleaked mbufs: %u\n", stats.c_str(), stack->shutdown());
}
