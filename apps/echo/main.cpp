// tern-echo: a TCP and UDP echo server (RFC 862) on tern, and a client/load
// mode (--connect) that verifies every echoed byte. Thin by design: options
// in, lib/ calls out (echo.cpp). Servers send back the very mbufs that
// arrived (zero copy).
#include <CLI/CLI.hpp>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include "echo.hpp"
#include "port_factory.hpp"
#include "tern/base/clock.hpp"
#include "tern/base/log.hpp"
#include "tern/config/config.hpp"
#include "tern/stack/stack.hpp"

namespace {

tern::RunControl g_ctl;
std::atomic<bool>& g_stop = g_ctl.stop;

// SIGTERM drains (stop accepting, let connections finish up to cores.drain_ms); a second SIGTERM,
// or SIGINT, stops at once.
void on_signal(int sig) {
  if (sig == SIGTERM && !g_ctl.drain.load()) {
    g_ctl.drain.store(true);
  } else {
    g_ctl.stop.store(true);
  }
}

struct Options {
  std::string config_file;
  std::vector<std::string> devs;
  std::string ip;
  std::string gateway;
  std::string mac;
  int udp_port = -1;
  int tcp_port = -1;
  std::string lcores;
  std::string capture;
  std::string log_level;
  double duration_s = 0;
  uint32_t idle_exit_ms = 0;
  double stats_every_s = 0;
  std::string idle;
  int drain_ms = -1;
  int queues = -1;
  int mtu = -1;
  std::string checksum;
  bool no_gso = false;
  bool no_gro = false;
  bool print_config = false;
  std::string connect;
  uint32_t connections = 1;
  uint32_t message_size = 64;
  bool udp = false;
  bool short_conn = false;
  bool bulk = false;
  int discard_port = 0;
  uint32_t backlog = 0;
  std::string keepalive;
  uint32_t fastopen = 0;
  std::string ecn;
  double loss = -1;
};

// Split "prog [opts] -- [EAL args]".
void split_eal(int argc, char** argv, std::vector<char*>& ours, std::vector<std::string>& eal) {
  bool after = false;
  for (int i = 0; i < argc; ++i) {
    if (!after && std::string(argv[i]) == "--") {
      after = true;
      continue;
    }
    if (after) {
      eal.emplace_back(argv[i]);
    } else {
      ours.push_back(argv[i]);
    }
  }
}

// Apply command-line overrides on top of the file (or the defaults).
bool apply_overrides(const Options& o, tern::config::StackConfig& cfg, std::string& err) {
  if (!o.devs.empty()) {
    std::vector<tern::config::PortConfig> ports;
    for (size_t i = 0; i < o.devs.size(); ++i) {
      tern::config::PortConfig p = i < cfg.ports.size() ? cfg.ports[i] : tern::config::PortConfig{};
      p.devargs = o.devs[i];
      if (p.name.empty()) p.name = "port" + std::to_string(i);
      ports.push_back(p);
    }
    cfg.ports = ports;
  }
  if (cfg.ports.empty()) {
    err = "no port: give --dev DEVARGS (e.g. --dev net_tap0,iface=tern0) or --config FILE with a ports: list";
    return false;
  }
  if (!o.ip.empty()) {
    auto p = tern::wire::Ipv4Prefix::parse(o.ip);
    if (!p) {
      err = "--ip '" + o.ip + "': expected A.B.C.D/N, e.g. 198.18.0.2/24";
      return false;
    }
    cfg.ports[0].address = *p;
  }
  if (!o.mac.empty()) {
    auto m = tern::wire::MacAddr::parse(o.mac);
    if (!m) {
      err = "--mac '" + o.mac + "': expected aa:bb:cc:dd:ee:ff";
      return false;
    }
    cfg.ports[0].mac = *m;
  }
  if (!o.gateway.empty()) {
    auto g = tern::wire::Ipv4Addr::parse(o.gateway);
    if (!g) {
      err = "--gateway '" + o.gateway + "': expected A.B.C.D";
      return false;
    }
    tern::config::RouteConfig r;
    r.prefix = *tern::wire::Ipv4Prefix::parse("0.0.0.0/0");
    r.gateway = *g;
    std::erase_if(cfg.routes, [](const auto& x) { return x.prefix.len == 0; });
    cfg.routes.push_back(r);
  }
  for (const auto& p : cfg.ports) {
    if (p.address.len == 0 && p.address.addr.is_unspecified()) {
      err = "port '" + p.name +
            "' has no address: give --ip A.B.C.D/N (e.g. 198.18.0.2/24) or ip: in the config";
      return false;
    }
  }
  if (o.udp_port >= 0) cfg.echo.udp_port = static_cast<uint16_t>(o.udp_port);
  if (o.tcp_port >= 0) cfg.echo.tcp_port = static_cast<uint16_t>(o.tcp_port);
  if (!o.lcores.empty()) cfg.lcores = o.lcores;
  if (!o.idle.empty()) cfg.cores.idle = o.idle;
  if (o.drain_ms >= 0) cfg.cores.drain_ms = static_cast<uint32_t>(o.drain_ms);
  if (o.queues >= 0) {
    for (auto& p : cfg.ports) p.queues = static_cast<uint16_t>(o.queues);
  }
  if (!o.ecn.empty()) cfg.tcp.ecn = o.ecn;  // validate() names the accepted values
  for (auto& p : cfg.ports) {
    if (o.loss >= 0) p.fault.loss = o.loss;
    if (!o.checksum.empty()) p.checksum = o.checksum;
    if (o.no_gso) p.gso = false;
    if (o.no_gro) p.gro = false;
    if (o.mtu > 0) {
      p.mtu = static_cast<uint16_t>(o.mtu);
      // A jumbo frame in one mbuf: the data room follows the MTU (in 128-byte steps).
      const uint32_t need = (14u + p.mtu + 127u) / 128u * 128u;
      if (cfg.mempool.data_room < need) cfg.mempool.data_room = need;
    }
  }
  if (!o.capture.empty()) cfg.ports[0].capture = o.capture;
  if (!o.log_level.empty()) cfg.log_level = o.log_level;
  if (auto bad = tern::config::validate(cfg)) {
    err = bad->message;
    return false;
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<char*> ours;
  std::vector<std::string> eal;
  split_eal(argc, argv, ours, eal);

  Options o;
  CLI::App app{
      "tern-echo: TCP and UDP echo server (RFC 862) on the tern userspace stack, or with --connect a\n"
      "load client that sends messages, waits for each echo and verifies every byte.\n"
      "DPDK EAL arguments may follow a lone '--'; defaults include --no-huge and a unique --file-prefix.\n"
      "At exit (SIGINT/SIGTERM, --duration or --exit-idle-ms) it prints one JSON line of counters."};
  app.add_option("--config", o.config_file,
                 "YAML configuration file (see docs/config.md); options below override it");
  app.add_option("--dev", o.devs,
                 "DPDK devargs of a port, repeatable: e.g. net_tap0,iface=tern0 or "
                 "net_pcap0,rx_pcap=in.pcap,tx_pcap=out.pcap (replaces the config's ports, in order)");
  app.add_option("--ip", o.ip, "address and prefix of the first port, A.B.C.D/N (e.g. 198.18.0.2/24)");
  app.add_option("--mac", o.mac, "Ethernet address of the first port (default: the device's)");
  app.add_option("--gateway", o.gateway, "default gateway A.B.C.D (must be inside a port's prefix)");
  app.add_option("--udp-port", o.udp_port, "UDP echo port, 0 disables (default 7)")
      ->check(CLI::Range(0, 65535));
  app.add_option("--tcp-port", o.tcp_port, "TCP echo port, 0 disables (default 7)")
      ->check(CLI::Range(0, 65535));
  app.add_option("--backlog", o.backlog, "TCP listen backlog (default: tcp.backlog of the config, 1024)");
  app.add_option("--fastopen", o.fastopen,
                 "TCP Fast Open (RFC 7413): server: at most N pending Fast Open connections (0: off); "
                 "client: any N > 0 connects with Fast Open");
  app.add_option("--ecn", o.ecn, "RFC 3168 ECN for new sockets: off, passive or on (tcp.ecn)");
  app.add_option("--loss", o.loss,
                 "drop this fraction of the packets each port sends and receives (fault injection, "
                 "ports[].fault.loss), 0..1");
  app.add_option("--connect", o.connect,
                 "client mode: IP:PORT of an echo server; prints one JSON line of results at the end");
  app.add_option("--connections", o.connections, "client mode: concurrent connections (or UDP sockets)")
      ->check(CLI::Range(1, 1000000));
  app.add_option("--message-size", o.message_size, "client mode: bytes per message")
      ->check(CLI::Range(1, 16 * 1024 * 1024));
  app.add_option(
      "--keepalive", o.keepalive,
      "TCP keepalive on every connection: IDLE,INTERVAL,COUNT in seconds, e.g. 7200,75,9 (RFC 1122)");
  app.add_flag("--udp", o.udp, "client mode: use UDP datagrams instead of TCP connections");
  app.add_flag("--short", o.short_conn,
               "client mode: short connections (connect, one message, its echo, reset; repeat)");
  app.add_flag("--bulk", o.bulk,
               "client mode: send --message-size chunks one way as fast as possible (to a discard server)");
  app.add_option("--discard-port", o.discard_port, "also serve TCP discard (RFC 863) on this port, 0: off")
      ->check(CLI::Range(0, 65535));
  app.add_option("--lcores", o.lcores,
                 "DPDK lcore list to run on, one stack per lcore: 0 or 0-1 or 0,1 (default 0)");
  app.add_option("--capture", o.capture,
                 "write every frame received and sent on the first port to this pcap file");
  app.add_option("--log-level", o.log_level, "error, warn, info or debug");
  app.add_option("--duration", o.duration_s,
                 "stop after this many seconds (default: run until SIGINT/SIGTERM)");
  app.add_option("--exit-idle-ms", o.idle_exit_ms,
                 "stop once nothing has been received for this many ms (for pcap replays)");
  app.add_option(
      "--stats-every", o.stats_every_s,
      "print every core's counters (JSON, one line) to stderr this often while running, in seconds");
  app.add_option("--idle", o.idle, "poll policy when idle: busy (default) or adaptive (pause, then sleep)")
      ->check(CLI::IsMember({"busy", "adaptive"}));
  app.add_option(
         "--queues", o.queues,
         "queue pairs per port (0: one per lcore); fewer than lcores: the rest are steered in software")
      ->check(CLI::Range(0, 64));
  app.add_option("--drain-ms", o.drain_ms, "on SIGTERM, how long open connections may take to finish (ms)")
      ->check(CLI::Range(0, 3600000));
  app.add_option("--mtu", o.mtu,
                 "IP MTU of every port, 68..9000 (jumbo: raises mempool.data_room to fit a frame)")
      ->check(CLI::Range(68, 9000));
  app.add_option("--checksum", o.checksum,
                 "transport checksums of every port: auto (offload where offered), software, or trusted "
                 "(neither computed nor verified; only between cooperating processes: docs/offloads.md)")
      ->check(CLI::IsMember({"auto", "software", "trusted"}));
  app.add_flag("--no-gso", o.no_gso, "TCP builds one MSS-sized segment at a time (no TSO, no software GSO)");
  app.add_flag("--no-gro", o.no_gro, "do not merge received TCP segments");
  app.add_flag("--print-config", o.print_config, "print the effective configuration as YAML and exit");
  try {
    app.parse(static_cast<int>(ours.size()), ours.data());
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }

  tern::config::StackConfig cfg;
  if (!o.config_file.empty()) {
    auto r = tern::config::load_file(o.config_file);
    if (auto* e = std::get_if<tern::config::ConfigError>(&r)) {
      std::cerr << "tern-echo: " << e->message << "\n";
      return 2;
    }
    cfg = std::get<tern::config::StackConfig>(r);
  }
  std::string err;
  if (!apply_overrides(o, cfg, err)) {
    std::cerr << "tern-echo: " << err << "\n";
    return 2;
  }
  if (o.print_config) {
    std::cout << tern::config::to_yaml(cfg);
    return 0;
  }

  std::optional<tern::tcp::KeepaliveOptions> ka;
  if (!o.keepalive.empty()) {
    double idle = 0, iv = 0;
    unsigned cnt = 0;
    if (std::sscanf(o.keepalive.c_str(), "%lf,%lf,%u", &idle, &iv, &cnt) != 3 || idle <= 0 || iv <= 0 ||
        cnt == 0 || cnt > 255) {
      std::cerr << "tern-echo: --keepalive '" << o.keepalive
                << "': expected IDLE,INTERVAL,COUNT (seconds, seconds, 1..255), e.g. 7200,75,9\n";
      return 2;
    }
    tern::tcp::KeepaliveOptions k;
    k.enabled = true;
    k.idle_ns = static_cast<uint64_t>(idle * 1e9);
    k.interval_ns = static_cast<uint64_t>(iv * 1e9);
    k.count = cnt;
    ka = k;
  }
  tern::apps::ClientOptions co;
  co.keepalive = ka;
  const bool client = !o.connect.empty();
  if (client) {
    auto colon = o.connect.rfind(':');
    auto addr = tern::wire::Ipv4Addr::parse(o.connect.substr(0, colon == std::string::npos ? 0 : colon));
    int port = colon == std::string::npos ? -1 : std::atoi(o.connect.c_str() + colon + 1);
    if (!addr || port <= 0 || port > 65535) {
      std::cerr << "tern-echo: --connect '" << o.connect << "': expected IP:PORT, e.g. 198.18.0.1:7\n";
      return 2;
    }
    if (o.duration_s <= 0) {
      std::cerr << "tern-echo: --connect needs --duration SECONDS (how long to run the load)\n";
      return 2;
    }
    co.server = *addr;
    co.port = static_cast<uint16_t>(port);
    co.connections = o.connections;
    co.message_size = o.message_size;
    co.duration_s = o.duration_s;
    co.udp = o.udp;
    co.short_conn = o.short_conn;
    co.bulk = o.bulk;
    co.fastopen = o.fastopen > 0;
    if (int(o.udp) + int(o.short_conn) + int(o.bulk) > 1) {
      std::cerr << "tern-echo: --udp, --short and --bulk are different modes: give at most one\n";
      return 2;
    }
  }
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
  auto stack = tern::Stack::create(cfg, eal, &tern::apps::open_port, err);
  if (!stack) {
    std::cerr << "tern-echo: " << err << "\n";
    return 1;
  }
  const uint64_t start = tern::monotonic_ns();
  if (client) {
    auto cl = tern::apps::start_clients(*stack, co, g_stop);
    std::cerr << "tern-echo: client: " << co.connections << " "
              << (co.udp          ? "UDP socket(s)"
                  : co.short_conn ? "short-connection slot(s)"
                                  : "TCP connection(s)")
              << (co.bulk ? " sending bulk" : "") << " to " << o.connect << ", " << co.message_size
              << "-byte messages for " << co.duration_s << " s\n";
    stack->run(g_ctl);
    std::string stack_json = stack->stats_json();
    unsigned leaked = stack->shutdown();
    std::string json = tern::apps::client_json(cl);
    json.pop_back();
    json += ",\"mbufs_leaked\":" + std::to_string(leaked) + ",\"stack\":" + stack_json + "}";
    std::cout << json << std::endl;
    return tern::apps::client_ok(cl) && leaked == 0 ? 0 : 4;
  }
  const uint64_t deadline = o.duration_s > 0 ? start + static_cast<uint64_t>(o.duration_s * 1e9) : 0;
  uint32_t backlog = o.backlog != 0 ? o.backlog : 1024;
  const uint32_t fastopen = o.fastopen;
  // Every core serves: each listens on its own thread and accepts the flows steered to it.
  const uint16_t udp_port = cfg.echo.udp_port, tcp_port = cfg.echo.tcp_port;
  const auto discard = static_cast<uint16_t>(o.discard_port);
  (void)stack->on_each_core([=](tern::Core& core) {
    if (udp_port != 0) tern::apps::serve_udp_echo(core, udp_port);
    if (tcp_port != 0) tern::apps::serve_tcp_echo(core, tcp_port, backlog, ka, fastopen);
    if (discard != 0) tern::apps::serve_tcp_discard(core, discard, backlog);
  });
  for (size_t c = 0; c < 1; ++c) {
    tern::Core& core = stack->core(c);
    if (deadline != 0 || o.idle_exit_ms != 0) {
      const uint64_t idle_ns = uint64_t{o.idle_exit_ms} * tern::kNsPerMs;
      core.set_on_poll([deadline, idle_ns, start](tern::Core& k, uint64_t now) {
        if (deadline != 0 && now >= deadline) g_stop.store(true);
        uint64_t last = k.stats().last_rx_ns != 0 ? k.stats().last_rx_ns
                                                  : start;  // core 0's: it sees every port's queue 0
        if (idle_ns != 0 && now - last >= idle_ns) g_stop.store(true);
      });
    }
  }
  for (size_t i = 0; i < stack->port_count(); ++i) {
    const auto& pc = cfg.ports[i];
    const auto& mac = stack->port(i).caps().mac;
    char macs[32];
    std::snprintf(macs, sizeof(macs), "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3], mac[4],
                  mac[5]);
    std::cerr << "tern-echo: port " << pc.name << " (" << pc.devargs << ") " << pc.address.to_string()
              << " mac " << macs << "\n";
  }
  std::cerr << "tern-echo: ready: udp echo on port " << cfg.echo.udp_port << ", tcp echo on port "
            << cfg.echo.tcp_port << ", " << stack->core_count() << " core(s)\n";
  std::thread stats_thread;
  std::atomic<bool> stats_done{false};
  if (o.stats_every_s > 0) {
    stats_thread = std::thread([&stack, &stats_done, every = o.stats_every_s] {
      const auto step = std::chrono::milliseconds(static_cast<int64_t>(every * 1000));
      auto next = std::chrono::steady_clock::now() + step;
      while (!stats_done.load()) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        if (std::chrono::steady_clock::now() < next || !stack->running()) continue;
        next += step;
        auto r = stack->stats_json_live();
        if (r) std::cerr << "tern-echo: stats " << *r << "\n";
      }
    });
  }
  stack->run(g_ctl);
  stats_done.store(true);
  if (stats_thread.joinable()) stats_thread.join();
  std::string json = stack->stats_json();
  unsigned leaked = stack->shutdown();
  json.pop_back();  // close the object with the leak check appended
  json += ",\"mbufs_leaked\":" + std::to_string(leaked) + "}";
  std::cout << json << std::endl;
  if (leaked != 0) std::cerr << "tern-echo: " << leaked << " mbufs were not returned to their pools\n";
  return leaked == 0 ? 0 : 3;
}
