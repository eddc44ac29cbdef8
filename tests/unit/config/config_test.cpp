// Unit tests for tern::config: defaults, a full file, every rejection rule
// (with key path and position), unknown keys at each level, the shipped
// example configs and the to_yaml() round trip.
#include "tern/config/config.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <initializer_list>
#include <limits>
#include <optional>
#include <sstream>
#include <string>

#include "tern/config/schema.hpp"

namespace tern::config {
namespace {

using wire::Ipv4Addr;
using wire::Ipv4Prefix;
using wire::MacAddr;

/** Join lines with '\n' so that line N of the document is element N-1. */
std::string Doc(std::initializer_list<const char*> lines) {
  std::string s;
  for (const char* l : lines) {
    s += l;
    s += '\n';
  }
  return s;
}

Ipv4Prefix Prefix(const char* text) { return *Ipv4Prefix::parse(text); }
Ipv4Addr Addr(const char* text) { return *Ipv4Addr::parse(text); }

StackConfig LoadOk(const std::string& yaml) {
  auto r = load_string(yaml, "t.yaml");
  if (auto* e = std::get_if<ConfigError>(&r)) {
    ADD_FAILURE() << "unexpected error: " << e->message << "\n--- input:\n" << yaml;
    return {};
  }
  return std::get<StackConfig>(r);
}

ConfigError LoadErr(const std::string& yaml) {
  auto r = load_string(yaml, "t.yaml");
  if (std::holds_alternative<StackConfig>(r)) {
    ADD_FAILURE() << "accepted, expected an error\n--- input:\n" << yaml;
    return {};
  }
  return std::get<ConfigError>(r);
}

/**
 * The input is rejected with a message "t.yaml:LINE:COL: PATH: ...; accepted: ..."
 * that also contains @p what.
 */
void ExpectRejected(const std::string& yaml, const std::string& path, int line, const std::string& what) {
  SCOPED_TRACE("input:\n" + yaml);
  const ConfigError e = LoadErr(yaml);
  EXPECT_EQ(e.path, path) << e.message;
  EXPECT_EQ(e.line, line) << e.message;
  EXPECT_GT(e.column, 0) << e.message;
  const std::string prefix = "t.yaml:" + std::to_string(line) + ":" + std::to_string(e.column) + ": " +
                             (path.empty() ? std::string() : path + ": ");
  EXPECT_EQ(e.message.rfind(prefix, 0), 0u)
      << "message does not start with '" << prefix << "': " << e.message;
  EXPECT_NE(e.message.find(what), std::string::npos) << "'" << what << "' not in: " << e.message;
  EXPECT_NE(e.message.find("; accepted: "), std::string::npos) << e.message;
}

// A valid document with one port; line 4 is the port's ip, line 5 is free for extra port keys.
std::string OnePort(const char* port_extra = "", const char* top_extra = "") {
  std::string s = Doc({
      "ports:",                  // 1
      "  - name: p0",            // 2
      "    devargs: net_null0",  // 3
      "    ip: 198.18.0.2/24",   // 4
  });
  if (*port_extra) s += std::string(port_extra) + "\n";  // 5
  s += top_extra;
  if (*top_extra) s += "\n";
  return s;
}

// ---------------------------------------------------------------------------
// Defaults

TEST(ConfigDefaults, StructsHoldTheDocumentedDefaults) {
  const StackConfig c;
  EXPECT_TRUE(c.ports.empty());
  EXPECT_TRUE(c.routes.empty());
  EXPECT_EQ(c.lcores, "0");
  EXPECT_TRUE(c.eal_args.empty());
  EXPECT_EQ(c.log_level, "info");
  EXPECT_EQ(c.mempool.mbufs, 16383u);
  EXPECT_EQ(c.mempool.cache, 256u);
  EXPECT_EQ(c.mempool.data_room, 2048u);
  EXPECT_EQ(c.arp.table_size, 1024u);
  EXPECT_EQ(c.arp.queue_len, 16u);
  EXPECT_EQ(c.arp.reachable_ms, 30000u);
  EXPECT_EQ(c.arp.stale_ms, 600000u);
  EXPECT_EQ(c.arp.retry_ms, 1000u);
  EXPECT_EQ(c.arp.retries, 3u);
  EXPECT_TRUE(c.arp.gratuitous);
  EXPECT_EQ(c.ipv4.default_ttl, 64);
  EXPECT_EQ(c.ipv4.reassembly_timeout_ms, 30000u);
  EXPECT_EQ(c.ipv4.reassembly_max_bytes, 4u << 20);
  EXPECT_EQ(c.ipv4.reassembly_max_datagrams, 256u);
  EXPECT_EQ(c.ipv4.pmtu_min, 552u);
  EXPECT_TRUE(c.icmp.echo);
  EXPECT_EQ(c.icmp.error_rate, 100u);
  EXPECT_EQ(c.icmp.echo_rate, 0u);
  EXPECT_EQ(c.icmp.dest_error_rate, 10u);
  EXPECT_EQ(c.icmp.dest_error_burst, 10u);
  EXPECT_EQ(c.arp.lock_time_ms, 1000u);
  EXPECT_EQ(c.tcp.challenge_ack_limit, 1000u);
  EXPECT_EQ(c.tcp.challenge_ack_interval_ms, 500u);
  EXPECT_EQ(c.udp.rx_queue_len, 1024u);
  EXPECT_EQ(c.echo.udp_port, 7);
  EXPECT_EQ(c.echo.tcp_port, 7);

  // tcp: mirrors tcp::TcpParams / tcp::SocketOptions defaults.
  const TcpConfig& t = c.tcp;
  EXPECT_EQ(t.congestion, "cubic");
  EXPECT_EQ(t.initial_window, 10u);
  EXPECT_EQ(t.delayed_ack_ms, 40u);
  EXPECT_EQ(t.rto_min_ms, 200u);
  EXPECT_EQ(t.rto_max_ms, 120000u);
  EXPECT_EQ(t.rto_initial_ms, 1000u);
  EXPECT_EQ(t.msl_ms, 30000u);
  EXPECT_EQ(t.max_connections, 65536u);
  EXPECT_EQ(t.max_time_wait, 65536u);
  EXPECT_EQ(t.backlog, 1024u);
  EXPECT_TRUE(t.syncookies);
  EXPECT_TRUE(t.timestamps);
  EXPECT_TRUE(t.sack);
  EXPECT_TRUE(t.window_scaling);
  EXPECT_EQ(t.send_buffer, 262144u);
  EXPECT_EQ(t.recv_buffer, 262144u);
  EXPECT_FALSE(t.nodelay);
  EXPECT_FALSE(t.keepalive.enabled);
  EXPECT_EQ(t.keepalive.idle_s, 7200u);
  EXPECT_EQ(t.keepalive.interval_s, 75u);
  EXPECT_EQ(t.keepalive.count, 9u);
  EXPECT_EQ(t.max_retries, 15u);
  EXPECT_EQ(t.syn_retries, 6u);
  EXPECT_EQ(t.fin_wait_2_s, 60u);
  EXPECT_EQ(t.ooo_nodes, 65536u);

  const PortConfig p;
  EXPECT_EQ(p.mtu, 1500);
  EXPECT_EQ(p.rx_desc, 1024);
  EXPECT_EQ(p.tx_desc, 1024);
  EXPECT_FALSE(p.mac.has_value());
  EXPECT_TRUE(p.capture.empty());
  EXPECT_EQ(p.fault.seed, 1u);
  EXPECT_FALSE(p.fault.enabled());
}

TEST(ConfigDefaults, MinimalFileTakesDefaultsForEverythingElse) {
  const StackConfig c = LoadOk(OnePort());
  StackConfig want;
  PortConfig p;
  p.name = "p0";
  p.devargs = "net_null0";
  p.address = Prefix("198.18.0.2/24");
  want.ports.push_back(p);
  EXPECT_EQ(c, want);
}

TEST(ConfigDefaults, EmptySectionsMeanDefaults) {
  const StackConfig c =
      LoadOk(OnePort("    fault:", "arp:\nipv4:\nicmp:\nudp:\ntcp:\necho:\nmempool:\nroutes:\neal:"));
  EXPECT_EQ(c.arp, ArpConfig{});
  EXPECT_EQ(c.tcp, TcpConfig{});
  EXPECT_EQ(c.ipv4, Ipv4Config{});
  EXPECT_EQ(c.echo, EchoConfig{});
  EXPECT_EQ(c.mempool, MempoolConfig{});
  EXPECT_TRUE(c.routes.empty());
  EXPECT_TRUE(c.eal_args.empty());
  EXPECT_EQ(c.ports.at(0).fault, FaultConfig{});
}

TEST(FaultConfig, EnabledWhenAnyFaultIsSet) {
  FaultConfig f;
  EXPECT_FALSE(f.enabled());
  f.seed = 99;
  EXPECT_FALSE(f.enabled()) << "a seed alone injects nothing";
  for (double FaultConfig::*m :
       {&FaultConfig::loss, &FaultConfig::duplicate, &FaultConfig::reorder, &FaultConfig::corrupt}) {
    FaultConfig g;
    g.*m = 0.5;
    EXPECT_TRUE(g.enabled());
  }
  FaultConfig d;
  d.delay_us = 10;
  EXPECT_TRUE(d.enabled());
}

// ---------------------------------------------------------------------------
// A full file

const char* const kFull = R"(# every key, none at its default
log_level: debug
lcores: "0-1,3"
eal: ["--no-pci", "--no-huge", "-m", "512"]
mempool:
  mbufs: 32767
  cache: 128
  data_room: 9216
ports:
  - name: wan
    devargs: "net_tap0,iface=tern0"
    ip: 198.18.0.2/24
    mac: "02:00:00:00:00:02"
    mtu: 9000
    rx_desc: 512
    tx_desc: 2048
    capture: /tmp/wan.pcap
    fault:
      seed: 42
      loss: 0.01
      duplicate: 0.02
      reorder: 0.5
      corrupt: 1
      delay_us: 250
  - name: lan
    devargs: 0000:03:00.0
    ip: 198.19.0.1/16
    mtu: 1400
routes:
  - prefix: 0.0.0.0/0
    gateway: 198.18.0.1
  - prefix: 198.18.64.0/18
    gateway: 198.19.2.3
    port: lan
arp:
  table_size: 4096
  queue_len: 8
  reachable_ms: 20000
  stale_ms: 300000
  retry_ms: 500
  retries: 5
  gratuitous: false
  lock_time_ms: 2500
ipv4:
  default_ttl: 128
  reassembly_timeout_ms: 15000
  reassembly_max_bytes: 1048576
  reassembly_max_datagrams: 64
  pmtu_min: 1280
icmp:
  echo: no
  echo_rate: 50
  error_rate: 10
  dest_error_rate: 2
  dest_error_burst: 4
udp:
  rx_queue_len: 256
tcp:
  congestion: newreno
  initial_window: 4
  delayed_ack_ms: 25
  rto_min_ms: 1000
  rto_max_ms: 60000
  rto_initial_ms: 3000
  msl_ms: 60000
  max_connections: 1024
  max_time_wait: 2048
  backlog: 128
  syncookies: false
  timestamps: false
  sack: off
  window_scaling: no
  send_buffer: 65536
  recv_buffer: 131072
  nodelay: true
  keepalive:
    enabled: true
    idle_s: 600
    interval_s: 10
    count: 3
  max_retries: 8
  syn_retries: 3
  fin_wait_2_s: 30
  ooo_nodes: 4096
  challenge_ack_limit: 200
  challenge_ack_interval_ms: 250
  recovery: rfc6675
  limited_transmit: no
  dsack: no
  undo: no
  hystart: no
  abc_limit: 0
  idle_restart: no
  quick_acks: 4
  ecn: passive
  user_timeout_ms: 30000
  notsent_lowat: 16384
  fastopen_key_rotate_s: 600
  fastopen_cache: 64
  fastopen_blackhole_s: 60
echo:
  udp_port: 0
  tcp_port: 7777
)";

TEST(ConfigLoad, FullFileSetsEveryField) {
  const StackConfig c = LoadOk(kFull);
  EXPECT_EQ(c.log_level, "debug");
  EXPECT_EQ(c.lcores, "0-1,3");
  EXPECT_EQ(c.eal_args, (std::vector<std::string>{"--no-pci", "--no-huge", "-m", "512"}));
  EXPECT_EQ(c.mempool, (MempoolConfig{32767, 128, 9216}));

  ASSERT_EQ(c.ports.size(), 2u);
  const PortConfig& w = c.ports[0];
  EXPECT_EQ(w.name, "wan");
  EXPECT_EQ(w.devargs, "net_tap0,iface=tern0");
  EXPECT_EQ(w.address, Prefix("198.18.0.2/24"));
  EXPECT_EQ(w.address.addr, Ipv4Addr::from_octets(198, 18, 0, 2)) << "the host bits are kept";
  ASSERT_TRUE(w.mac.has_value());
  EXPECT_EQ(*w.mac, (MacAddr{{0x02, 0, 0, 0, 0, 0x02}}));
  EXPECT_EQ(w.mtu, 9000);
  EXPECT_EQ(w.rx_desc, 512);
  EXPECT_EQ(w.tx_desc, 2048);
  EXPECT_EQ(w.capture, "/tmp/wan.pcap");
  EXPECT_EQ(w.fault.seed, 42u);
  EXPECT_DOUBLE_EQ(w.fault.loss, 0.01);
  EXPECT_DOUBLE_EQ(w.fault.duplicate, 0.02);
  EXPECT_DOUBLE_EQ(w.fault.reorder, 0.5);
  EXPECT_DOUBLE_EQ(w.fault.corrupt, 1.0);
  EXPECT_EQ(w.fault.delay_us, 250u);
  EXPECT_TRUE(w.fault.enabled());
  const PortConfig& l = c.ports[1];
  EXPECT_EQ(l.name, "lan");
  EXPECT_EQ(l.devargs, "0000:03:00.0");
  EXPECT_EQ(l.address, Prefix("198.19.0.1/16"));
  EXPECT_FALSE(l.mac.has_value());
  EXPECT_EQ(l.mtu, 1400);
  EXPECT_EQ(l.fault, FaultConfig{});

  ASSERT_EQ(c.routes.size(), 2u);
  EXPECT_EQ(c.routes[0], (RouteConfig{Prefix("0.0.0.0/0"), Addr("198.18.0.1"), ""}));
  EXPECT_EQ(c.routes[1], (RouteConfig{Prefix("198.18.64.0/18"), Addr("198.19.2.3"), "lan"}));

  EXPECT_EQ(c.arp, (ArpConfig{4096, 8, 20000, 300000, 500, 5, false, 2500}));
  EXPECT_EQ(c.ipv4, (Ipv4Config{128, 15000, 1048576, 64, 1280}));
  EXPECT_EQ(c.icmp, (IcmpConfig{false, 50, 10, 2, 4}));
  EXPECT_EQ(c.udp.rx_queue_len, 256u);
  EXPECT_EQ(c.echo, (EchoConfig{0, 7777}));

  const TcpConfig& t = c.tcp;
  EXPECT_EQ(t.congestion, "newreno");
  EXPECT_EQ(t.initial_window, 4u);
  EXPECT_EQ(t.delayed_ack_ms, 25u);
  EXPECT_EQ(t.rto_min_ms, 1000u);
  EXPECT_EQ(t.rto_max_ms, 60000u);
  EXPECT_EQ(t.rto_initial_ms, 3000u);
  EXPECT_EQ(t.msl_ms, 60000u);
  EXPECT_EQ(t.max_connections, 1024u);
  EXPECT_EQ(t.max_time_wait, 2048u);
  EXPECT_EQ(t.backlog, 128u);
  EXPECT_FALSE(t.syncookies);
  EXPECT_FALSE(t.timestamps);
  EXPECT_FALSE(t.sack);
  EXPECT_FALSE(t.window_scaling);
  EXPECT_EQ(t.send_buffer, 65536u);
  EXPECT_EQ(t.recv_buffer, 131072u);
  EXPECT_TRUE(t.nodelay);
  EXPECT_EQ(t.keepalive, (TcpKeepaliveConfig{true, 600, 10, 3}));
  EXPECT_EQ(t.max_retries, 8u);
  EXPECT_EQ(t.syn_retries, 3u);
  EXPECT_EQ(t.fin_wait_2_s, 30u);
  EXPECT_EQ(t.ooo_nodes, 4096u);
  EXPECT_EQ(t.challenge_ack_limit, 200u);
  EXPECT_EQ(t.challenge_ack_interval_ms, 250u);
  EXPECT_EQ(t.recovery, "rfc6675");
  EXPECT_FALSE(t.limited_transmit);
  EXPECT_FALSE(t.dsack);
  EXPECT_FALSE(t.undo);
  EXPECT_FALSE(t.hystart);
  EXPECT_EQ(t.abc_limit, 0u);
  EXPECT_FALSE(t.idle_restart);
  EXPECT_EQ(t.quick_acks, 4u);
  EXPECT_EQ(t.ecn, "passive");
  EXPECT_EQ(t.user_timeout_ms, 30000u);
  EXPECT_EQ(t.notsent_lowat, 16384u);
  EXPECT_EQ(t.fastopen_key_rotate_s, 600u);
  EXPECT_EQ(t.fastopen_cache, 64u);
  EXPECT_EQ(t.fastopen_blackhole_s, 60u);
  // Every field differs from its default, so each one was really parsed.
  const TcpConfig d;
  EXPECT_NE(t.congestion, d.congestion);
  EXPECT_NE(t.initial_window, d.initial_window);
  EXPECT_NE(t.delayed_ack_ms, d.delayed_ack_ms);
  EXPECT_NE(t.rto_min_ms, d.rto_min_ms);
  EXPECT_NE(t.rto_max_ms, d.rto_max_ms);
  EXPECT_NE(t.rto_initial_ms, d.rto_initial_ms);
  EXPECT_NE(t.msl_ms, d.msl_ms);
  EXPECT_NE(t.max_connections, d.max_connections);
  EXPECT_NE(t.max_time_wait, d.max_time_wait);
  EXPECT_NE(t.backlog, d.backlog);
  EXPECT_NE(t.send_buffer, d.send_buffer);
  EXPECT_NE(t.recv_buffer, d.recv_buffer);
  EXPECT_NE(t.keepalive.enabled, d.keepalive.enabled);
  EXPECT_NE(t.keepalive.idle_s, d.keepalive.idle_s);
  EXPECT_NE(t.keepalive.interval_s, d.keepalive.interval_s);
  EXPECT_NE(t.keepalive.count, d.keepalive.count);
  EXPECT_NE(t.max_retries, d.max_retries);
  EXPECT_NE(t.syn_retries, d.syn_retries);
  EXPECT_NE(t.fin_wait_2_s, d.fin_wait_2_s);
  EXPECT_NE(t.ooo_nodes, d.ooo_nodes);
}

TEST(ConfigLoad, AcceptsBoundaryValues) {
  const StackConfig c =
      LoadOk(OnePort("    mtu: 68\n    rx_desc: 64\n    tx_desc: 4096\n"
                     "    fault: {loss: 0, corrupt: 1.0, seed: 18446744073709551615}",
                     "ipv4: {default_ttl: 255}\necho: {udp_port: 65535, tcp_port: 0}"));
  EXPECT_EQ(c.ports[0].mtu, 68);
  EXPECT_EQ(c.ports[0].rx_desc, 64);
  EXPECT_EQ(c.ports[0].tx_desc, 4096);
  EXPECT_EQ(c.ports[0].fault.seed, 18446744073709551615u);
  EXPECT_EQ(c.ipv4.default_ttl, 255);
  EXPECT_EQ(c.echo.udp_port, 65535);
  EXPECT_EQ(c.echo.tcp_port, 0);
  const StackConfig j =
      LoadOk(OnePort("    mtu: 9000", "mempool: {data_room: 9014}\nipv4: {default_ttl: 1}"));
  EXPECT_EQ(j.ipv4.default_ttl, 1);
  EXPECT_EQ(j.mempool.data_room, 9014);
  EXPECT_EQ(LoadOk(OnePort("", "mempool: {data_room: 65407}")).mempool.data_room, 65407);
}

TEST(ConfigLoad, AcceptsLcoreListForms) {
  for (const char* l : {"0", "3", "0-1", "0,1", "0-3,6,8-9", "127"}) {
    EXPECT_EQ(LoadOk(OnePort("", (std::string("lcores: \"") + l + "\"").c_str())).lcores, l);
  }
  EXPECT_EQ(LoadOk(OnePort("", "lcores: 2")).lcores, "2") << "a plain integer is a one-lcore list";
}

TEST(ConfigLoad, RouteWithoutPortPicksThePortHoldingTheGateway) {
  const StackConfig c = LoadOk(kFull);
  EXPECT_EQ(port_for_route(c, c.routes[0]), std::optional<size_t>(0));
  EXPECT_EQ(port_for_route(c, c.routes[1]), std::optional<size_t>(1));
  RouteConfig r{Prefix("198.18.128.0/17"), Addr("198.19.9.9"), ""};
  EXPECT_EQ(port_for_route(c, r), std::optional<size_t>(1));
  r.gateway = Addr("198.18.5.1");
  EXPECT_EQ(port_for_route(c, r), std::nullopt);
  r.port = "nope";
  EXPECT_EQ(port_for_route(c, r), std::nullopt);
}

// ---------------------------------------------------------------------------
// Unknown and duplicate keys

struct UnknownKeyCase {
  const char* yaml;
  const char* path;
  int line;
  const char* accepted;  // part of the accepted key list for that level
};

class ConfigUnknownKey : public ::testing::TestWithParam<UnknownKeyCase> {};

TEST_P(ConfigUnknownKey, IsRejectedWithPositionAndAcceptedKeys) {
  const auto& p = GetParam();
  ExpectRejected(p.yaml, p.path, p.line, "unknown key");
  const ConfigError e = LoadErr(p.yaml);
  EXPECT_NE(e.message.find(p.accepted), std::string::npos) << e.message;
}

const std::string kUnknownTop = OnePort("", "verbose: true");
const std::string kUnknownMempool = OnePort("", "mempool:\n  mbufs: 2047\n  buffers: 10");
const std::string kUnknownPort = OnePort("    speed: 10");
const std::string kUnknownFault = OnePort("    fault:\n      loss: 0.1\n      jitter: 3");
const std::string kUnknownRoute =
    OnePort("", "routes:\n  - prefix: 0.0.0.0/0\n    gateway: 198.18.0.1\n    metric: 1");
const std::string kUnknownArp = OnePort("", "arp: {timeout: 1}");
const std::string kUnknownIpv4 = OnePort("", "ipv4:\n  ttl: 3");
const std::string kUnknownIcmp = OnePort("", "icmp:\n  rate: 3");
const std::string kUnknownUdp = OnePort("", "udp:\n  queue: 3");
const std::string kUnknownTcp = OnePort("", "tcp:\n  initial_window: 4\n  cc: cubic");
const std::string kUnknownTcpKeepalive = OnePort("", "tcp:\n  keepalive:\n    enabled: true\n    probes: 3");
const std::string kUnknownEcho = OnePort("", "echo:\n  port: 7");

INSTANTIATE_TEST_SUITE_P(
    EachLevel, ConfigUnknownKey,
    ::testing::Values(
        UnknownKeyCase{
            kUnknownTop.c_str(), "verbose", 5,
            "log_level, lcores, eal, mempool, cores, ports, routes, arp, ipv4, icmp, udp, tcp, echo"},
        UnknownKeyCase{kUnknownMempool.c_str(), "mempool.buffers", 7, "mbufs, cache, data_room"},
        UnknownKeyCase{
            kUnknownPort.c_str(), "ports[0].speed", 5,
            "name, devargs, ip, mac, mtu, rx_desc, tx_desc, queues, capture, checksum, gso, gro, fault"},
        UnknownKeyCase{kUnknownFault.c_str(), "ports[0].fault.jitter", 7,
                       "seed, loss, duplicate, reorder, corrupt, delay_us"},
        UnknownKeyCase{kUnknownRoute.c_str(), "routes[0].metric", 8, "prefix, gateway, port"},
        UnknownKeyCase{kUnknownArp.c_str(), "arp.timeout", 5,
                       "table_size, queue_len, reachable_ms, stale_ms, retry_ms, retries, gratuitous, "
                       "lock_time_ms"},
        UnknownKeyCase{kUnknownIpv4.c_str(), "ipv4.ttl", 6,
                       "default_ttl, reassembly_timeout_ms, reassembly_max_bytes, reassembly_max_datagrams, "
                       "pmtu_min"},
        UnknownKeyCase{kUnknownIcmp.c_str(), "icmp.rate", 6,
                       "echo, echo_rate, error_rate, dest_error_rate, dest_error_burst"},
        UnknownKeyCase{kUnknownUdp.c_str(), "udp.queue", 6, "rx_queue_len"},
        UnknownKeyCase{kUnknownTcp.c_str(), "tcp.cc", 7,
                       "congestion, initial_window, delayed_ack_ms, rto_min_ms, rto_max_ms, rto_initial_ms, "
                       "msl_ms, max_connections, max_time_wait, backlog, syncookies, timestamps, sack, "
                       "window_scaling, send_buffer, recv_buffer, nodelay, keepalive, max_retries, "
                       "syn_retries, fin_wait_2_s, ooo_nodes, memory_limit_kb, challenge_ack_limit, "
                       "challenge_ack_interval_ms, recovery, limited_transmit, dsack, undo, hystart, "
                       "abc_limit, idle_restart, quick_acks, ecn, user_timeout_ms, notsent_lowat, "
                       "fastopen_key_rotate_s, fastopen_cache, fastopen_blackhole_s"},
        UnknownKeyCase{kUnknownTcpKeepalive.c_str(), "tcp.keepalive.probes", 8,
                       "enabled, idle_s, interval_s, count"},
        UnknownKeyCase{kUnknownEcho.c_str(), "echo.port", 6, "udp_port, tcp_port"}));

TEST(ConfigUnknownKeyHint, SuggestsTheClosestKey) {
  const ConfigError e = LoadErr(OnePort("    mttu: 1400"));
  EXPECT_NE(e.message.find("did you mean 'mtu'?"), std::string::npos) << e.message;
  EXPECT_EQ(e.line, 5);
  EXPECT_EQ(e.column, 5);
}

TEST(ConfigDuplicateKey, IsRejected) {
  ExpectRejected(OnePort("    mtu: 1400\n    mtu: 1500"), "ports[0].mtu", 6,
                 "duplicate key 'mtu' (first at line 5)");
  ExpectRejected(OnePort("", "echo: {udp_port: 7}\necho: {tcp_port: 7}"), "echo", 6, "duplicate key");
}

// ---------------------------------------------------------------------------
// Bad values, one rule at a time

TEST(ConfigReject, WrongTypes) {
  ExpectRejected(OnePort("    mtu: abc"), "ports[0].mtu", 5, "'abc' is not an integer");
  ExpectRejected(OnePort("    mtu: 1500.5"), "ports[0].mtu", 5, "is not an integer");
  ExpectRejected(OnePort("    mtu: [1500]"), "ports[0].mtu", 5, "expected an integer, got a list");
  ExpectRejected(OnePort("    mtu:"), "ports[0].mtu", 5, "expected an integer, got no value");
  ExpectRejected(Doc({"ports:", "  - name: [a]", "    devargs: x", "    ip: 198.18.0.2/24"}), "ports[0].name",
                 2, "expected a string, got a list");
  ExpectRejected(OnePort("    fault: 0.5"), "ports[0].fault", 5, "expected a map, got '0.5'");
  ExpectRejected(OnePort("    fault: {loss: high}"), "ports[0].fault.loss", 5, "'high' is not a number");
  ExpectRejected(OnePort("", "icmp: {echo: maybe}"), "icmp.echo", 5, "'maybe' is not a boolean");
  ExpectRejected(OnePort("", "eal: --no-pci"), "eal", 5, "expected a list");
  ExpectRejected(OnePort("", "eal: [[a]]"), "eal[0]", 5, "expected a string, got a list");
  ExpectRejected(Doc({"ports: {name: p0}"}), "ports", 1, "expected a list, got a map");
  ExpectRejected(Doc({"ports:", "  - p0"}), "ports[0]", 2, "expected a map, got 'p0'");
  ExpectRejected(OnePort("", "arp: [1, 2]"), "arp", 5, "expected a map, got a list");
}

TEST(ConfigReject, MtuOutsideRange) {
  ExpectRejected(OnePort("    mtu: 67"), "ports[0].mtu", 5,
                 "67 is out of range; accepted: an integer 68..9000");
  ExpectRejected(OnePort("    mtu: 9001"), "ports[0].mtu", 5, "9001 is out of range");
  ExpectRejected(OnePort("    mtu: 70000"), "ports[0].mtu", 5, "70000 is out of range");
  ExpectRejected(OnePort("    mtu: -1"), "ports[0].mtu", 5, "-1 is out of range");
  ExpectRejected(OnePort("    mtu: 99999999999999999999999"), "ports[0].mtu", 5, "out of range");
}

TEST(ConfigReject, DescriptorsNotPowerOfTwoIn64To4096) {
  ExpectRejected(OnePort("    rx_desc: 1000"), "ports[0].rx_desc", 5,
                 "1000 is not a power of two; accepted: a power of two in 64..4096");
  ExpectRejected(OnePort("    rx_desc: 32"), "ports[0].rx_desc", 5, "32 is out of range");
  ExpectRejected(OnePort("    tx_desc: 8192"), "ports[0].tx_desc", 5, "8192 is out of range");
  ExpectRejected(OnePort("    tx_desc: 0"), "ports[0].tx_desc", 5, "0 is out of range");
}

TEST(ConfigReject, L4PortsOutside0To65535) {
  ExpectRejected(OnePort("", "echo:\n  udp_port: 65536"), "echo.udp_port", 6,
                 "65536 is out of range; accepted: 0 (disabled) or an integer 1..65535");
  ExpectRejected(OnePort("", "echo:\n  tcp_port: -7"), "echo.tcp_port", 6, "-7 is out of range");
}

TEST(ConfigReject, TtlOutside1To255) {
  ExpectRejected(OnePort("", "ipv4:\n  default_ttl: 0"), "ipv4.default_ttl", 6, "0 is out of range");
  ExpectRejected(OnePort("", "ipv4:\n  default_ttl: 256"), "ipv4.default_ttl", 6,
                 "256 is out of range; accepted: an integer 1..255");
}

TEST(ConfigReject, ProbabilityOutside0To1) {
  ExpectRejected(OnePort("    fault:\n      loss: 1.5"), "ports[0].fault.loss", 6,
                 "1.5 is outside [0, 1]; accepted: a probability 0..1");
  ExpectRejected(OnePort("    fault:\n      duplicate: -0.1"), "ports[0].fault.duplicate", 6,
                 "outside [0, 1]");
  ExpectRejected(OnePort("    fault:\n      reorder: 2"), "ports[0].fault.reorder", 6, "outside [0, 1]");
  ExpectRejected(OnePort("    fault:\n      corrupt: nan"), "ports[0].fault.corrupt", 6, "is not a number");
  ExpectRejected(OnePort("    fault:\n      corrupt: inf"), "ports[0].fault.corrupt", 6, "is not a number");
  ExpectRejected(OnePort("    fault:\n      delay_us: 2000000"), "ports[0].fault.delay_us", 6,
                 "out of range");
  ExpectRejected(OnePort("    fault:\n      seed: -1"), "ports[0].fault.seed", 6, "out of range");
}

TEST(ConfigReject, UnparsableAddresses) {
  ExpectRejected(Doc({"ports:", "  - name: p0", "    devargs: x", "    ip: 198.18.0.256/24"}), "ports[0].ip",
                 4, "'198.18.0.256/24' is not an IPv4 prefix");
  ExpectRejected(Doc({"ports:", "  - name: p0", "    devargs: x", "    ip: 198.18.0.2"}), "ports[0].ip", 4,
                 "is not an IPv4 prefix");
  ExpectRejected(Doc({"ports:", "  - name: p0", "    devargs: x", "    ip: 198.18.0.2/33"}), "ports[0].ip", 4,
                 "is not an IPv4 prefix");
  ExpectRejected(OnePort("    mac: 02:00:00:00:00"), "ports[0].mac", 5, "is not a MAC address");
  ExpectRejected(OnePort("    mac: 02-00-00-00-00-02"), "ports[0].mac", 5, "is not a MAC address");
  ExpectRejected(OnePort("", "routes:\n  - prefix: 198.18.0/8\n    gateway: 198.18.0.1"), "routes[0].prefix",
                 6, "is not an IPv4 prefix");
  ExpectRejected(
      OnePort("", "routes:\n  - prefix: 0.0.0.0/0\n    gateway: 198.18.0.1/24"), "routes[0].gateway", 7,
      "is not an IPv4 address (ipv4: trailing characters after address); accepted: an IPv4 address");
}

TEST(ConfigReject, UnusablePortAddresses) {
  ExpectRejected(Doc({"ports:", "  - name: p0", "    devargs: x", "    ip: 198.18.0.0/24"}), "ports[0].ip", 4,
                 "is the network address");
  ExpectRejected(Doc({"ports:", "  - name: p0", "    devargs: x", "    ip: 198.18.0.255/24"}), "ports[0].ip",
                 4, "is the broadcast address");
  ExpectRejected(Doc({"ports:", "  - name: p0", "    devargs: x", "    ip: 198.18.0.2/0"}), "ports[0].ip", 4,
                 "prefix length /0 is not usable");
  ExpectRejected(Doc({"ports:", "  - name: p0", "    devargs: x", "    ip: 224.0.0.1/24"}), "ports[0].ip", 4,
                 "not a unicast host address");
  ExpectRejected(Doc({"ports:", "  - name: p0", "    devargs: x", "    ip: 127.0.0.1/8"}), "ports[0].ip", 4,
                 "not a unicast host address");
  EXPECT_EQ(
      LoadOk(Doc({"ports:", "  - name: p0", "    devargs: x", "    ip: 198.18.0.0/31"})).ports[0].address.len,
      31)
      << "RFC 3021 /31 has no network or broadcast address";
  ExpectRejected(OnePort("    mac: 01:00:5e:00:00:01"), "ports[0].mac", 5, "is not a unicast MAC");
  ExpectRejected(OnePort("    mac: \"00:00:00:00:00:00\""), "ports[0].mac", 5, "is not a unicast MAC");
}

TEST(ConfigReject, LogLevelNotKnown) {
  ExpectRejected(OnePort("", "log_level: verbose"), "log_level", 5,
                 "'verbose' is not a log level; accepted: error, warn, info or debug");
  ExpectRejected(OnePort("", "log_level: INFO"), "log_level", 5, "not a log level");
}

TEST(ConfigReject, BadLcoreLists) {
  ExpectRejected(OnePort("", "lcores: abc"), "lcores", 5, "is not an lcore list");
  ExpectRejected(OnePort("", "lcores: \"1-0\""), "lcores", 5, "descending");
  ExpectRejected(OnePort("", "lcores: \"0,0\""), "lcores", 5, "listed twice");
  ExpectRejected(OnePort("", "lcores: \"128\""), "lcores", 5, "above 127");
  ExpectRejected(OnePort("", "lcores: \"0,\""), "lcores", 5, "is not an lcore list");
  ExpectRejected(OnePort("", "lcores: \"\""), "lcores", 5, "empty lcore list");
}

TEST(ConfigReject, EalArgumentsThatSetLcores) {
  ExpectRejected(OnePort("", "eal:\n  - --no-pci\n  - -l\n  - \"1\""), "eal[1]", 7,
                 "set the top-level `lcores`");
  ExpectRejected(OnePort("", "eal: [\"--lcores=0-1\"]"), "eal[0]", 5, "selects lcores");
  ExpectRejected(OnePort("", "eal: [\"-c0x3\"]"), "eal[0]", 5, "selects lcores");
  ExpectRejected(OnePort("", "eal: [\"\"]"), "eal[0]", 5, "empty argument");
}

TEST(ConfigReject, BadPortNamesAndDevargs) {
  ExpectRejected(Doc({"ports:", "  - name: \"my port\"", "    devargs: x", "    ip: 198.18.0.2/24"}),
                 "ports[0].name", 2, "is not a valid port name");
  ExpectRejected(Doc({"ports:", "  - name: \"\"", "    devargs: x", "    ip: 198.18.0.2/24"}),
                 "ports[0].name", 2, "is not a valid port name");
  ExpectRejected(Doc({"ports:", "  - name: p0", "    devargs: \"\"", "    ip: 198.18.0.2/24"}),
                 "ports[0].devargs", 3, "is not a DPDK device string");
}

TEST(ConfigReject, MissingRequiredKeys) {
  ExpectRejected(Doc({"ports:", "  - devargs: x", "    ip: 198.18.0.2/24"}), "ports[0].name", 2,
                 "missing required key 'name'");
  ExpectRejected(Doc({"ports:", "  - name: p0", "    ip: 198.18.0.2/24"}), "ports[0].devargs", 2,
                 "missing required key 'devargs'");
  ExpectRejected(Doc({"ports:", "  - name: p0", "    devargs: x"}), "ports[0].ip", 2,
                 "missing required key 'ip'");
  ExpectRejected(Doc({"ports:", "  -"}), "ports[0]", 2, "empty port entry");
  ExpectRejected(OnePort("", "routes:\n  - gateway: 198.18.0.1"), "routes[0].prefix", 6,
                 "missing required key 'prefix'");
  ExpectRejected(OnePort("", "routes:\n  - prefix: 0.0.0.0/0"), "routes[0].gateway", 6,
                 "missing required key 'gateway'");
}

TEST(ConfigReject, DuplicatePortName) {
  ExpectRejected(Doc({"ports:", "  - name: p0", "    devargs: a", "    ip: 198.18.0.2/24", "  - name: p0",
                      "    devargs: b", "    ip: 198.18.1.2/24"}),
                 "ports[1].name", 5, "duplicate port name 'p0' (also ports[0])");
}

TEST(ConfigReject, DuplicateAddressOverlappingPrefixesAndDuplicateMac) {
  ExpectRejected(Doc({"ports:", "  - name: p0", "    devargs: a", "    ip: 198.18.0.2/24", "  - name: p1",
                      "    devargs: b", "    ip: 198.18.0.2/24"}),
                 "ports[1].ip", 7, "address 198.18.0.2 is also ports[0].ip");
  ExpectRejected(Doc({"ports:", "  - name: p0", "    devargs: a", "    ip: 198.18.0.2/16", "  - name: p1",
                      "    devargs: b", "    ip: 198.18.5.2/24"}),
                 "ports[1].ip", 7, "overlaps ports[0].ip 198.18.0.2/16");
  ExpectRejected(
      Doc({"ports:", "  - name: p0", "    devargs: a", "    ip: 198.18.0.2/24", "    mac: 02:00:00:00:00:01",
           "  - name: p1", "    devargs: b", "    ip: 198.18.1.2/24", "    mac: 02:00:00:00:00:01"}),
      "ports[1].mac", 9, "is also ports[0].mac");
}

TEST(ConfigReject, RouteNamingUnknownPort) {
  ExpectRejected(OnePort("", "routes:\n  - prefix: 0.0.0.0/0\n    gateway: 198.18.0.1\n    port: eth9"),
                 "routes[0].port", 8, "unknown port 'eth9'; accepted: one of the configured ports (p0)");
}

TEST(ConfigReject, GatewayOutsideEveryConnectedPrefix) {
  ExpectRejected(
      OnePort("", "routes:\n  - prefix: 0.0.0.0/0\n    gateway: 198.18.5.1"), "routes[0].gateway", 7,
      "198.18.5.1 is not inside any port's connected prefix, so it is unreachable; accepted: an address "
      "inside a port's connected prefix (p0: 198.18.0.2/24)");
  // With a port named, the gateway must be on that port.
  ExpectRejected(Doc({"ports:", "  - name: p0", "    devargs: a", "    ip: 198.18.0.2/24", "  - name: p1",
                      "    devargs: b", "    ip: 198.18.1.2/24", "routes:", "  - prefix: 0.0.0.0/0",
                      "    gateway: 198.18.0.1", "    port: p1"}),
                 "routes[0].gateway", 10, "is not inside the connected prefix 198.18.1.2/24 of port 'p1'");
  ExpectRejected(OnePort("", "routes:\n  - prefix: 0.0.0.0/0\n    gateway: 198.18.0.2"), "routes[0].gateway",
                 7, "the stack's own address");
  ExpectRejected(OnePort("", "routes:\n  - prefix: 0.0.0.0/0\n    gateway: 198.18.0.255"),
                 "routes[0].gateway", 7, "network or broadcast address");
}

TEST(ConfigReject, RoutePrefixWithHostBitsOrTwice) {
  ExpectRejected(OnePort("", "routes:\n  - prefix: 198.19.0.1/16\n    gateway: 198.18.0.1"),
                 "routes[0].prefix", 6,
                 "has host bits set; accepted: the network address of the prefix, here 198.19.0.0/16");
  ExpectRejected(OnePort("",
                         "routes:\n  - prefix: 0.0.0.0/0\n    gateway: 198.18.0.1\n  - prefix: 0.0.0.0/0\n"
                         "    gateway: 198.18.0.3"),
                 "routes[1].prefix", 8, "duplicate route to 0.0.0.0/0 (also routes[0])");
}

TEST(ConfigReject, NoPortsAtAll) {
  ExpectRejected("", "ports", 1, "no ports are configured");
  ExpectRejected("# nothing but a comment\n", "ports", 1, "no ports are configured");
  ExpectRejected("log_level: debug\nports: []\n", "ports", 2, "no ports are configured");
  ExpectRejected("log_level: debug\nports:\n", "ports", 2, "no ports are configured");
  ExpectRejected("log_level: debug\n", "ports", 1, "no ports are configured");
}

TEST(ConfigReject, MempoolTooSmallForTheConfiguration) {
  ExpectRejected(OnePort("", "mempool:\n  mbufs: 2047"), "mempool.mbufs", 6,
                 "2047 mbufs per lcore cannot fill the rings");
  ExpectRejected(OnePort("", "mempool:\n  mbufs: 2047"), "mempool.mbufs", 6, "accepted: at least 2304");
  ExpectRejected(OnePort("", "mempool:\n  mbufs: 2559\n  cache: 512\nlcores: \"0-3\""), "mempool.mbufs", 6,
                 "at least 2560");
  EXPECT_EQ(LoadOk(OnePort("", "mempool:\n  mbufs: 2304")).mempool.mbufs, 2304u) << "exactly enough";
  ExpectRejected(Doc({"ports:", "  - {name: a, devargs: a, ip: 198.18.0.2/24, rx_desc: 4096, tx_desc: 4096}",
                      "  - {name: b, devargs: b, ip: 198.18.1.2/24, rx_desc: 4096, tx_desc: 4096}"}),
                 "mempool.mbufs", 1, "16383 mbufs (the default) per lcore cannot fill the rings");
  ExpectRejected(OnePort("", "mempool:\n  mbufs: 1023\n  cache: 700"), "mempool.cache", 7,
                 "700 is out of range");
  ExpectRejected(
      OnePort("    mtu: 9000"), "ports[0].mtu", 5,
      "mtu 9000 does not fit one mbuf: a frame needs 14 Ethernet header + 9000 = 9014 bytes, "
      "mempool.data_room is 2048 (the default); accepted: at most 2034, or raise mempool.data_room to "
      "at least 9014");
  ExpectRejected(OnePort("    mtu: 9000", "mempool:\n  data_room: 4096"), "ports[0].mtu", 5,
                 "mempool.data_room is 4096; accepted: at most 4082");
  ExpectRejected(OnePort("", "mempool:\n  data_room: 512"), "mempool.data_room", 6, "512 is out of range");
  ExpectRejected(OnePort("", "mempool:\n  data_room: 65408"), "mempool.data_room", 6,
                 "65408 is out of range; accepted: an integer 1024..65407");
}

TEST(ConfigReject, OtherSectionRanges) {
  ExpectRejected(OnePort("", "arp:\n  table_size: 0"), "arp.table_size", 6, "out of range");
  ExpectRejected(OnePort("", "arp:\n  queue_len: 0"), "arp.queue_len", 6, "out of range");
  ExpectRejected(OnePort("", "arp:\n  retries: 0"), "arp.retries", 6, "out of range");
  ExpectRejected(OnePort("", "arp:\n  retry_ms: 5"), "arp.retry_ms", 6, "out of range");
  ExpectRejected(OnePort("", "arp:\n  reachable_ms: 60000\n  stale_ms: 1000"), "arp.stale_ms", 7,
                 "1000 is below arp.reachable_ms 60000");
  ExpectRejected(OnePort("", "arp:\n  gratuitous: 1"), "arp.gratuitous", 6, "is not a boolean");
  ExpectRejected(OnePort("", "ipv4:\n  reassembly_timeout_ms: 0"), "ipv4.reassembly_timeout_ms", 6,
                 "out of range");
  ExpectRejected(OnePort("", "ipv4:\n  reassembly_max_bytes: 1000"), "ipv4.reassembly_max_bytes", 6,
                 "out of range");
  ExpectRejected(OnePort("", "ipv4:\n  reassembly_max_datagrams: 0"), "ipv4.reassembly_max_datagrams", 6,
                 "out of range");
  ExpectRejected(OnePort("", "ipv4:\n  pmtu_min: 67"), "ipv4.pmtu_min", 6, "out of range");
  ExpectRejected(OnePort("", "icmp:\n  error_rate: 0"), "icmp.error_rate", 6, "out of range");
  ExpectRejected(OnePort("", "icmp:\n  dest_error_burst: 0"), "icmp.dest_error_burst", 6, "out of range");
  ExpectRejected(OnePort("", "icmp:\n  error_burst: 50"), "icmp.error_burst", 6, "was removed");
  ExpectRejected(OnePort("", "arp:\n  lock_time_ms: 60001"), "arp.lock_time_ms", 6, "out of range");
  ExpectRejected(OnePort("", "tcp:\n  challenge_ack_limit: 0"), "tcp.challenge_ack_limit", 6, "out of range");
  ExpectRejected(OnePort("", "udp:\n  rx_queue_len: 0"), "udp.rx_queue_len", 6, "out of range");
}

TEST(ConfigReject, YamlSyntaxErrorReportsPosition) {
  const ConfigError e = LoadErr(OnePort("    mtu: [1500", ""));
  EXPECT_GT(e.line, 0) << e.message;
  EXPECT_EQ(e.message.rfind("t.yaml:" + std::to_string(e.line) + ":", 0), 0u) << e.message;
  EXPECT_NE(e.message.find("YAML syntax error"), std::string::npos) << e.message;
  EXPECT_NE(e.message.find("accepted: "), std::string::npos) << e.message;

  const ConfigError tab = LoadErr("ports:\n  - name: p0\n\t devargs: x\n");
  EXPECT_NE(tab.message.find("YAML syntax error"), std::string::npos) << tab.message;
  EXPECT_GT(tab.line, 0);
}

TEST(ConfigReject, DocumentShape) {
  ExpectRejected(OnePort() + "---\nlog_level: info\n", "", 5, "more than one YAML document");
  ExpectRejected(OnePort() + "...\n---\n", "", 6, "more than one YAML document");
  const ConfigError list = LoadErr("- a\n- b\n");
  EXPECT_EQ(list.line, 1);
  EXPECT_NE(list.message.find("the document must be a map of top-level keys"), std::string::npos)
      << list.message;
  ExpectRejected(OnePort("", "? [a, b]\n: 1"), "", 5, "a key must be a plain name");
}

TEST(ConfigReject, StrayCommaIsASyntaxErrorNotAHang) {
  // yaml-cpp 0.7's LoadAll() loops forever on these (jbeder/yaml-cpp#1040).
  ExpectRejected(",\n", "", 1, "YAML syntax error");
  ExpectRejected("# comment\n,#\n" + OnePort(), "", 2, "YAML syntax error");
  ExpectRejected(OnePort() + ",\n", "", 5, "YAML syntax error");
}

TEST(ConfigReject, ColumnPointsAtTheValue) {
  const ConfigError e = LoadErr(OnePort("    mtu:   67"));
  EXPECT_EQ(e.line, 5);
  EXPECT_EQ(e.column, 12);
}

// ---------------------------------------------------------------------------
// tcp: section

void ExpectRoundTrip(const StackConfig& c);

struct TcpRangeCase {
  const char* key;  // key path below tcp, e.g. "keepalive.count"
  uint64_t min;
  uint64_t max;
};

std::string TcpDoc(const std::string& key, uint64_t value) {
  const std::string v = std::to_string(value);
  if (key.rfind("keepalive.", 0) == 0) {
    return OnePort("", ("tcp:\n  keepalive:\n    " + key.substr(10) + ": " + v).c_str());  // value on line 7
  }
  return OnePort("", ("tcp:\n  " + key + ": " + v).c_str());  // value on line 6
}

class ConfigTcpRange : public ::testing::TestWithParam<TcpRangeCase> {};

TEST_P(ConfigTcpRange, RejectsJustOutsideTheRangeNamingKeyAndRange) {
  const auto& c = GetParam();
  const std::string key = c.key;
  const std::string path = "tcp." + key;
  const int line = key.rfind("keepalive.", 0) == 0 ? 7 : 6;
  const std::string range = "; accepted: an integer " + std::to_string(c.min) + ".." + std::to_string(c.max);
  ExpectRejected(TcpDoc(key, c.min - 1), path, line, std::to_string(c.min - 1) + " is out of range" + range);
  ExpectRejected(TcpDoc(key, c.max + 1), path, line, std::to_string(c.max + 1) + " is out of range" + range);
  const std::string negative =
      line == 7 ? OnePort("", ("tcp:\n  keepalive:\n    " + key.substr(10) + ": -1").c_str())
                : OnePort("", ("tcp:\n  " + key + ": -1").c_str());
  ExpectRejected(negative, path, line, "-1 is out of range" + range);
}

TEST_P(ConfigTcpRange, AcceptsBothEnds) {
  const auto& c = GetParam();
  const std::string key = c.key;
  for (uint64_t v : {c.min, c.max}) {
    std::string doc = TcpDoc(key, v);
    // rto_max_ms must also be at least rto_min_ms.
    if (key == "rto_max_ms") doc += "  rto_min_ms: 1\n";
    if (key == "rto_min_ms") doc += "  rto_max_ms: 600000\n";
    const StackConfig s = LoadOk(doc);
    ExpectRoundTrip(s);
  }
}

INSTANTIATE_TEST_SUITE_P(
    EachKey, ConfigTcpRange,
    ::testing::Values(TcpRangeCase{"initial_window", 1, 100}, TcpRangeCase{"delayed_ack_ms", 1, 499},
                      TcpRangeCase{"rto_min_ms", 1, 60000}, TcpRangeCase{"rto_max_ms", 1, 600000},
                      TcpRangeCase{"rto_initial_ms", 1, 60000}, TcpRangeCase{"msl_ms", 1, 600000},
                      TcpRangeCase{"max_connections", 1, 4194304}, TcpRangeCase{"max_time_wait", 1, 4194304},
                      TcpRangeCase{"backlog", 1, 65535}, TcpRangeCase{"send_buffer", 4096, 67108864},
                      TcpRangeCase{"recv_buffer", 4096, 67108864}, TcpRangeCase{"max_retries", 1, 100},
                      TcpRangeCase{"syn_retries", 1, 20}, TcpRangeCase{"fin_wait_2_s", 1, 3600},
                      TcpRangeCase{"ooo_nodes", 16, 4194304}, TcpRangeCase{"keepalive.idle_s", 1, 604800},
                      TcpRangeCase{"keepalive.interval_s", 1, 86400},
                      TcpRangeCase{"keepalive.count", 1, 255}),
    [](const ::testing::TestParamInfo<TcpRangeCase>& info) {
      std::string n = info.param.key;
      for (char& ch : n) {
        if (ch == '.') ch = '_';
      }
      return n;
    });

// Buffer accounting (docs/robustness.md): 0 means automatic for both keys.
TEST(ConfigTcp, MemoryLimitIsKibPerCoreWithZeroAutomatic) {
  EXPECT_EQ(LoadOk(OnePort()).tcp.memory_limit_kb, 0u) << "automatic by default";
  EXPECT_EQ(LoadOk(TcpDoc("memory_limit_kb", 0)).tcp.memory_limit_kb, 0u);
  const StackConfig big = LoadOk(TcpDoc("memory_limit_kb", 16777216));
  EXPECT_EQ(big.tcp.memory_limit_kb, 16777216u);
  ExpectRoundTrip(big);
  ExpectRejected(TcpDoc("memory_limit_kb", 16777217), "tcp.memory_limit_kb", 6,
                 "16777217 is out of range; accepted: an integer 0..16777216");
  ExpectRejected(OnePort("", "tcp:\n  memory_limit_kb: -1"), "tcp.memory_limit_kb", 6, "-1 is out of range");
}

// Issue 12: loss recovery, ECN and Fast Open keys are parsed, dumped and read back, and bad values
// are refused with the accepted set (the mapping to the engine: tcp_params_test.cpp).
TEST(ConfigTcp, ModernTcpKeysParseAndRoundTrip) {
  const StackConfig d = LoadOk(OnePort());
  EXPECT_EQ(d.tcp.recovery, "rack-tlp");
  EXPECT_EQ(d.tcp.ecn, "off");
  const StackConfig c =
      LoadOk(OnePort("",
                     "tcp:\n  recovery: rfc6675\n  ecn: on\n  abc_limit: 0\n  quick_acks: 0\n"
                     "  user_timeout_ms: 1500\n  fastopen_cache: 8"));
  ExpectRoundTrip(c);
  EXPECT_EQ(c.tcp.recovery, "rfc6675");
  EXPECT_EQ(c.tcp.ecn, "on");
  EXPECT_EQ(c.tcp.abc_limit, 0u);
  EXPECT_EQ(c.tcp.quick_acks, 0u);
  EXPECT_EQ(c.tcp.user_timeout_ms, 1500u);
  EXPECT_EQ(c.tcp.fastopen_cache, 8u);
  ExpectRejected(OnePort("", "tcp:\n  recovery: reno"), "tcp.recovery", 6, "accepted: rack-tlp or rfc6675");
  ExpectRejected(OnePort("", "tcp:\n  ecn: yes"), "tcp.ecn", 6, "accepted: off, passive or on");
  ExpectRejected(TcpDoc("quick_acks", 256), "tcp.quick_acks", 6, "256 is out of range");
}

TEST(ConfigReject, RxReserveMustLeaveSomethingOfThePool) {
  EXPECT_EQ(LoadOk(OnePort()).mempool.rx_reserve, 0u) << "automatic by default";
  const StackConfig c = LoadOk(OnePort("", "mempool:\n  mbufs: 8191\n  rx_reserve: 4000"));
  EXPECT_EQ(c.mempool.rx_reserve, 4000u);
  ExpectRoundTrip(c);
  ExpectRejected(OnePort("", "mempool:\n  mbufs: 8191\n  rx_reserve: 8191"), "mempool.rx_reserve", 7,
                 "8191 mbufs leaves nothing of the pool of 8191");
  ExpectRejected(OnePort("", "mempool:\n  rx_reserve: 16777216"), "mempool.rx_reserve", 6, "out of range");
}

TEST(ConfigTcp, CongestionIsCubicOrNewreno) {
  EXPECT_EQ(LoadOk(OnePort("", "tcp: {congestion: newreno}")).tcp.congestion, "newreno");
  EXPECT_EQ(LoadOk(OnePort("", "tcp: {congestion: cubic}")).tcp.congestion, "cubic");
  EXPECT_EQ(LoadOk(OnePort("", "tcp: {congestion: \"newreno\"}")).tcp.congestion, "newreno");
  ExpectRejected(OnePort("", "tcp:\n  congestion: bbr"), "tcp.congestion", 6,
                 "'bbr' is not a congestion control algorithm; accepted: cubic or newreno");
  ExpectRejected(OnePort("", "tcp:\n  congestion: Cubic"), "tcp.congestion", 6,
                 "'Cubic' is not a congestion control algorithm");
  ExpectRejected(OnePort("", "tcp:\n  congestion: \"\""), "tcp.congestion", 6,
                 "'' is not a congestion control algorithm");
  ExpectRejected(OnePort("", "tcp:\n  congestion: [cubic]"), "tcp.congestion", 6,
                 "expected a string, got a list; accepted: cubic or newreno");
}

TEST(ConfigTcp, RtoMaxBelowRtoMinIsRejected) {
  ExpectRejected(OnePort("", "tcp:\n  rto_min_ms: 5000\n  rto_max_ms: 1000"), "tcp.rto_max_ms", 7,
                 "1000 is below tcp.rto_min_ms 5000; accepted: an integer 5000..600000");
  const StackConfig eq = LoadOk(OnePort("", "tcp:\n  rto_min_ms: 5000\n  rto_max_ms: 5000"));
  EXPECT_EQ(eq.tcp.rto_max_ms, 5000u);
  // The initial RTO may lie outside [rto_min_ms, rto_max_ms]: the engine clamps it (RFC 6298 §2.4, §2.5).
  EXPECT_EQ(LoadOk(OnePort("", "tcp: {rto_min_ms: 2000, rto_initial_ms: 1000}")).tcp.rto_initial_ms, 1000u);
}

TEST(ConfigTcp, BooleansAndWrongTypes) {
  const StackConfig c = LoadOk(OnePort(
      "", "tcp: {syncookies: no, timestamps: off, sack: false, window_scaling: False, nodelay: yes}"));
  EXPECT_FALSE(c.tcp.syncookies);
  EXPECT_FALSE(c.tcp.timestamps);
  EXPECT_FALSE(c.tcp.sack);
  EXPECT_FALSE(c.tcp.window_scaling);
  EXPECT_TRUE(c.tcp.nodelay);
  for (const char* key : {"syncookies", "timestamps", "sack", "window_scaling", "nodelay"}) {
    ExpectRejected(OnePort("", (std::string("tcp:\n  ") + key + ": 1").c_str()), std::string("tcp.") + key, 6,
                   "'1' is not a boolean; accepted: true or false");
  }
  ExpectRejected(OnePort("", "tcp:\n  keepalive:\n    enabled: sometimes"), "tcp.keepalive.enabled", 7,
                 "'sometimes' is not a boolean");
  ExpectRejected(OnePort("", "tcp: [1, 2]"), "tcp", 5, "expected a map, got a list");
  ExpectRejected(OnePort("", "tcp:\n  keepalive: 30"), "tcp.keepalive", 6,
                 "expected a map, got '30'; accepted: a map with keys enabled, idle_s, interval_s, count");
  ExpectRejected(OnePort("", "tcp:\n  backlog: lots"), "tcp.backlog", 6, "'lots' is not an integer");
  ExpectRejected(OnePort("", "tcp:\n  send_buffer: 64k"), "tcp.send_buffer", 6, "'64k' is not an integer");
  ExpectRejected(OnePort("", "tcp:\n  backlog: 8\n  backlog: 9"), "tcp.backlog", 7,
                 "duplicate key 'backlog' (first at line 6)");
}

TEST(ConfigTcp, KeepaliveSubKeys) {
  const StackConfig on = LoadOk(OnePort("", "tcp:\n  keepalive:\n    enabled: true"));
  EXPECT_EQ(on.tcp.keepalive, (TcpKeepaliveConfig{true, 7200, 75, 9}))
      << "other sub-keys keep their defaults";
  const StackConfig empty = LoadOk(OnePort("", "tcp:\n  keepalive:"));
  EXPECT_EQ(empty.tcp.keepalive, TcpKeepaliveConfig{});
  const StackConfig all =
      LoadOk(OnePort("", "tcp:\n  keepalive: {enabled: on, idle_s: 60, interval_s: 5, count: 255}"));
  EXPECT_EQ(all.tcp.keepalive, (TcpKeepaliveConfig{true, 60, 5, 255}));
  EXPECT_EQ(all.tcp, (TcpConfig{.keepalive = TcpKeepaliveConfig{true, 60, 5, 255}}))
      << "nothing else changes";
}

TEST(ConfigTcp, UnknownKeySuggestsTheClosest) {
  ExpectRejected(OnePort("", "tcp:\n  nodelays: true"), "tcp.nodelays", 6,
                 "unknown key 'nodelays' (did you mean 'nodelay'?); accepted: congestion, initial_window");
  ExpectRejected(
      OnePort("", "tcp:\n  keepalive: {intervals: 3}"), "tcp.keepalive.intervals", 6,
      "unknown key 'intervals' (did you mean 'interval_s'?); accepted: enabled, idle_s, interval_s, "
      "count");
  ExpectRejected(OnePort("", "tcp:\n  keepalive_idle_s: 3"), "tcp.keepalive_idle_s", 6, "unknown key");
}

TEST(ConfigTcp, ValidateChecksValuesSetInCode) {
  StackConfig c;
  PortConfig p;
  p.name = "p0";
  p.devargs = "net_null0";
  p.address = Prefix("198.18.0.2/24");
  c.ports.push_back(p);
  ASSERT_FALSE(validate(c).has_value());

  StackConfig b = c;
  b.tcp.congestion = "vegas";
  ASSERT_TRUE(validate(b).has_value());
  EXPECT_EQ(validate(b)->message,
            "tcp.congestion: 'vegas' is not a congestion control algorithm; accepted: cubic or newreno");

  b = c;
  b.tcp.keepalive.count = 0;
  ASSERT_TRUE(validate(b).has_value());
  EXPECT_EQ(validate(b)->message,
            "tcp.keepalive.count: 0 is out of range; accepted: an integer 1..255 (probes)");

  b = c;
  b.tcp.rto_max_ms = 100;
  ASSERT_TRUE(validate(b).has_value());
  EXPECT_EQ(validate(b)->message,
            "tcp.rto_max_ms: 100 is below tcp.rto_min_ms 200; accepted: an integer 200..600000 "
            "(milliseconds, at least tcp.rto_min_ms)");

  b = c;
  b.tcp.delayed_ack_ms = 500;
  ASSERT_TRUE(validate(b).has_value());
  EXPECT_EQ(validate(b)->path, "tcp.delayed_ack_ms");

  b = c;
  b.tcp.ooo_nodes = 8;
  ASSERT_TRUE(validate(b).has_value());
  EXPECT_EQ(validate(b)->path, "tcp.ooo_nodes");
}

TEST(ConfigTcp, RoundTripsThroughToYaml) {
  StackConfig c = LoadOk(OnePort());
  c.tcp = TcpConfig{.congestion = "newreno",
                    .initial_window = 1,
                    .delayed_ack_ms = 499,
                    .rto_min_ms = 1,
                    .rto_max_ms = 600000,
                    .rto_initial_ms = 60000,
                    .msl_ms = 1,
                    .max_connections = 4194304,
                    .max_time_wait = 1,
                    .backlog = 65535,
                    .syncookies = false,
                    .timestamps = false,
                    .sack = false,
                    .window_scaling = false,
                    .send_buffer = 4096,
                    .recv_buffer = 67108864,
                    .nodelay = true,
                    .keepalive = {true, 604800, 86400, 255},
                    .max_retries = 100,
                    .syn_retries = 20,
                    .fin_wait_2_s = 3600,
                    .ooo_nodes = 16};
  ASSERT_FALSE(validate(c).has_value()) << validate(c)->message;
  ExpectRoundTrip(c);
  const std::string y = to_yaml(c);
  EXPECT_NE(y.find("congestion: \"newreno\""), std::string::npos) << y;
  EXPECT_NE(
      y.find("  keepalive:\n    enabled: true\n    idle_s: 604800\n    interval_s: 86400\n    count: 255\n"),
      std::string::npos)
      << y;
}

// ---------------------------------------------------------------------------
// validate() on configs built in code

StackConfig GoodConfig() {
  StackConfig c;
  PortConfig p;
  p.name = "p0";
  p.devargs = "net_null0";
  p.address = Prefix("198.18.0.2/24");
  c.ports.push_back(p);
  c.routes.push_back(RouteConfig{Prefix("0.0.0.0/0"), Addr("198.18.0.1"), ""});
  return c;
}

TEST(ConfigValidate, AcceptsAGoodConfig) {
  const auto e = validate(GoodConfig());
  EXPECT_FALSE(e.has_value()) << e->message;
}

TEST(ConfigValidate, DefaultConfigHasNoPorts) {
  const auto e = validate(StackConfig{});
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->path, "ports");
  EXPECT_EQ(e->line, 0);
  EXPECT_EQ(e->message.rfind("ports: no ports are configured", 0), 0u) << e->message;
}

TEST(ConfigValidate, ChecksRangesOfValuesSetInCode) {
  StackConfig c = GoodConfig();
  c.ports[0].mtu = 10;
  auto e = validate(c);
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->message,
            "ports[0].mtu: 10 is out of range; accepted: an integer 68..9000 (bytes of IP packet, RFC "
            "791 minimum 68)");

  c = GoodConfig();
  c.ports[0].fault.loss = std::numeric_limits<double>::quiet_NaN();
  e = validate(c);
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->path, "ports[0].fault.loss");

  c = GoodConfig();
  c.log_level = "loud";
  ASSERT_TRUE(validate(c).has_value());
  EXPECT_EQ(validate(c)->path, "log_level");

  c = GoodConfig();
  c.routes[0].port = "p9";
  ASSERT_TRUE(validate(c).has_value());
  EXPECT_EQ(validate(c)->path, "routes[0].port");

  c = GoodConfig();
  c.ports[0].address.len = 40;
  ASSERT_TRUE(validate(c).has_value());
  EXPECT_EQ(validate(c)->path, "ports[0].ip");

  c = GoodConfig();
  c.ipv4.default_ttl = 0;
  ASSERT_TRUE(validate(c).has_value());
  EXPECT_EQ(validate(c)->path, "ipv4.default_ttl");
}

// ---------------------------------------------------------------------------
// Files

TEST(ConfigFile, EchoTapExampleLoads) {
  auto r = load_file(TERN_SOURCE_DIR "/config/echo-tap.yaml");
  ASSERT_TRUE(std::holds_alternative<StackConfig>(r)) << std::get<ConfigError>(r).message;
  const StackConfig& c = std::get<StackConfig>(r);
  ASSERT_EQ(c.ports.size(), 1u);
  EXPECT_EQ(c.ports[0].name, "tap0");
  EXPECT_EQ(c.ports[0].devargs, "net_tap0,iface=tern0");
  EXPECT_EQ(c.ports[0].address, Prefix("198.18.0.2/24"));
  ASSERT_EQ(c.routes.size(), 1u);
  EXPECT_EQ(c.routes[0].prefix, Prefix("0.0.0.0/0"));
  EXPECT_EQ(c.routes[0].gateway, Addr("198.18.0.1"));
  EXPECT_EQ(port_for_route(c, c.routes[0]), std::optional<size_t>(0));
  EXPECT_EQ(c.lcores, "0");
  EXPECT_EQ(c.echo.udp_port, 7);
  EXPECT_EQ(c.echo.tcp_port, 7);
}

TEST(ConfigFile, EchoPcapExampleLoads) {
  auto r = load_file(TERN_SOURCE_DIR "/config/echo-pcap.yaml");
  ASSERT_TRUE(std::holds_alternative<StackConfig>(r)) << std::get<ConfigError>(r).message;
  const StackConfig& c = std::get<StackConfig>(r);
  ASSERT_EQ(c.ports.size(), 1u);
  EXPECT_EQ(c.ports[0].devargs, "net_pcap0,rx_pcap=in.pcap,tx_pcap=out.pcap");
  EXPECT_EQ(c.ports[0].address, Prefix("198.18.0.2/24"));
  ASSERT_TRUE(c.ports[0].mac.has_value());
  EXPECT_EQ(c.ports[0].mac->to_string(), "02:00:00:00:00:02");
}

TEST(ConfigFile, MissingFileNamesThePath) {
  auto r = load_file("config/does-not-exist.yaml");
  ASSERT_TRUE(std::holds_alternative<ConfigError>(r));
  const std::string& m = std::get<ConfigError>(r).message;
  EXPECT_EQ(m.rfind("config/does-not-exist.yaml: cannot open the file: No such file or directory", 0), 0u)
      << m;
}

TEST(ConfigFile, ErrorsNameTheFileLineAndColumn) {
  char path[] = "/tmp/tern-config-test-XXXXXX";
  const int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  close(fd);
  {
    std::ofstream f(path);
    f << OnePort("    fault:\n      loss: 3");
  }
  auto r = load_file(path);
  std::remove(path);
  ASSERT_TRUE(std::holds_alternative<ConfigError>(r));
  EXPECT_EQ(std::get<ConfigError>(r).message,
            std::string(path) +
                ":6:13: ports[0].fault.loss: 3 is outside [0, 1]; accepted: a probability 0..1 "
                "(e.g. 0.01 for 1%)");
}

// ---------------------------------------------------------------------------
// to_yaml

void ExpectRoundTrip(const StackConfig& c) {
  const std::string text = to_yaml(c);
  auto r = load_string(text, "to_yaml");
  ASSERT_TRUE(std::holds_alternative<StackConfig>(r)) << std::get<ConfigError>(r).message << "\n" << text;
  EXPECT_EQ(std::get<StackConfig>(r), c) << text;
  EXPECT_EQ(to_yaml(std::get<StackConfig>(r)), text) << "printing is stable";
}

TEST(ConfigToYaml, RoundTripsTheFullFile) { ExpectRoundTrip(LoadOk(kFull)); }

TEST(ConfigToYaml, RoundTripsTheMinimalFileAndTheExamples) {
  ExpectRoundTrip(LoadOk(OnePort()));
  for (const char* f : {TERN_SOURCE_DIR "/config/echo-tap.yaml", TERN_SOURCE_DIR "/config/echo-pcap.yaml"}) {
    auto r = load_file(f);
    ASSERT_TRUE(std::holds_alternative<StackConfig>(r)) << f;
    ExpectRoundTrip(std::get<StackConfig>(r));
  }
}

TEST(ConfigToYaml, RoundTripsAwkwardValues) {
  StackConfig c = GoodConfig();
  c.ports[0].fault.loss = 0.1;
  c.ports[0].fault.duplicate = 1.0 / 3.0;
  c.ports[0].fault.reorder = 1e-9;
  c.ports[0].fault.corrupt = 1;
  c.ports[0].fault.seed = std::numeric_limits<uint64_t>::max();
  c.ports[0].capture = "/tmp/with space: and # hash.pcap";
  c.ports[0].devargs = "net_pcap0,rx_pcap=\"x\".pcap,tx_pcap=a.pcap";
  c.ports[0].mac = MacAddr{{0x10, 0x20, 0x30, 0x40, 0x50, 0x55}};  // all digits: sexagesimal in YAML 1.1
  c.eal_args = {"--no-pci", "--vdev=net_null0", "-m", "256", "yes", "~", "#x"};
  c.routes[0].port = "p0";
  c.ipv4.default_ttl = 200;
  c.log_level = "warn";
  c.lcores = "1";
  const auto e = validate(c);
  ASSERT_FALSE(e.has_value()) << e->message;
  ExpectRoundTrip(c);
}

TEST(ConfigToYaml, PrintsEveryKeyIncludingDefaults) {
  const std::string y = to_yaml(LoadOk(OnePort()));
  for (const char* key : {"log_level:",
                          "lcores:",
                          "eal:",
                          "mempool:",
                          "mbufs:",
                          "cache:",
                          "data_room:",
                          "rx_reserve:",
                          "memory_limit_kb:",
                          "ports:",
                          "name:",
                          "devargs:",
                          "ip:",
                          "mtu:",
                          "rx_desc:",
                          "tx_desc:",
                          "capture:",
                          "fault:",
                          "seed:",
                          "loss:",
                          "duplicate:",
                          "reorder:",
                          "corrupt:",
                          "delay_us:",
                          "routes:",
                          "arp:",
                          "table_size:",
                          "queue_len:",
                          "reachable_ms:",
                          "stale_ms:",
                          "retry_ms:",
                          "retries:",
                          "gratuitous:",
                          "lock_time_ms:",
                          "ipv4:",
                          "default_ttl:",
                          "reassembly_timeout_ms:",
                          "reassembly_max_bytes:",
                          "reassembly_max_datagrams:",
                          "pmtu_min:",
                          "icmp:",
                          "echo:",
                          "echo_rate:",
                          "error_rate:",
                          "dest_error_rate:",
                          "dest_error_burst:",
                          "udp:",
                          "rx_queue_len:",
                          "tcp:",
                          "congestion:",
                          "initial_window:",
                          "delayed_ack_ms:",
                          "rto_min_ms:",
                          "rto_max_ms:",
                          "rto_initial_ms:",
                          "msl_ms:",
                          "max_connections:",
                          "max_time_wait:",
                          "backlog:",
                          "syncookies:",
                          "timestamps:",
                          "sack:",
                          "window_scaling:",
                          "send_buffer:",
                          "recv_buffer:",
                          "nodelay:",
                          "keepalive:",
                          "enabled:",
                          "idle_s:",
                          "interval_s:",
                          "count:",
                          "max_retries:",
                          "syn_retries:",
                          "fin_wait_2_s:",
                          "ooo_nodes:",
                          "challenge_ack_limit:",
                          "challenge_ack_interval_ms:",
                          "udp_port:",
                          "tcp_port:"}) {
    EXPECT_NE(y.find(key), std::string::npos) << key << " missing from:\n" << y;
  }
  EXPECT_NE(y.find("default_ttl: 64"), std::string::npos) << y;
  EXPECT_NE(y.find("congestion: \"cubic\""), std::string::npos) << y;
  EXPECT_NE(y.find("delayed_ack_ms: 40"), std::string::npos) << y;
  EXPECT_EQ(y.find("mac:"), std::string::npos) << "an unset MAC is left out:\n" << y;
}

}  // namespace
}  // namespace tern::config

namespace tern::config {
namespace {

// Routes like DPDK l3fwd's: prefix -> port and a static next-hop MAC, no gateway.
TEST(ConfigRoutes, PortAndMacWithoutGatewayIsAnOnLinkRoute) {
  const StackConfig c =
      LoadOk(OnePort("", "routes:\n  - {prefix: 198.19.0.0/16, port: p0, mac: \"02:00:00:00:01:01\"}"));
  ASSERT_EQ(c.routes.size(), 1u);
  EXPECT_TRUE(c.routes[0].gateway.is_unspecified());
  ASSERT_TRUE(c.routes[0].mac.has_value());
  EXPECT_EQ(c.routes[0].mac->to_string(), "02:00:00:00:01:01");
  EXPECT_EQ(port_for_route(c, c.routes[0]), std::optional<size_t>(0));
  ExpectRoundTrip(c);
}

TEST(ConfigRoutes, GatewayRouteMayCarryAStaticMac) {
  const StackConfig c = LoadOk(
      OnePort("", "routes:\n  - {prefix: 0.0.0.0/0, gateway: 198.18.0.1, mac: \"02:00:00:00:00:aa\"}"));
  ASSERT_TRUE(c.routes[0].mac.has_value());
  ExpectRoundTrip(c);
}

TEST(ConfigRoutes, RouteWithNeitherGatewayNorPortIsRejected) {
  const ConfigError e = LoadErr(OnePort("", "routes:\n  - {prefix: 198.19.0.0/16}"));
  EXPECT_NE(e.message.find("gateway"), std::string::npos) << e.message;
}

TEST(ConfigRoutes, MulticastNextHopMacIsRejected) {
  const ConfigError e =
      LoadErr(OnePort("", "routes:\n  - {prefix: 198.19.0.0/16, port: p0, mac: \"01:00:5e:00:00:01\"}"));
  EXPECT_NE(e.message.find("routes[0].mac"), std::string::npos) << e.message;
}

TEST(ConfigRoutes, OnLinkRouteToAnUnknownPortIsRejected) {
  const ConfigError e = LoadErr(OnePort("", "routes:\n  - {prefix: 198.19.0.0/16, port: nope}"));
  EXPECT_NE(e.message.find("unknown port"), std::string::npos) << e.message;
}

}  // namespace
}  // namespace tern::config

namespace tern::config {
namespace {

// Issue 11: the per-port offload keys.
TEST(ConfigOffloads, ChecksumGsoAndGroArePerPortWithDefaults) {
  StackConfig d = LoadOk("ports:\n  - {name: p0, devargs: net_tap0, ip: 198.18.0.2/24}\n");
  ASSERT_EQ(d.ports.size(), 1u);
  EXPECT_EQ(d.ports[0].checksum, "auto");
  EXPECT_TRUE(d.ports[0].gso);
  EXPECT_TRUE(d.ports[0].gro);
  StackConfig c = LoadOk(
      "ports:\n  - {name: p0, devargs: net_memif0, ip: 198.18.0.2/24, checksum: trusted, gso: false, gro: "
      "false}\n");
  ASSERT_EQ(c.ports.size(), 1u);
  EXPECT_EQ(c.ports[0].checksum, "trusted");
  EXPECT_FALSE(c.ports[0].gso);
  EXPECT_FALSE(c.ports[0].gro);
  ConfigError e = LoadErr("ports:\n  - {name: p0, devargs: net_tap0, ip: 198.18.0.2/24, checksum: none}\n");
  EXPECT_NE(e.message.find("not a checksum mode"), std::string::npos) << e.message;
}

}  // namespace
}  // namespace tern::config

// ---------------------------------------------------------------------------
// The key table and the generated reference (docs/config.md)

namespace tern::config {
namespace {

std::string ReadDocs() {
  std::ifstream in(TERN_SOURCE_DIR "/docs/config.md", std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST(ConfigReference, DocsConfigMdIsUpToDate) {
  const std::string text = ReadDocs();
  ASSERT_FALSE(text.empty());
  std::string error;
  const auto updated = schema::update_reference(text, &error);
  ASSERT_TRUE(updated.has_value()) << error;
  EXPECT_EQ(*updated, text) << "docs/config.md's generated key tables differ from the key table; run "
                               "build/lib/config/tern-config-doc docs/config.md";
  for (const char* path : {"top-level", "mempool", "cores", "ports[]", "ports[].fault", "routes[]", "arp",
                           "ipv4", "icmp", "udp", "tcp", "tcp.keepalive", "echo"}) {
    EXPECT_NE(text.find("<!-- BEGIN GENERATED KEYS " + std::string(path) + " -->"), std::string::npos)
        << path;
  }
}

TEST(ConfigReference, EverySectionHasATableAndEveryKeyADocumentation) {
  for (const char* path : {"top-level", "mempool", "cores", "ports[]", "ports[].fault", "routes[]", "arp",
                           "ipv4", "icmp", "udp", "tcp", "tcp.keepalive", "echo"}) {
    const auto table = schema::reference_table(path);
    ASSERT_TRUE(table.has_value()) << path;
    EXPECT_EQ(table->find(" | |\n"), std::string::npos) << "a key without documentation in " << path << "\n"
                                                        << *table;
  }
  EXPECT_FALSE(schema::reference_table("nope").has_value());
  const auto tcp = schema::reference_table("tcp");
  EXPECT_NE(tcp->find("| `rto_min_ms` | integer | `200` | 1..60000 |"), std::string::npos) << *tcp;
  EXPECT_NE(tcp->find("| `congestion` | string | `cubic` | `cubic`, `newreno` |"), std::string::npos) << *tcp;
}

TEST(ConfigReference, UpdateReplacesBlocksAndRejectsUnknownOrOpenOnes) {
  const std::string doc =
      "intro\n<!-- BEGIN GENERATED KEYS udp -->\nstale\n<!-- END GENERATED KEYS -->\nafter\n";
  const auto updated = schema::update_reference(doc);
  ASSERT_TRUE(updated.has_value());
  EXPECT_EQ(*updated, "intro\n<!-- BEGIN GENERATED KEYS udp -->\n" + *schema::reference_table("udp") +
                          "<!-- END GENERATED KEYS -->\nafter\n");
  std::string error;
  EXPECT_FALSE(schema::update_reference("<!-- BEGIN GENERATED KEYS nope -->\n", &error).has_value());
  EXPECT_NE(error.find("unknown section 'nope'"), std::string::npos) << error;
  EXPECT_FALSE(schema::update_reference("<!-- BEGIN GENERATED KEYS udp -->\n| x |\n", &error).has_value());
  EXPECT_NE(error.find("no end marker"), std::string::npos) << error;
}

TEST(ConfigSchema, EngineValueScalesByTheKeysUnit) {
  TcpConfig t;
  t.rto_min_ms = 7;
  t.fin_wait_2_s = 3;
  t.memory_limit_kb = 2;
  t.backlog = 5;
  EXPECT_EQ(schema::engine_value(t, &TcpConfig::rto_min_ms), 7'000'000u);
  EXPECT_EQ(schema::engine_value(t, &TcpConfig::fin_wait_2_s), 3'000'000'000u);
  EXPECT_EQ(schema::engine_value(t, &TcpConfig::memory_limit_kb), 2048u);
  EXPECT_EQ(schema::engine_value(t, &TcpConfig::backlog), 5u);
  EXPECT_EQ(schema::engine_value(CoresConfig{}, &CoresConfig::sleep_us), 50'000u);
  EXPECT_EQ(schema::key_of(&TcpConfig::rto_min_ms)->name, "rto_min_ms");
}

}  // namespace
}  // namespace tern::config
