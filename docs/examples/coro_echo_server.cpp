// A TCP echo server on tern written with coroutines (docs/api.md): one coroutine accepts, one per
// connection echoes. Everything runs on core 0's loop; no thread hops, no callbacks.
// Build against an installed tern:
//   c++ -std=c++20 coro_echo_server.cpp $(pkg-config --cflags --libs libtern)
// Run as root:  ./a.out net_tap0,iface=tern0 198.18.0.2/24 PORT [SECONDS]
#include <unistd.h>

#include <array>
#include <atomic>
#include <csignal>
#include <cstdio>
#include <cstdlib>

#include "tern/api/coro.hpp"
#include "tern/drivers/dpdk_port.hpp"
#include "tern/stack/stack.hpp"

static std::atomic<bool> stop{false};
static uint64_t sessions = 0, echoed = 0;

tern::Task<void> session(tern::TcpConnection c) {
  std::array<uint8_t, 16384> buf;
  for (;;) {
    auto n = co_await tern::read(c, buf, 30'000'000'000);  // 30 s idle timeout
    if (!n || *n == 0) break;                                // error, timeout or end of stream
    auto w = co_await tern::write(c, std::span<const uint8_t>(buf.data(), *n));
    if (!w) break;
    echoed += *n;
  }
  (void)c.close();
}

tern::Task<void> server(tern::TcpListener l) {
  for (;;) {
    auto c = co_await tern::accept(l);
    if (!c) co_return;  // the listener closed
    ++sessions;
    tern::spawn(session(*c));
  }
}

int main(int argc, char** argv) {
  if (argc < 4) return std::fprintf(stderr, "usage: %s DEVARGS A.B.C.D/N PORT [SECONDS]\n", argv[0]), 2;
  tern::config::StackConfig cfg;
  tern::config::PortConfig port;
  port.name = "p0";
  port.devargs = argv[1];
  port.address = *tern::wire::Ipv4Prefix::parse(argv[2]);
  cfg.ports.push_back(port);
  cfg.cores.idle = "adaptive";  // an idle server sleeps instead of spinning
  auto open = [](const tern::config::PortConfig& pc, const tern::PortSetup& s, std::string& err) {
    tern::drivers::DpdkPortOptions o{
        .name = pc.name, .devargs = pc.devargs, .rx_queues = s.queues, .tx_queues = s.queues, .rx_pools = s.pools};
    return std::unique_ptr<tern::Port>(tern::drivers::DpdkPort::open(o, err));
  };
  std::string err;
  auto stack = tern::Stack::create(cfg, {}, open, err);
  if (!stack) return std::fprintf(stderr, "tern: %s\n", err.c_str()), 1;
  tern::Net net(stack->core(0));
  auto l = net.listen(static_cast<uint16_t>(std::atoi(argv[3])));
  if (!l) return std::fprintf(stderr, "listen: %s\n", l.error().reason.data()), 1;
  tern::spawn(server(*l));  // runs until its first co_await, then from the core's loop

  std::signal(SIGINT, [](int) { stop = true; });
  std::signal(SIGTERM, [](int) { stop = true; });
  if (argc > 4) std::signal(SIGALRM, [](int) { stop = true; }), alarm(static_cast<unsigned>(std::atoi(argv[4])));
  std::fprintf(stderr, "coro_echo_server: ready\n");
  stack->run(stop);
  std::printf("sessions %llu echoed %llu\n", static_cast<unsigned long long>(sessions),
              static_cast<unsigned long long>(echoed));
  std::printf("leaked mbufs: %u\n", stack->shutdown());
}
