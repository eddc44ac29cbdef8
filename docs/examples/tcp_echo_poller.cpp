// A TCP echo server on tern written as one epoll-like loop (docs/api.md).
// Build against an installed tern:
//   c++ -std=c++20 tcp_echo_poller.cpp $(pkg-config --cflags --libs libtern)
// Run as root:  ./a.out net_tap0,iface=tern0 198.18.0.2/24 [seconds]
#include <unistd.h>

#include <array>
#include <atomic>
#include <csignal>
#include <cstdio>
#include <cstdlib>

#include "tern/api/net.hpp"
#include "tern/api/poller.hpp"
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
  tern::Poller poller;
  auto listener = net.listen(7);
  if (!listener) return std::fprintf(stderr, "listen: %s\n", listener.error().reason.data()), 1;
  (void)poller.add(*listener);

  // The loop body runs once per turn of the core's poll loop, after input and timers.
  net.on_poll([&poller](uint64_t) {
    std::array<tern::PollEvent, 64> events;
    for (size_t i = 0, n = poller.wait(events); i < n; ++i) {
      const tern::PollEvent& e = events[i];
      if (auto* l = std::get_if<tern::TcpListener>(&e.socket)) {
        while (auto c = l->accept()) {
          (void)poller.add(*c, tern::ev::readable | tern::ev::writable | tern::ev::peer_closed);
        }
        continue;
      }
      tern::TcpConnection c = std::get<tern::TcpConnection>(e.socket);
      // Zero copy: each received mbuf chain goes back out as it is. Take no more than the send
      // buffer has room for, so nothing is left over; ev::writable brings us back for the rest.
      tern::Packet p;
      while (c.send_space() > 0 && c.recv(p, c.send_space()).value_or(0) > 0) (void)c.send(p);
      if ((e.events & tern::ev::error) || (c.peer_closed() && c.readable() == 0)) {
        (void)c.close();  // graceful: FIN after the echoed data; the registration goes with it
      }
    }
  });

  std::signal(SIGINT, [](int) { stop = true; });
  if (argc > 3) std::signal(SIGALRM, [](int) { stop = true; }), alarm(std::atoi(argv[3]));
  stack->run(stop);
  std::string stats = stack->stats_json();  // before shutdown(), which tears the cores down
  std::printf("%s\nleaked mbufs: %u\n", stats.c_str(), stack->shutdown());
}
