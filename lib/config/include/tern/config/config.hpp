/**
 * @file
 * Stack configuration: YAML (yaml-cpp) into typed, validated structs.
 *
 * load_file() / load_string() parse a YAML document, reject unknown keys and
 * bad values with a message that names the file, line, column and key path,
 * then run validate() for the cross-field rules. Nothing here throws: every
 * failure, including YAML syntax errors, comes back as a ConfigError.
 * Not for the data path (allocates).
 *
 * The structs' member initializers are the defaults. Each key's YAML name,
 * accepted range or names, unit and documentation are in the key tables
 * (tern/config/schema.hpp, lib/config/key_table.hpp), from which the key
 * reference in docs/config.md is generated; the comments here only say what
 * a member is.
 */
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "tern/wire/addr.hpp"

namespace tern::config {

/**
 * Fault injection on one port (testing aid), applied by the port layer.
 * Probabilities are per packet in [0, 1]. All zero (the default) is off.
 */
struct FaultConfig {
  uint64_t seed = 1;      ///< PRNG seed, any value; the same seed replays the same faults
  double loss = 0;        ///< probability a packet is dropped
  double duplicate = 0;   ///< probability a packet is sent twice
  double reorder = 0;     ///< probability a packet is held back behind the next one
  double corrupt = 0;     ///< probability one byte of a packet is flipped
  uint32_t delay_us = 0;  ///< extra delay added to every packet

  /** True when any fault is configured (any probability or the delay is non-zero). */
  bool enabled() const noexcept;

  friend bool operator==(const FaultConfig&, const FaultConfig&) = default;
};

/** One DPDK port with its IPv4 interface address. */
struct PortConfig {
  std::string name;                  ///< unique label, [A-Za-z0-9_.-]{1,32}; routes refer to it
  std::string devargs;               ///< DPDK device: a vdev string ("net_tap0,iface=tern0") or a PCI address
  wire::Ipv4Prefix address;          ///< YAML key `ip`: interface address and connected prefix, "A.B.C.D/N"
  std::optional<wire::MacAddr> mac;  ///< unicast MAC to use; unset = the device's own address
  uint16_t mtu = 1500;               ///< IP MTU in bytes
  uint16_t rx_desc = 1024;           ///< RX ring size
  uint16_t tx_desc = 1024;           ///< TX ring size
  /// RX/TX queue pairs; 0: one per core (fewer if the device has fewer). Cores without a queue
  /// of their own get their frames by software steering and share a TX queue (docs/multicore.md).
  uint16_t queues = 0;
  std::string capture;  ///< pcap path to record RX and TX; empty = off
  /// Transport checksums (docs/offloads.md): "auto" (the port's offloads, else software),
  /// "software" (always in software), "trusted" (neither computed nor verified; both ends must agree).
  std::string checksum = "auto";
  bool gso = true;    ///< TCP super-segments cut by TSO or the software GSO (docs/offloads.md)
  bool gro = true;    ///< merge received in-order TCP segments per RX burst
  FaultConfig fault;  ///< fault injection; off by default

  friend bool operator==(const PortConfig&, const PortConfig&) = default;
};

/** How the cores run and talk to each other (docs/multicore.md). */
struct CoresConfig {
  /// `busy` polls without pause; `adaptive` pauses after idle_polls empty polls, then sleeps in steps of
  /// at most sleep_us, never past the next timer.
  std::string idle = "busy";
  uint32_t idle_polls = 200;   ///< adaptive: empty polls before the core starts to pause
  uint32_t sleep_us = 50;      ///< adaptive: longest sleep step
  uint32_t steer_ring = 4096;  ///< frames waiting per core for hand-over
  uint32_t mailbox = 1024;     ///< tasks waiting per core
  uint32_t drain_ms = 5000;    ///< graceful drain: how long open connections may take to finish

  friend bool operator==(const CoresConfig&, const CoresConfig&) = default;
};

/** A static route. Connected prefixes come from the ports and need no route. */
struct RouteConfig {
  wire::Ipv4Prefix prefix;  ///< destination prefix, host bits clear ("0.0.0.0/0" is the default route)
  wire::Ipv4Addr gateway;   ///< next hop; must lie inside a port's connected prefix
  std::string port;         ///< empty: pick the port whose connected prefix holds the gateway
  /** Static next-hop MAC (no ARP), as DPDK's l3fwd routes have. With a port and no gateway the route is
   * on-link. */
  std::optional<wire::MacAddr> mac;

  friend bool operator==(const RouteConfig&, const RouteConfig&) = default;
};

/** ARP (RFC 826) neighbour cache. */
struct ArpConfig {
  uint32_t table_size = 1024;     ///< maximum cache entries
  uint32_t queue_len = 16;        ///< packets held per unresolved address
  uint32_t reachable_ms = 30000;  ///< an entry is trusted this long after it was confirmed
  uint32_t stale_ms = 600000;     ///< an unconfirmed entry is removed after this long
  uint32_t retry_ms = 1000;       ///< interval between ARP requests for one address
  uint32_t retries = 3;           ///< ARP requests sent before an address is declared unreachable
  bool gratuitous = true;         ///< announce each port address with a gratuitous ARP at start
  /// after an entry's MAC changes, ARP naming another MAC is ignored this long unless it answers
  /// our own request (Linux's locktime)
  uint32_t lock_time_ms = 1000;

  friend bool operator==(const ArpConfig&, const ArpConfig&) = default;
};

/** IPv4 (RFC 791). */
struct Ipv4Config {
  uint8_t default_ttl = 64;                  ///< TTL of locally originated datagrams
  uint32_t reassembly_timeout_ms = 30000;    ///< drop an incomplete datagram after this long
  uint32_t reassembly_max_bytes = 4u << 20;  ///< fragment bytes held for reassembly
  uint32_t reassembly_max_datagrams = 256;   ///< datagrams reassembled at once
  /// Floor of a path MTU learned from ICMP (RFC 5927 §7.2; Linux's min_pmtu).
  uint16_t pmtu_min = 552;

  friend bool operator==(const Ipv4Config&, const Ipv4Config&) = default;
};

/** ICMP (RFC 792). */
struct IcmpConfig {
  bool echo = true;                ///< answer echo requests (ping)
  uint32_t echo_rate = 0;          ///< echo replies per second per core; 0: unlimited
  uint32_t error_rate = 100;       ///< mean ICMP errors per second per core, in random windows
  uint32_t dest_error_rate = 10;   ///< ICMP errors per second to one destination; 0: no limit
  uint32_t dest_error_burst = 10;  ///< ICMP errors one destination may get back to back

  friend bool operator==(const IcmpConfig&, const IcmpConfig&) = default;
};

/** UDP (RFC 768). */
struct UdpConfig {
  uint32_t rx_queue_len = 1024;  ///< datagrams queued per socket before drops

  friend bool operator==(const UdpConfig&, const UdpConfig&) = default;
};

/** TCP keepalive (RFC 1122 §4.2.3.6) defaults for new sockets; Linux's defaults. */
struct TcpKeepaliveConfig {
  bool enabled = false;      ///< send keepalive probes on idle connections
  uint32_t idle_s = 7200;    ///< idle time before the first probe
  uint32_t interval_s = 75;  ///< time between unanswered probes
  uint32_t count = 9;        ///< unanswered probes before the connection is dropped

  friend bool operator==(const TcpKeepaliveConfig&, const TcpKeepaliveConfig&) = default;
};

/**
 * TCP (RFC 9293). Plain values; lib/stack maps them into tcp::TcpParams
 * (times to ns, `congestion` to tcp::CcAlgo). Counts and pool sizes are per
 * core: every core gets the configured value.
 */
struct TcpConfig {
  std::string congestion = "cubic";  ///< "cubic" (RFC 9438) or "newreno" (RFC 5681/6582)
  uint32_t initial_window = 10;      ///< initial cwnd in segments (RFC 6928)
  uint32_t delayed_ack_ms = 40;      ///< delayed ACK timer (RFC 1122 §4.2.3.2: under 500 ms)
  uint32_t rto_min_ms = 200;         ///< lower RTO bound (RFC 6298 §2.4)
  uint32_t rto_max_ms = 120000;      ///< upper RTO bound (RFC 6298 §2.5)
  uint32_t rto_initial_ms = 1000;    ///< RTO before the first RTT sample (RFC 6298 §2.1)
  uint32_t msl_ms = 30000;           ///< maximum segment lifetime; TIME_WAIT lasts 2 x MSL
  uint32_t max_connections = 65536;  ///< connections per core
  uint32_t max_time_wait = 65536;    ///< TIME_WAIT entries per core
  uint32_t backlog = 1024;           ///< default listen backlog
  bool syncookies = true;            ///< SYN cookies when a SYN queue is full (RFC 4987)
  bool timestamps = true;            ///< offer RFC 7323 timestamps
  bool sack = true;                  ///< offer RFC 2018 SACK
  bool window_scaling = true;        ///< offer RFC 7323 window scale
  uint32_t send_buffer = 262144;     ///< default socket send buffer
  uint32_t recv_buffer = 262144;     ///< default socket receive buffer
  bool nodelay = false;              ///< default: Nagle's algorithm (RFC 1122 §4.2.3.4) off when true
  TcpKeepaliveConfig keepalive;      ///< default keepalive of new sockets
  uint32_t max_retries = 15;         ///< data retransmissions before the connection times out
  uint32_t syn_retries = 6;          ///< SYN retransmissions before connect() fails
  uint32_t fin_wait_2_s = 60;        ///< orphaned FIN_WAIT_2 lifetime
  uint32_t ooo_nodes = 65536;        ///< out-of-order segments held per core
  /// RFC 5961 §7: mean challenge ACKs per second per core (random windows)
  uint32_t challenge_ack_limit = 1000;
  /// RFC 5961 §7: at most one challenge ACK per connection per this long; 0: no limit
  uint32_t challenge_ack_interval_ms = 500;
  /// Truesize KiB all TCP queues of one core may hold; 0: the pool minus mempool.rx_reserve.
  uint32_t memory_limit_kb = 0;
  // Loss recovery and congestion control (issue 12; docs/tcp.md).
  std::string recovery =
      "rack-tlp";                ///< "rack-tlp" (RFC 8985 + RFC 6937) or "rfc6675" (DupThresh + RFC 6937)
  bool limited_transmit = true;  ///< RFC 3042
  bool dsack = true;             ///< RFC 2883 D-SACK reports
  bool undo = true;              ///< undo spurious congestion responses (D-SACK, Eifel RFC 3522)
  bool hystart = true;           ///< HyStart++ (RFC 9406) for the slow-start exit
  uint32_t abc_limit = 2;        ///< RFC 3465 L in segments per ACK in slow start; 0: none
  bool idle_restart = true;      ///< RFC 5681 §4.1 restart window after an idle RTO
  uint32_t quick_acks = 16;      ///< segments ACKed at once at start and after idle
  std::string ecn = "off";       ///< RFC 3168 for new sockets: "off", "passive" or "on"
  uint32_t user_timeout_ms = 0;  ///< RFC 5482 default for new sockets; 0: off
  uint32_t notsent_lowat = 0;    ///< TCP_NOTSENT_LOWAT default; 0: off
  uint32_t fastopen_key_rotate_s = 3600;  ///< RFC 7413 server cookie key lifetime
  uint32_t fastopen_cache = 1024;         ///< RFC 7413 client cookies cached per core
  uint32_t fastopen_blackhole_s = 3600;   ///< no data on SYNs after one was lost

  friend bool operator==(const TcpConfig&, const TcpConfig&) = default;
};

/** The DPDK packet mbuf pools: one per lcore, each of this size. */
struct MempoolConfig {
  uint32_t mbufs = 16383;     ///< mbufs in each lcore's pool (2^n - 1 is most memory-efficient)
  uint32_t cache = 256;       ///< mbufs cached per lcore
  uint16_t data_room = 2048;  ///< packet bytes per mbuf, after the RTE_PKTMBUF_HEADROOM (128)
  /// Mbufs per pool that socket queues never take (RX refill and the rest), below mbufs;
  /// 0: the larger of a quarter of the pool and the rings + cache + 256.
  uint32_t rx_reserve = 0;

  friend bool operator==(const MempoolConfig&, const MempoolConfig&) = default;
};

/** The echo application's listening ports. */
struct EchoConfig {
  uint16_t udp_port = 7;  ///< UDP echo (RFC 862) port; 0 disables
  uint16_t tcp_port = 7;  ///< TCP echo (RFC 862) port; 0 disables

  friend bool operator==(const EchoConfig&, const EchoConfig&) = default;
};

/** The whole configuration. Default-constructed it has no ports and so is not valid. */
struct StackConfig {
  std::vector<PortConfig> ports;      ///< at least one; names unique
  std::vector<RouteConfig> routes;    ///< static routes
  std::string lcores = "0";           ///< DPDK lcore list: "0", "0-1", "0,2", "0-3,6"
  std::vector<std::string> eal_args;  ///< YAML key `eal`: extra EAL arguments, passed as given
  std::string log_level = "info";     ///< error, warn, info or debug
  MempoolConfig mempool;
  CoresConfig cores;
  ArpConfig arp;
  Ipv4Config ipv4;
  IcmpConfig icmp;
  UdpConfig udp;
  TcpConfig tcp;
  EchoConfig echo;

  friend bool operator==(const StackConfig&, const StackConfig&) = default;
};

/**
 * Why a configuration was rejected.
 *
 * `message` reads "FILE:LINE:COL: KEY.PATH: what was wrong; accepted: ...".
 * The position is left out when there is none (validate() on a config built
 * in code, or a file that cannot be read), and the key path when the problem
 * is not about one key (a YAML syntax error).
 */
struct ConfigError {
  std::string message;  ///< the full, human-readable message
  std::string path;     ///< key path such as "ports[0].fault.loss"; empty if none
  int line = 0;         ///< 1-based line of the offending key or value; 0 if unknown
  int column = 0;       ///< 1-based column; 0 if unknown
};

/**
 * Read and load the YAML file at @p path (see load_string()). Positions in
 * errors name @p path. Does not throw.
 */
std::variant<StackConfig, ConfigError> load_file(const std::string& path);

/**
 * Load a configuration from YAML text.
 *
 * Missing keys take the defaults above, except the required `ports` and, in
 * each port, `name`, `devargs` and `ip`, and in each route `prefix` and
 * `gateway`. Unknown and duplicate keys are errors. On success the result
 * has also passed validate(). Does not throw.
 *
 * @param yaml the document (exactly one YAML document).
 * @param name what to call the input in error messages.
 * @return the configuration, or the first problem found.
 */
std::variant<StackConfig, ConfigError> load_string(std::string_view yaml, std::string_view name = "<string>");

/**
 * Check every value range and the cross-field rules: at least one port,
 * unique port names, addresses and MACs, non-overlapping connected prefixes,
 * each route's port known and its gateway on a port's connected prefix,
 * frames that fit one mbuf, pools large enough for the rings, a known TCP
 * congestion algorithm and tcp.rto_max_ms >= tcp.rto_min_ms. load_file() and load_string() call this;
 * call it yourself after changing a config in code.
 *
 * @return std::nullopt when @p cfg is usable, else the first problem (without
 *         a file position).
 */
std::optional<ConfigError> validate(const StackConfig& cfg);

/**
 * The effective configuration as YAML (every key, defaults included), for
 * `--print-config`. load_string(to_yaml(c)) gives back c for a valid c.
 */
std::string to_yaml(const StackConfig& cfg);

/**
 * The index in cfg.ports of the port a route leaves by: the named port, or,
 * when RouteConfig::port is empty, the port whose connected prefix holds the
 * gateway (longest prefix first). std::nullopt when there is none (validate()
 * rejects such a config).
 */
std::optional<size_t> port_for_route(const StackConfig& cfg, const RouteConfig& route);

}  // namespace tern::config
