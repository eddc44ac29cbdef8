// tern-l3fwd: IPv4 forwarding (RFC 1812) on tern, the counterpart of DPDK's
// l3fwd. Thin by design: options in, lib/ calls out. Every core forwards what
// its queues receive with tern's LPM table; datagrams to the router's own
// addresses (ARP, ICMP echo) go to the local stack on the same ports.
#include <CLI/CLI.hpp>
#include <csignal>
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include "port_factory.hpp"
#include "tern/base/clock.hpp"
#include "tern/base/log.hpp"
#include "tern/config/config.hpp"
#include "tern/stack/core.hpp"
#include "tern/stack/stack.hpp"

namespace {

std::atomic<bool> g_stop{false};
void on_signal(int) { g_stop.store(true); }

struct RouteArg {
  tern::wire::Ipv4Prefix prefix;
  uint16_t port = 0;
  tern::wire::MacAddr mac{};
};

// "PREFIX=PORT[,MAC]"
bool parse_route(const std::string& s, size_t nports, RouteArg& out, std::string& err) {
  auto eq = s.find('=');
  auto fail = [&](const std::string& why) {
    err = "--route '" + s + "': " + why +
          "; expected PREFIX=PORT[,MAC], e.g. 198.19.0.0/16=1,02:00:00:00:01:01";
    return false;
  };
  if (eq == std::string::npos) return fail("no '='");
  auto p = tern::wire::Ipv4Prefix::parse(s.substr(0, eq));
  if (!p) return fail("bad prefix");
  out.prefix = *p;
  out.prefix.addr = p->network();
  std::string rest = s.substr(eq + 1);
  auto comma = rest.find(',');
  std::string port = rest.substr(0, comma);
  if (port.empty() || port.find_first_not_of("0123456789") != std::string::npos ||
      std::stoul(port) >= nports) {
    return fail("port must be an index below " + std::to_string(nports));
  }
  out.port = static_cast<uint16_t>(std::stoul(port));
  if (comma != std::string::npos) {
    auto m = tern::wire::MacAddr::parse(rest.substr(comma + 1));
    if (!m || m->is_multicast() || m->is_zero()) return fail("bad next-hop MAC");
    out.mac = *m;
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<char*> ours;
  std::vector<std::string> eal;
  bool after = false;
  for (int i = 0; i < argc; ++i) {
    if (!after && std::string(argv[i]) == "--") {
      after = true;
    } else if (after) {
      eal.emplace_back(argv[i]);
    } else {
      ours.push_back(argv[i]);
    }
  }
  std::string config_file, lcores, log_level;
  std::vector<std::string> devs, ips, macs, routes;
  double duration_s = 0;
  double stats_interval_s = 0;
  uint32_t idle_exit_ms = 0;
  CLI::App app{
      "tern-l3fwd: IPv4 forwarding (RFC 1812) with longest-prefix-match routes on the tern stack.\n"
      "Datagrams to the router's own addresses (ARP, ping) are answered by the local stack.\n"
      "DPDK EAL arguments may follow a lone '--'. At exit it prints one JSON line of counters."};
  app.add_option("--config", config_file,
                 "YAML configuration (ports, lcores, mempool, arp...; see docs/config.md)");
  app.add_option("--dev", devs,
                 "DPDK devargs of a port, repeatable; ports are numbered in this order from 0");
  app.add_option("--ip", ips, "address/prefix of port i (repeatable, in port order), e.g. 198.18.0.1/24");
  app.add_option("--mac", macs, "Ethernet address of port i (repeatable, in port order)");
  app.add_option("--route", routes,
                 "PREFIX=PORT[,MAC], repeatable: datagrams for PREFIX leave by PORT to MAC (without MAC: "
                 "to the destination itself, resolved by ARP on that port)");
  app.add_option("--lcores", lcores, "DPDK lcore list, one forwarding core per lcore (default 0)");
  app.add_option("--log-level", log_level, "error, warn, info or debug");
  app.add_option("--duration", duration_s, "stop after this many seconds");
  app.add_option("--exit-idle-ms", idle_exit_ms, "stop once nothing has been received for this many ms");
  app.add_option("--stats-interval", stats_interval_s,
                 "every S seconds each core prints one JSON line of its own counters and rates (0: off)");
  try {
    app.parse(static_cast<int>(ours.size()), ours.data());
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }

  tern::config::StackConfig cfg;
  if (!config_file.empty()) {
    auto r = tern::config::load_file(config_file);
    if (auto* e = std::get_if<tern::config::ConfigError>(&r)) {
      std::cerr << "tern-l3fwd: " << e->message << "\n";
      return 2;
    }
    cfg = std::get<tern::config::StackConfig>(r);
  }
  if (!devs.empty()) {
    std::vector<tern::config::PortConfig> ports;
    for (size_t i = 0; i < devs.size(); ++i) {
      tern::config::PortConfig p = i < cfg.ports.size() ? cfg.ports[i] : tern::config::PortConfig{};
      p.devargs = devs[i];
      if (p.name.empty()) p.name = "port" + std::to_string(i);
      ports.push_back(p);
    }
    cfg.ports = ports;
  }
  if (ips.size() > cfg.ports.size() || macs.size() > cfg.ports.size()) {
    std::cerr << "tern-l3fwd: more --ip/--mac values than ports (" << cfg.ports.size() << ")\n";
    return 2;
  }
  for (size_t i = 0; i < ips.size(); ++i) {
    auto p = tern::wire::Ipv4Prefix::parse(ips[i]);
    if (!p) {
      std::cerr << "tern-l3fwd: --ip '" << ips[i] << "': expected A.B.C.D/N\n";
      return 2;
    }
    cfg.ports[i].address = *p;
  }
  for (size_t i = 0; i < macs.size(); ++i) {
    auto m = tern::wire::MacAddr::parse(macs[i]);
    if (!m) {
      std::cerr << "tern-l3fwd: --mac '" << macs[i] << "': expected aa:bb:cc:dd:ee:ff\n";
      return 2;
    }
    cfg.ports[i].mac = *m;
  }
  if (cfg.ports.empty()) {
    std::cerr << "tern-l3fwd: no port: give --dev DEVARGS (repeatable) or --config FILE\n";
    return 2;
  }
  // A router forwards frames as they came: no merging of received segments (GRO, NIC LRO).
  for (auto& p : cfg.ports) p.gro = false;
  for (const auto& p : cfg.ports) {
    if (p.address.len == 0 && p.address.addr.is_unspecified()) {
      std::cerr << "tern-l3fwd: port '" << p.name << "' has no address: give --ip A.B.C.D/N for it\n";
      return 2;
    }
  }
  std::vector<RouteArg> rargs;
  for (const auto& r : routes) {
    RouteArg ra;
    std::string err;
    if (!parse_route(r, cfg.ports.size(), ra, err)) {
      std::cerr << "tern-l3fwd: " << err << "\n";
      return 2;
    }
    rargs.push_back(ra);
  }
  if (!lcores.empty()) cfg.lcores = lcores;
  if (!log_level.empty()) cfg.log_level = log_level;
  cfg.echo.udp_port = 0;
  cfg.echo.tcp_port = 0;
  if (auto bad = tern::config::validate(cfg)) {
    std::cerr << "tern-l3fwd: " << bad->message << "\n";
    return 2;
  }

  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
  std::string err;
  auto stack = tern::Stack::create(cfg, eal, &tern::apps::open_port, err);
  if (!stack) {
    std::cerr << "tern-l3fwd: " << err << "\n";
    return 1;
  }
  const uint64_t start = tern::monotonic_ns();
  const uint64_t deadline = duration_s > 0 ? start + static_cast<uint64_t>(duration_s * 1e9) : 0;
  for (size_t c = 0; c < stack->core_count(); ++c) {
    tern::Core& core = stack->core(c);
    core.ipv4().set_forwarding(true);
    for (const auto& r : rargs) {
      (void)core.ipv4().routes().add(tern::l3::Route{r.prefix, tern::wire::Ipv4Addr{}, r.port, r.mac});
    }
    const uint64_t idle_ns = c == 0 ? uint64_t{idle_exit_ms} * tern::kNsPerMs : 0;
    const uint64_t core_deadline = c == 0 ? deadline : 0;
    const uint64_t interval_ns = static_cast<uint64_t>(stats_interval_s * 1e9);
    if (idle_ns != 0 || core_deadline != 0 || interval_ns != 0) {
      // Each core reports only its own counters, from its own thread: no sharing.
      core.set_on_poll([=, next = start + interval_ns, last_rx = uint64_t{0}, last_fwd = uint64_t{0},
                        last_t = start](tern::Core& k, uint64_t now) mutable {
        if (core_deadline != 0 && now >= core_deadline) g_stop.store(true);
        uint64_t last = k.stats().last_rx_ns != 0 ? k.stats().last_rx_ns : start;
        if (idle_ns != 0 && now - last >= idle_ns) g_stop.store(true);
        if (interval_ns != 0 && now >= next) {
          const uint64_t rx = k.stats().rx_packets, fwd = k.ipv4().stats().forwarded;
          const double dt = static_cast<double>(now - last_t) / 1e9;
          std::printf(
              "{\"core\":%u,\"t\":%.3f,\"rx\":%lu,\"forwarded\":%lu,\"rx_mpps\":%.6f,\"fwd_mpps\":%.6f}\n",
              k.index(), static_cast<double>(now - start) / 1e9, rx, fwd, (rx - last_rx) / dt / 1e6,
              (fwd - last_fwd) / dt / 1e6);
          std::fflush(stdout);
          last_rx = rx;
          last_fwd = fwd;
          last_t = now;
          next = now + interval_ns;
        }
      });
    }
  }
  std::cerr << "tern-l3fwd: ready: " << stack->port_count() << " port(s), " << rargs.size() << " route(s), "
            << stack->core_count() << " core(s)\n";
  stack->run(g_stop);
  const double secs = static_cast<double>(tern::monotonic_ns() - start) / 1e9;
  uint64_t rx = 0;
  for (size_t c = 0; c < stack->core_count(); ++c) rx += stack->core(c).stats().rx_packets;
  std::string json = stack->stats_json();
  unsigned leaked = stack->shutdown();
  json.pop_back();
  char rate[64];
  std::snprintf(rate, sizeof(rate), ",\"seconds\":%.3f,\"rx_mpps\":%.6f", secs,
                secs > 0 ? rx / secs / 1e6 : 0.0);
  json += rate;
  json += ",\"mbufs_leaked\":" + std::to_string(leaked) + "}";
  std::cout << json << std::endl;
  return leaked == 0 ? 0 : 3;
}
