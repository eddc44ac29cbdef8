/**
 * @file
 * The key tables: every key of every configuration section, described once
 * (YAML name, member, accepted range or names, unit, documentation; the types
 * are in tern/config/schema.hpp). Defaults are the member initializers in
 * tern/config/config.hpp. Private to lib/config: included once, by config.cpp,
 * inside its anonymous namespace, after the custom hooks the tables point to.
 *
 * After changing a row, regenerate docs/config.md's key tables:
 * `build/lib/config/tern-config-doc docs/config.md` (unit-config checks it).
 */
#pragma once

// Rules that cross-field checks and static_asserts below refer to by name; every other range is
// written once, in its key's row of the tables further down.
constexpr IntRule kMtu{68, 9000, false, false, " (bytes of IP packet, RFC 791 minimum 68)"};
constexpr IntRule kMbufs{1023, 16777215, false, false, " (2^n - 1 uses memory best)"};
constexpr IntRule kCache{0, kMempoolCacheMax, false, false, ""};
// DPDK's rte_mempool_create() refuses a cache larger than n / 1.5; the ranges make that impossible.
static_assert(kMbufs.min * 2 >= kCache.max * 3);
// The stack creates pools with an element data room of data_room + RTE_PKTMBUF_HEADROOM (a uint16_t).
constexpr IntRule kDataRoom{1024, 65535 - kMbufHeadroom, false, false,
                            " (bytes of packet data, after the headroom)"};
static_assert(kDataRoom.min >= kEtherHeaderLen + kMtu.min);
constexpr IntRule kTcpRtoMax{1, 600000, false, false, " (milliseconds, and at least rto_min_ms)"};

// The accepted names of the choice keys.
constexpr std::string_view kLogLevels[] = {"error", "warn", "info", "debug"};
// The names tcp::cc_from_string() accepts; config does not depend on lib/tcp, lib/stack maps them.
constexpr std::string_view kCongestion[] = {"cubic", "newreno"};
constexpr std::string_view kRecovery[] = {"rack-tlp", "rfc6675"};
constexpr std::string_view kEcn[] = {"off", "passive", "on"};
constexpr std::string_view kIdlePolicies[] = {"busy", "adaptive"};
constexpr std::string_view kChecksumModes[] = {"auto", "software", "trusted"};

// ---- StackConfig (Top level)
constexpr Key<StackConfig> kStackConfigKeys[] = {
    {.name = "log_level",
     .field = &StackConfig::log_level,
     .choices = kLogLevels,
     .noun = "a log level",
     .doc = "threshold of tern's log: lines above it are dropped"},
    {.name = "lcores",
     .field = &StackConfig::lcores,
     .accepted = "a DPDK lcore list such as \"0\", \"0-1\" or \"0,2\"",
     .doc = "the lcores the stack runs on (see below)",
     .doc_accepted = "DPDK lcore list",
     .custom = &kLcores},
    {.name = "eal",
     .doc = "extra arguments for `rte_eal_init()`, one list item per argv word (see below)",
     .doc_type = "list of strings",
     .doc_default = "`[]`",
     .doc_accepted = "any EAL arguments except lcore selection",
     .custom = &kEal},
    {.name = "mempool",
     .doc = "the mbuf pools",
     .doc_type = "map",
     .doc_default = "see below",
     .custom = &kSub<&StackConfig::mempool>},
    {.name = "cores",
     .doc = "how the cores run",
     .doc_type = "map",
     .doc_default = "see below",
     .custom = &kSub<&StackConfig::cores>},
    {.name = "ports",
     .doc = "the DPDK ports",
     .doc_type = "list of maps",
     .doc_default = "(required)",
     .doc_accepted = "one or more ports",
     .custom = &PortList::kCustom},
    {.name = "routes",
     .doc = "static routes",
     .doc_type = "list of maps",
     .doc_default = "`[]`",
     .custom = &RouteList::kCustom},
    {.name = "arp",
     .doc = "ARP neighbour cache",
     .doc_type = "map",
     .doc_default = "see below",
     .custom = &kSub<&StackConfig::arp>},
    {.name = "ipv4",
     .doc = "IPv4",
     .doc_type = "map",
     .doc_default = "see below",
     .custom = &kSub<&StackConfig::ipv4>},
    {.name = "icmp",
     .doc = "ICMP",
     .doc_type = "map",
     .doc_default = "see below",
     .custom = &kSub<&StackConfig::icmp>},
    {.name = "udp",
     .doc = "UDP",
     .doc_type = "map",
     .doc_default = "see below",
     .custom = &kSub<&StackConfig::udp>},
    {.name = "tcp",
     .doc = "TCP",
     .doc_type = "map",
     .doc_default = "see below",
     .custom = &kSub<&StackConfig::tcp>},
    {.name = "echo",
     .doc = "the echo application",
     .doc_type = "map",
     .doc_default = "see below",
     .custom = &kSub<&StackConfig::echo>},
};
// ---- MempoolConfig (mempool)
constexpr Key<MempoolConfig> kMempoolConfigKeys[] = {
    {.name = "mbufs",
     .field = &MempoolConfig::mbufs,
     .range = kMbufs,
     .doc = "mbufs in each lcore's pool; 2^n - 1 uses memory best"},
    {.name = "cache",
     .field = &MempoolConfig::cache,
     .range = kCache,
     .doc = "mbufs cached per lcore (`RTE_MEMPOOL_CACHE_MAX_SIZE` is 512)"},
    {.name = "data_room",
     .field = &MempoolConfig::data_room,
     .range = kDataRoom,
     .doc = "bytes of packet data per mbuf, after the 128-byte `RTE_PKTMBUF_HEADROOM` (the pool's element "
            "data room is `data_room` + 128)"},
    {.name = "rx_reserve",
     .field = &MempoolConfig::rx_reserve,
     .range = {0, 16777215, false, false, " (mbufs; 0: automatic)"},
     .doc = "mbufs of each pool that TCP's queues can never take, so the RX rings can always be refilled "
            "([robustness.md](robustness.md)). 0: max(`mbufs` / 4, the sum of all ports' `rx_desc + tx_desc` "
            "+ `cache` + 256); TCP always keeps at least an eighth of the pool",
     .doc_default = "(automatic)",
     .doc_accepted = "below `mbufs`"},
};
// ---- CoresConfig (cores)
constexpr Key<CoresConfig> kCoresConfigKeys[] = {
    {.name = "idle",
     .field = &CoresConfig::idle,
     .choices = kIdlePolicies,
     .noun = "an idle policy",
     .doc = "`busy` polls without pause; `adaptive` spins `idle_polls` empty polls, pauses (`rte_pause`) as "
            "many more, then sleeps in steps of `sleep_us`. Use `adaptive` when the cores share CPUs with "
            "anything else (a kernel peer on a small machine)"},
    {.name = "idle_polls",
     .field = &CoresConfig::idle_polls,
     .range = {1, 1000000, false, false, " (empty polls)"},
     .doc = "adaptive: empty polls before pausing"},
    {.name = "sleep_us",
     .field = &CoresConfig::sleep_us,
     .range = {1, 100000, false, false, " (microseconds)"},
     .unit = Unit::us,
     .doc = "adaptive: one sleep step (timers have 1 ms resolution)"},
    {.name = "steer_ring",
     .field = &CoresConfig::steer_ring,
     .range = {256, 65536, false, true, " (frames)"},
     .doc = "frames waiting per core to be taken from its steering ring; a full ring drops (counted: "
            "`steering.dropped`)"},
    {.name = "mailbox",
     .field = &CoresConfig::mailbox,
     .range = {64, 65536, false, true, " (tasks)"},
     .doc = "tasks waiting per core; a full mailbox refuses (`would_block`)"},
    {.name = "drain_ms",
     .field = &CoresConfig::drain_ms,
     .range = {0, 3600000, false, false, " (milliseconds)"},
     .unit = Unit::ms,
     .doc = "graceful drain (SIGTERM in the apps): how long open connections may take to finish before the "
            "rest are reset"},
};
// ---- PortConfig (ports)
constexpr Key<PortConfig> kPortConfigKeys[] = {
    {.name = "name",
     .field = &PortConfig::name,
     .accepted = "a port name",
     .required = "tap0",
     .doc = "label used in logs and by `routes[].port`",
     .doc_accepted = "1..32 of `A-Z a-z 0-9 _ . -`, unique"},
    {.name = "devargs",
     .field = &PortConfig::devargs,
     .accepted = "a DPDK device string",
     .required = "net_tap0,iface=tern0",
     .doc = "the DPDK device: a vdev string (`net_tap0,iface=tern0`, "
            "`net_pcap0,rx_pcap=in.pcap,tx_pcap=out.pcap`) or a PCI address (`0000:03:00.0`)",
     .doc_accepted = "non-empty, no spaces"},
    {.name = "ip",
     .required = "198.18.0.2/24",
     .doc = "tern's address on the port and, through N, the connected prefix",
     .doc_type = "prefix",
     .doc_accepted = "`A.B.C.D/N`, N 1..32",
     .custom = &kPrefix<&PortConfig::address>},
    {.name = "mac",
     .doc = "Ethernet address to use instead of the device's",
     .doc_type = "MAC",
     .doc_default = "the device's own",
     .doc_accepted = "unicast `aa:bb:cc:dd:ee:ff`",
     .custom = &kMac<&PortConfig::mac>},
    {.name = "mtu",
     .field = &PortConfig::mtu,
     .range = kMtu,
     .doc = "largest IP packet sent or received on the port (RFC 791: at least 68). Jumbo (up to 9000) needs "
            "`mempool.data_room` >= 14 + mtu (tern-echo `--mtu` raises it); net_memif carries it, net_tap in "
            "DPDK 22.11 stops at 1504 ([offloads.md](offloads.md))"},
    {.name = "rx_desc",
     .field = &PortConfig::rx_desc,
     .range = {64, 4096, false, true, ""},
     .doc = "RX ring size"},
    {.name = "tx_desc",
     .field = &PortConfig::tx_desc,
     .range = {64, 4096, false, true, ""},
     .doc = "TX ring size"},
    {.name = "queues",
     .field = &PortConfig::queues,
     .range = {0, 64, false, false, " (queue pairs; 0: one per core)"},
     .doc = "RX/TX queue pairs; never more than the cores; fewer when the device has fewer. Cores without a "
            "queue of their own receive by software steering and share a TX queue "
            "([multicore.md](multicore.md))",
     .doc_default = "(one per core)"},
    {.name = "capture",
     .field = &PortConfig::capture,
     .accepted = "a pcap file path, or \"\" for no capture",
     .doc = "write every frame received and sent to this pcap file; empty is off",
     .doc_accepted = "a file path, or `\"\"`"},
    {.name = "checksum",
     .field = &PortConfig::checksum,
     .choices = kChecksumModes,
     .noun = "a checksum mode",
     .accepted = "auto, software or trusted (docs/offloads.md)",
     .doc = "transport checksums: `auto` uses the port's offloads where offered and software elsewhere; "
            "`software` ignores the port's checksum and TSO offloads; `trusted` neither computes nor "
            "verifies them, for a link between cooperating processes only (both ends must agree; "
            "[offloads.md](offloads.md)). Logged at start"},
    {.name = "gso",
     .field = &PortConfig::gso,
     .doc = "TCP sends super-segments of up to 64 KiB, cut by the port's TSO or the software GSO; `false`: "
            "one MSS-sized segment at a time"},
    {.name = "gro",
     .field = &PortConfig::gro,
     .doc = "merge each flow's in-order TCP segments within an RX burst before TCP input"},
    {.name = "fault",
     .doc = "fault injection",
     .doc_type = "map",
     .doc_default = "all zero (off)",
     .doc_accepted = "see below",
     .custom = &kSub<&PortConfig::fault>},
};
// ---- FaultConfig (ports[].fault)
constexpr Key<FaultConfig> kFaultConfigKeys[] = {
    {.name = "seed",
     .field = &FaultConfig::seed,
     .range = {0, std::numeric_limits<uint64_t>::max(), false, false, ""},
     .doc = "PRNG seed; the same seed replays the same faults"},
    {.name = "loss", .field = &FaultConfig::loss, .doc = "chance a packet is dropped"},
    {.name = "duplicate", .field = &FaultConfig::duplicate, .doc = "chance a packet is sent twice"},
    {.name = "reorder",
     .field = &FaultConfig::reorder,
     .doc = "chance a packet is held back behind the next one"},
    {.name = "corrupt", .field = &FaultConfig::corrupt, .doc = "chance one byte of a packet is flipped"},
    {.name = "delay_us",
     .field = &FaultConfig::delay_us,
     .range = {0, 1000000, false, false, " (microseconds)"},
     .unit = Unit::us,
     .doc = "extra delay for every packet, in microseconds"},
};
// ---- RouteConfig (routes)
constexpr Key<RouteConfig> kRouteConfigKeys[] = {
    {.name = "prefix",
     .required = "0.0.0.0/0",
     .doc = "destinations covered; `0.0.0.0/0` is the default route",
     .doc_type = "prefix",
     .doc_accepted = "`A.B.C.D/N`, N 0..32, host bits clear",
     .custom = &kPrefix<&RouteConfig::prefix>},
    {.name = "gateway",
     .doc = "next hop; without it the route is on-link through `port`",
     .doc_type = "address",
     .doc_default = "required unless `port` is set",
     .doc_accepted = "`A.B.C.D`, on a port's connected prefix",
     .custom = &kGateway},
    {.name = "port",
     .field = &RouteConfig::port,
     .accepted = "the name of a port, or \"\" to pick it from the gateway",
     .doc = "port to send on; empty picks the port whose connected prefix holds the gateway",
     .doc_accepted = "a port's `name`, or `\"\"`"},
    {.name = "mac",
     .doc = "static next-hop Ethernet address: frames go there without ARP (forwarding with tern-l3fwd, and "
            "local replies)",
     .doc_type = "MAC",
     .doc_default = "unset",
     .doc_accepted = "unicast `aa:bb:cc:dd:ee:ff`",
     .custom = &kMac<&RouteConfig::mac>},
};
// ---- ArpConfig (arp)
constexpr Key<ArpConfig> kArpConfigKeys[] = {
    {.name = "table_size",
     .field = &ArpConfig::table_size,
     .range = {16, 1048576, false, false, " (entries)"},
     .doc = "maximum cache entries"},
    {.name = "queue_len",
     .field = &ArpConfig::queue_len,
     .range = {1, 1024, false, false, " (packets)"},
     .doc = "packets held per address while it is being resolved"},
    {.name = "reachable_ms",
     .field = &ArpConfig::reachable_ms,
     .range = {100, 86400000, false, false, " (milliseconds)"},
     .unit = Unit::ms,
     .doc = "an entry is trusted this long after it was confirmed"},
    {.name = "stale_ms",
     .field = &ArpConfig::stale_ms,
     .range = {100, 86400000, false, false, " (milliseconds, and at least reachable_ms)"},
     .unit = Unit::ms,
     .doc = "an entry not confirmed for this long is removed",
     .doc_accepted = "at least `reachable_ms`"},
    {.name = "retry_ms",
     .field = &ArpConfig::retry_ms,
     .range = {10, 60000, false, false, " (milliseconds)"},
     .unit = Unit::ms,
     .doc = "interval between ARP requests for one address"},
    {.name = "retries",
     .field = &ArpConfig::retries,
     .range = {1, 100, false, false, ""},
     .doc = "ARP requests sent before an address is declared unreachable"},
    {.name = "gratuitous",
     .field = &ArpConfig::gratuitous,
     .doc = "announce each port's address with a gratuitous ARP at start"},
    {.name = "lock_time_ms",
     .field = &ArpConfig::lock_time_ms,
     .range = {0, 60000, false, false, " (milliseconds)"},
     .unit = Unit::ms,
     .doc = "after an entry's MAC changes, ARP naming another MAC for that address (unsolicited replies, "
            "gratuitous ARP, requests) is ignored this long (`updates_locked`), unless it answers a "
            "broadcast request of tern's own (Linux's `locktime`). 0: every update is taken "
            "([robustness.md](robustness.md#shared-state-what-an-off-path-host-can-observe-or-exhaust))"},
};
// ---- Ipv4Config (ipv4)
constexpr Key<Ipv4Config> kIpv4ConfigKeys[] = {
    {.name = "default_ttl",
     .field = &Ipv4Config::default_ttl,
     .range = {1, 255, false, false, ""},
     .doc = "TTL of datagrams tern originates (RFC 1122 §3.2.1.7)"},
    {.name = "reassembly_timeout_ms",
     .field = &Ipv4Config::reassembly_timeout_ms,
     .range = {100, 120000, false, false, " (milliseconds)"},
     .unit = Unit::ms,
     .doc = "an incomplete datagram is dropped after this long (RFC 791 §3.2)"},
    {.name = "reassembly_max_bytes",
     .field = &Ipv4Config::reassembly_max_bytes,
     .range = {65535, 1u << 30, false, false, " (bytes)"},
     .doc = "buffer memory held for reassembly across all datagrams, per core: each fragment counts its "
            "mbuf's whole buffer (2,176 bytes with the default `data_room`), not its payload. When full, the "
            "oldest other datagram is evicted; so it is when the 4,096-fragment table is full"},
    {.name = "reassembly_max_datagrams",
     .field = &Ipv4Config::reassembly_max_datagrams,
     .range = {1, 65536, false, false, ""},
     .doc = "datagrams being reassembled at once"},
    {.name = "pmtu_min",
     .field = &Ipv4Config::pmtu_min,
     .range = {68, 9000, false, false, " (bytes of IP packet, RFC 791 minimum 68)"},
     .doc = "floor of a path MTU learned from ICMP fragmentation needed (RFC 5927 §7.2; Linux's `min_pmtu`). "
            "A smaller report records this value and sends to that destination without DF, so an attacker "
            "can cost throughput but never stall a connection, and a real smaller hop fragments. 68 accepts "
            "any RFC 791 value"},
};
// ---- IcmpConfig (icmp)
constexpr Key<IcmpConfig> kIcmpConfigKeys[] = {
    {.name = "echo", .field = &IcmpConfig::echo, .doc = "answer echo requests (ping)"},
    {.name = "echo_rate",
     .field = &IcmpConfig::echo_rate,
     .range = {0, 1000000, false, false, " (messages per second; 0: no limit)"},
     .doc =
         "echo replies per second per core (bursts of one second's worth); separate from the error budgets",
     .doc_default = "(unlimited)"},
    {.name = "error_rate",
     .field = &IcmpConfig::error_rate,
     .range = {1, 1000000, false, false, " (messages per second)"},
     .doc = "mean ICMP errors per second per core (RFC 1812 §4.3.2.8), in windows of random length (0.5..1.5 "
            "s) each with a random budget (half to one and a half times the mean for its length), so that "
            "its exhaustion cannot be timed from outside"},
    {.name = "dest_error_rate",
     .field = &IcmpConfig::dest_error_rate,
     .range = {0, 1000000, false, false, " (messages per second; 0: no limit)"},
     .doc = "ICMP errors per second to one destination (checked before `error_rate`: one peer flooding a "
            "closed port spends only its own allowance). 0: no per-destination limit"},
    {.name = "dest_error_burst",
     .field = &IcmpConfig::dest_error_burst,
     .range = {1, 1000000, false, false, " (messages)"},
     .doc = "ICMP errors one destination may get back to back"},
};
// ---- UdpConfig (udp)
constexpr Key<UdpConfig> kUdpConfigKeys[] = {
    {.name = "rx_queue_len",
     .field = &UdpConfig::rx_queue_len,
     .range = {1, 65536, false, false, " (datagrams)"},
     .doc = "datagrams queued per socket before new ones are dropped"},
};
// ---- TcpConfig (tcp)
constexpr Key<TcpConfig> kTcpConfigKeys[] = {
    {.name = "congestion",
     .field = &TcpConfig::congestion,
     .choices = kCongestion,
     .noun = "a congestion control algorithm",
     .doc = "congestion control of new connections: CUBIC (RFC 9438) or NewReno (RFC 5681, RFC 6582)"},
    {.name = "initial_window",
     .field = &TcpConfig::initial_window,
     .range = {1, 100, false, false, " (segments, RFC 6928)"},
     .doc = "initial congestion window in segments (RFC 6928); 10 gives RFC 6928's min(10 x MSS, max(2 x "
            "MSS, 14600)), other values n x MSS"},
    {.name = "delayed_ack_ms",
     .field = &TcpConfig::delayed_ack_ms,
     .range = {1, 499, false, false, " (milliseconds; RFC 1122 4.2.3.2: under 500)"},
     .unit = Unit::ms,
     .doc = "delayed ACK timer (RFC 1122 §4.2.3.2: under 500 ms)"},
    {.name = "rto_min_ms",
     .field = &TcpConfig::rto_min_ms,
     .range = {1, 60000, false, false, " (milliseconds)"},
     .unit = Unit::ms,
     .doc = "lower bound of the retransmission timeout (RFC 6298 §2.4 says 1000; 200 is Linux's)"},
    {.name = "rto_max_ms",
     .field = &TcpConfig::rto_max_ms,
     .range = kTcpRtoMax,
     .unit = Unit::ms,
     .doc = "upper bound of the retransmission timeout, backoff included (RFC 6298 §2.5: at least 60 s)",
     .doc_accepted = "at least `rto_min_ms`"},
    {.name = "rto_initial_ms",
     .field = &TcpConfig::rto_initial_ms,
     .range = {1, 60000, false, false, " (milliseconds)"},
     .unit = Unit::ms,
     .doc = "RTO before the first RTT sample (RFC 6298 §2.1); clamped to [`rto_min_ms`, `rto_max_ms`]"},
    {.name = "msl_ms",
     .field = &TcpConfig::msl_ms,
     .range = {1, 600000, false, false, " (milliseconds; TIME_WAIT lasts 2 x MSL)"},
     .unit = Unit::ms,
     .doc = "maximum segment lifetime; TIME_WAIT lasts 2 x MSL (RFC 9293 §3.4.2)"},
    {.name = "max_connections",
     .field = &TcpConfig::max_connections,
     .range = {1, 4194304, false, false, " (per core)"},
     .doc = "connections (TCBs) per core"},
    {.name = "max_time_wait",
     .field = &TcpConfig::max_time_wait,
     .range = {1, 4194304, false, false, " (per core)"},
     .doc = "TIME_WAIT entries per core; when full the oldest is recycled"},
    {.name = "backlog",
     .field = &TcpConfig::backlog,
     .range = {1, 65535, false, false, " (connections)"},
     .doc = "default listen backlog (SYN queue + accept queue)"},
    {.name = "syncookies",
     .field = &TcpConfig::syncookies,
     .doc = "answer with SYN cookies when a SYN queue is full (RFC 4987 §3.6)"},
    {.name = "timestamps", .field = &TcpConfig::timestamps, .doc = "offer the timestamps option (RFC 7323)"},
    {.name = "sack", .field = &TcpConfig::sack, .doc = "offer selective acknowledgements (RFC 2018)"},
    {.name = "window_scaling",
     .field = &TcpConfig::window_scaling,
     .doc = "offer the window scale option (RFC 7323)"},
    {.name = "send_buffer",
     .field = &TcpConfig::send_buffer,
     .range = {4096, 64u << 20, false, false, " (bytes)"},
     .doc = "default send buffer of a socket, bytes (unacknowledged + unsent)"},
    {.name = "recv_buffer",
     .field = &TcpConfig::recv_buffer,
     .range = {4096, 64u << 20, false, false, " (bytes)"},
     .doc = "default receive buffer of a socket, bytes; it sets the advertised window"},
    {.name = "nodelay",
     .field = &TcpConfig::nodelay,
     .doc = "default for new sockets: `true` turns Nagle's algorithm (RFC 1122 §4.2.3.4) off"},
    {.name = "keepalive",
     .doc = "default keepalive of new sockets (RFC 1122 §4.2.3.6)",
     .doc_type = "map",
     .doc_default = "see below",
     .custom = &kSub<&TcpConfig::keepalive>},
    {.name = "max_retries",
     .field = &TcpConfig::max_retries,
     .range = {1, 100, false, false, " (retransmissions)"},
     .doc = "retransmissions of data before the connection times out"},
    {.name = "syn_retries",
     .field = &TcpConfig::syn_retries,
     .range = {1, 20, false, false, " (retransmissions)"},
     .doc = "SYN retransmissions before `connect()` fails"},
    {.name = "fin_wait_2_s",
     .field = &TcpConfig::fin_wait_2_s,
     .range = {1, 3600, false, false, " (seconds)"},
     .unit = Unit::s,
     .doc = "lifetime of an orphaned (closed by the application) connection in FIN_WAIT_2, seconds"},
    {.name = "ooo_nodes",
     .field = &TcpConfig::ooo_nodes,
     .range = {16, 4194304, false, false, " (segments per core)"},
     .doc = "out-of-order segments held per core, over all connections"},
    {.name = "memory_limit_kb",
     .field = &TcpConfig::memory_limit_kb,
     .range = {0, 16777216, false, false, " (KiB per core; 0: automatic)"},
     .unit = Unit::kib,
     .doc = "KiB all TCP queues of a core (receive, out-of-order, send) may hold, charged by what their "
            "mbufs cost (truesize: 128-byte `rte_mbuf` + `data_room` + 128 headroom per mbuf, however few "
            "bytes it carries). 0: everything the pool has beyond `mempool.rx_reserve`; never more than "
            "that. Each connection may also hold at most 2 x its socket buffer per direction "
            "([robustness.md](robustness.md))",
     .doc_default = "(automatic)"},
    {.name = "challenge_ack_limit",
     .field = &TcpConfig::challenge_ack_limit,
     .range = {1, 1000000, false, false, " (challenge ACKs per second per core)"},
     .doc = "mean challenge ACKs (RFC 5961 §7) per second per core, in windows of random length and budget "
            "like `icmp.error_rate`"},
    {.name = "challenge_ack_interval_ms",
     .field = &TcpConfig::challenge_ack_interval_ms,
     .range = {0, 60000, false, false, " (milliseconds; 0: no per-connection limit)"},
     .unit = Unit::ms,
     .doc = "at most one challenge ACK per connection per this long (Linux's `tcp_invalid_ratelimit`); 0: no "
            "per-connection limit. With it, spoofed segments aimed at one connection spend at most one of "
            "the core's budget per interval"},
    {.name = "recovery",
     .field = &TcpConfig::recovery,
     .choices = kRecovery,
     .noun = "a loss recovery",
     .doc = "loss detection for SACK connections: RACK-TLP (RFC 8985: time-based loss marking with a "
            "reordering window that D-SACKs widen, and tail loss probes) or RFC 6675's duplicate-ACK "
            "threshold; both size recovery with PRR (RFC 6937). Connections without SACK use NewReno (RFC "
            "6582) either way ([tcp.md](tcp.md))"},
    {.name = "limited_transmit",
     .field = &TcpConfig::limited_transmit,
     .doc = "RFC 3042: the first two duplicate ACKs each release one new segment beyond cwnd"},
    {.name = "dsack",
     .field = &TcpConfig::dsack,
     .doc = "RFC 2883: report a duplicate segment in the next ACK's first SACK block"},
    {.name = "undo",
     .field = &TcpConfig::undo,
     .doc = "detect spurious retransmissions (D-SACKs covering all of an episode's retransmissions; Eifel, "
            "RFC 3522, after an RTO with timestamps) and undo the cwnd/ssthresh reduction (RFC 4015)"},
    {.name = "hystart",
     .field = &TcpConfig::hystart,
     .doc = "HyStart++ (RFC 9406): leave slow start when the RTT rises, through 5 rounds of conservative "
            "slow start"},
    {.name = "abc_limit",
     .field = &TcpConfig::abc_limit,
     .range = {0, 64, false, false, " (segments per ACK; 0: no limit)"},
     .doc = "RFC 3465 L: segments cwnd may grow per ACK in slow start (1: RFC 5681's rule; 0: no limit, "
            "every acknowledged byte counts, e.g. with GRO stretch ACKs). With `hystart` on, slow start uses "
            "8 (RFC 9406 §4.2, not paced) unless this is 0; after an RTO it is 1"},
    {.name = "idle_restart",
     .field = &TcpConfig::idle_restart,
     .doc = "RFC 5681 §4.1: after more than an RTO without sending, restart from the restart window (Linux's "
            "`tcp_slow_start_after_idle`)"},
    {.name = "quick_acks",
     .field = &TcpConfig::quick_acks,
     .range = {0, 255, false, false, " (segments; 0: off)"},
     .doc = "the first data segments of a connection, and of each burst after the peer was silent longer "
            "than an RTO, are ACKed at once (the peer is in slow start); 0: delayed ACK from the start"},
    {.name = "ecn",
     .field = &TcpConfig::ecn,
     .choices = kEcn,
     .noun = "an ECN mode",
     .doc = "RFC 3168 ECN for new sockets: `passive` agrees when the peer's SYN asks, `on` also asks when "
            "connecting. Off unless configured: some paths still drop ECN-setup SYNs (a retransmitted SYN "
            "goes without)"},
    {.name = "user_timeout_ms",
     .field = &TcpConfig::user_timeout_ms,
     .range = {0, 2147483647, false, false, " (milliseconds; 0: off)"},
     .unit = Unit::ms,
     .doc = "RFC 5482 / `TCP_USER_TIMEOUT` default for new sockets: fail a connection whose sent data, SYN "
            "or zero-window probes stay unacknowledged this long, or whose keepalive probes go unanswered "
            "this long",
     .doc_default = "(off)"},
    {.name = "notsent_lowat",
     .field = &TcpConfig::notsent_lowat,
     .range = {0, 67108864, false, false, " (bytes; 0: off)"},
     .doc = "`TCP_NOTSENT_LOWAT` default: `ev::writable` waits until fewer than this many queued bytes are "
            "unsent",
     .doc_default = "(off)"},
    {.name = "fastopen_key_rotate_s",
     .field = &TcpConfig::fastopen_key_rotate_s,
     .range = {60, 604800, false, false, " (seconds)"},
     .unit = Unit::s,
     .doc = "TCP Fast Open (RFC 7413) server: the cookie key changes this often; cookies of the previous key "
            "stay valid one more period. Listeners turn Fast Open on with `ListenOptions::fastopen` (the "
            "pending-request bound)"},
    {.name = "fastopen_cache",
     .field = &TcpConfig::fastopen_cache,
     .range = {0, 1048576, false, false, " (entries per core)"},
     .doc = "Fast Open client: cookies remembered per core, by server address (0: none, so every connect "
            "asks again)"},
    {.name = "fastopen_blackhole_s",
     .field = &TcpConfig::fastopen_blackhole_s,
     .range = {0, 86400, false, false, " (seconds)"},
     .unit = Unit::s,
     .doc = "Fast Open client: after a SYN with data went unanswered, SYNs to that server carry no data for "
            "this long (RFC 7413 §4.2.2)"},
};
// ---- TcpKeepaliveConfig (tcp.keepalive)
constexpr Key<TcpKeepaliveConfig> kTcpKeepaliveConfigKeys[] = {
    {.name = "enabled", .field = &TcpKeepaliveConfig::enabled, .doc = "probe idle connections"},
    {.name = "idle_s",
     .field = &TcpKeepaliveConfig::idle_s,
     .range = {1, 86400 * 7, false, false, " (seconds)"},
     .unit = Unit::s,
     .doc = "idle time before the first probe, seconds (RFC 1122: no less than two hours by default)"},
    {.name = "interval_s",
     .field = &TcpKeepaliveConfig::interval_s,
     .range = {1, 86400, false, false, " (seconds)"},
     .unit = Unit::s,
     .doc = "time between unanswered probes, seconds"},
    {.name = "count",
     .field = &TcpKeepaliveConfig::count,
     .range = {1, 255, false, false, " (probes)"},
     .doc = "unanswered probes before the connection is dropped"},
};
// ---- EchoConfig (echo)
constexpr Key<EchoConfig> kEchoConfigKeys[] = {
    {.name = "udp_port",
     .field = &EchoConfig::udp_port,
     .range = {1, 65535, true, false, ""},
     .doc = "UDP port to echo on; 0 disables UDP echo"},
    {.name = "tcp_port",
     .field = &EchoConfig::tcp_port,
     .range = {1, 65535, true, false, ""},
     .doc = "TCP port to echo on; 0 disables TCP echo"},
};
