// A UDP echo server embedding tern (docs/embedding.md). Build against an
// installed tern:  c++ -std=c++20 embed_udp_echo.cpp $(pkg-config --cflags --libs libtern)
// Run as root:     ./a.out net_tap0,iface=tern0 198.18.0.2/24 [seconds]
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <cstdlib>

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
  auto sock = stack->core(0).udp().bind(7);
  (*sock)->on_readable([](tern::udp::Socket& s) {
    tern::udp::Datagram d;
    while (s.recv(d)) (void)s.send(d.from, std::move(d.payload));  // zero copy
  });
  std::signal(SIGINT, [](int) { stop = true; });
  if (argc > 3) std::signal(SIGALRM, [](int) { stop = true; }), alarm(std::atoi(argv[3]));
  stack->run(stop);
  std::string stats = stack->stats_json();  // before shutdown(), which tears the cores down
  std::printf("%s\nleaked mbufs: %u\n", stats.c_str(), stack->shutdown());
}
