// A request/response TCP client on tern written with coroutines (docs/api.md): connect with a
// timeout, then N requests of SIZE bytes, each read back in full and compared, with a pause
// between requests (co_await sleep). Exits 0 when every response matched.
// Build against an installed tern:
//   c++ -std=c++20 coro_rr_client.cpp $(pkg-config --cflags --libs libtern)
// Run as root:  ./a.out net_tap0,iface=tern0 198.18.0.2/24 SERVER_IP PORT N SIZE
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "tern/api/coro.hpp"
#include "tern/drivers/dpdk_port.hpp"
#include "tern/stack/stack.hpp"

static std::atomic<bool> stop{false};
static int failures = 0;
static int done_requests = 0;

tern::Task<void> client(tern::Net& net, tern::Endpoint server, int n, size_t size) {
  auto c = co_await tern::connect(net, server, 5'000'000'000);  // give up after 5 s
  if (!c) {
    std::fprintf(stderr, "connect: %s (%s)\n", c.error().reason.data(), std::string(to_string(c.error().code)).c_str());
    ++failures;
    stop = true;
    co_return;
  }
  std::vector<uint8_t> req(size), resp(size);
  for (int i = 0; i < n; ++i) {
    for (size_t k = 0; k < size; ++k) req[k] = static_cast<uint8_t>(i * 131 + k);
    if (!co_await tern::write(*c, req)) break;
    size_t have = 0;
    while (have < size) {
      auto r = co_await tern::read(*c, std::span<uint8_t>(resp).subspan(have), 5'000'000'000);
      if (!r || *r == 0) break;
      have += *r;
    }
    if (have != size || resp != req) {
      ++failures;
      break;
    }
    ++done_requests;
    co_await tern::sleep(net, 1'000'000);  // 1 ms between requests
  }
  (void)c->close();
  stop = true;
}

int main(int argc, char** argv) {
  if (argc < 7) return std::fprintf(stderr, "usage: %s DEVARGS A.B.C.D/N SERVER_IP PORT N SIZE\n", argv[0]), 2;
  tern::config::StackConfig cfg;
  tern::config::PortConfig port;
  port.name = "p0";
  port.devargs = argv[1];
  port.address = *tern::wire::Ipv4Prefix::parse(argv[2]);
  cfg.ports.push_back(port);
  cfg.cores.idle = "adaptive";
  auto open = [](const tern::config::PortConfig& pc, const tern::PortSetup& s, std::string& err) {
    tern::drivers::DpdkPortOptions o{
        .name = pc.name, .devargs = pc.devargs, .rx_queues = s.queues, .tx_queues = s.queues, .rx_pools = s.pools};
    return std::unique_ptr<tern::Port>(tern::drivers::DpdkPort::open(o, err));
  };
  std::string err;
  auto stack = tern::Stack::create(cfg, {}, open, err);
  if (!stack) return std::fprintf(stderr, "tern: %s\n", err.c_str()), 1;
  tern::Net net(stack->core(0));
  const auto ip = tern::wire::Ipv4Addr::parse(argv[3]);
  if (!ip) return std::fprintf(stderr, "bad server address %s\n", argv[3]), 2;
  const int n = std::atoi(argv[5]);
  // Start once the core runs (the coroutine's first step sends the SYN).
  (void)stack->on_each_core([&](tern::Core&) {
    tern::spawn(client(net, tern::Endpoint{*ip, static_cast<uint16_t>(std::atoi(argv[4]))}, n,
                       static_cast<size_t>(std::atoll(argv[6]))));
  });
  stack->run(stop);
  std::printf("requests %d of %d, failures %d\n", done_requests, n, failures);
  std::printf("leaked mbufs: %u\n", stack->shutdown());
  return failures == 0 && done_requests == n ? 0 : 1;
}
