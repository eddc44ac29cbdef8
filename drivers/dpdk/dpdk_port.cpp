/**
 * @file
 * DpdkPort: probe, configure (queues, offloads, RSS, MTU), start, and tear
 * down an ethdev. Control path only; the burst calls are inline in the
 * header.
 */
// rte_devargs_reset() is still marked experimental in DPDK 22.11.
#define ALLOW_EXPERIMENTAL_API 1

#include "tern/drivers/dpdk_port.hpp"

#include <rte_bus.h>
#include <rte_dev.h>
#include <rte_devargs.h>
#include <rte_errno.h>
#include <rte_ether.h>

#include <algorithm>
#include <cerrno>
#include <cinttypes>
#include <cstdarg>
#include <cstdio>
#include <cstring>

#include "tern/base/log.hpp"

namespace tern::drivers {

namespace {

std::string strprintf(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
std::string strprintf(const char* fmt, ...) {
  char buf[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  return buf;
}

// Symmetric Toeplitz key: with 0x6d5a repeated, hash(src, dst) ==
// hash(dst, src), so both directions of a flow land on one queue.
constexpr uint8_t kSymmetricKey[2] = {0x6d, 0x5a};

constexpr uint64_t kWantedRxOffloads =
    RTE_ETH_RX_OFFLOAD_IPV4_CKSUM | RTE_ETH_RX_OFFLOAD_UDP_CKSUM | RTE_ETH_RX_OFFLOAD_TCP_CKSUM;
constexpr uint64_t kWantedTxOffloads = RTE_ETH_TX_OFFLOAD_IPV4_CKSUM | RTE_ETH_TX_OFFLOAD_UDP_CKSUM |
                                       RTE_ETH_TX_OFFLOAD_TCP_CKSUM | RTE_ETH_TX_OFFLOAD_TCP_TSO |
                                       RTE_ETH_TX_OFFLOAD_MULTI_SEGS;
constexpr uint64_t kWantedRssHf = RTE_ETH_RSS_IP | RTE_ETH_RSS_TCP | RTE_ETH_RSS_UDP;

// The ethdev that belongs to device @p name, if any.
bool find_port(const std::string& name, uint16_t& port_id) {
  if (rte_eth_dev_get_port_by_name(name.c_str(), &port_id) == 0) return true;
  // Some buses name the ethdev differently from the device: match the device.
  uint16_t pid;
  RTE_ETH_FOREACH_DEV(pid) {
    rte_eth_dev_info info{};
    if (rte_eth_dev_info_get(pid, &info) == 0 && info.device != nullptr &&
        name == rte_dev_name(info.device)) {
      port_id = pid;
      return true;
    }
  }
  return false;
}

// Remove a device that is probed but has no ethdev port any more (its port
// was closed by an earlier DpdkPort), so that it can be probed afresh.
bool remove_stale_device(const std::string& devargs) {
  rte_devargs da{};
  if (rte_devargs_parse(&da, devargs.c_str()) != 0) return false;
  int rc = da.bus != nullptr ? rte_eal_hotplug_remove(rte_bus_name(da.bus), da.name) : -ENODEV;
  rte_devargs_reset(&da);
  return rc == 0;
}

// A device on the virtual bus (net_tap, net_pcap, net_ring, ...), not a NIC.
bool is_virtual(const rte_device* dev) {
  const rte_bus* bus = dev != nullptr ? rte_dev_bus(dev) : nullptr;
  return bus != nullptr && std::strcmp(rte_bus_name(bus), "vdev") == 0;
}

}  // namespace

std::unique_ptr<DpdkPort> DpdkPort::open(const DpdkPortOptions& opts, std::string& error) {
  error.clear();
  DpdkPortOptions o = opts;  // queue counts may be fitted to the device below
  if (o.devargs.empty()) {
    error =
        "DpdkPort: devargs is empty; give a device such as \"net_tap0,iface=tern0\", "
        "\"net_ring0\" or a PCI address";
    return nullptr;
  }
  const std::string device = o.devargs.substr(0, o.devargs.find(','));
  const std::string label = o.name.empty() ? device : o.name;
  const char* lb = label.c_str();
  if (device.empty()) {
    error = strprintf("%s: devargs \"%s\" has no device name before the first ','", lb, o.devargs.c_str());
    return nullptr;
  }
  if (o.rx_queues == 0 || o.tx_queues == 0) {
    error = strprintf("%s: rx_queues and tx_queues must be at least 1 (got %u and %u)", lb, o.rx_queues,
                      o.tx_queues);
    return nullptr;
  }
  if (o.rx_pools.size() != 1 && o.rx_pools.size() != o.rx_queues) {
    error = strprintf("%s: rx_pools holds %zu pools; give one per RX queue (%u) or one for all", lb,
                      o.rx_pools.size(), o.rx_queues);
    return nullptr;
  }
  for (rte_mempool* p : o.rx_pools) {
    if (p == nullptr) {
      error = strprintf("%s: an rx_pools entry is null; create the pool (after rte_eal_init) first", lb);
      return nullptr;
    }
  }

  // net_memif (DPDK 22.11) spreads a frame longer than its packet buffer (bsize, default 2048)
  // over chained descriptors, and on that path the receiver was seen to get stale copies of
  // earlier frames (valid checksums, old sequence numbers and timestamps: PAWS and out-of-window
  // drops at MTU 9000). Unless the user chose bsize, one frame gets one descriptor.
  if (device.rfind("net_memif", 0) == 0 && o.devargs.find("bsize=") == std::string::npos &&
      uint32_t{o.mtu} + RTE_ETHER_HDR_LEN > 2048) {
    const uint32_t bsize = (uint32_t{o.mtu} + RTE_ETHER_HDR_LEN + 1023) / 1024 * 1024;
    o.devargs += ",bsize=" + std::to_string(bsize);
  }

  std::unique_ptr<DpdkPort> port(new DpdkPort);
  port->name_ = label;
  port->device_ = device;

  // --- find or probe the device ---------------------------------------------
  if (!find_port(device, port->port_id_)) {
    int rc = rte_dev_probe(o.devargs.c_str());
    if (rc == -EEXIST && remove_stale_device(o.devargs)) rc = rte_dev_probe(o.devargs.c_str());
    if (rc < 0) {
      error = strprintf(
          "%s: cannot probe device \"%s\": %s; check the driver name (net_tap, net_pcap, net_ring, "
          "net_memif, a PCI address) and its arguments, and that the PMD is installed",
          lb, o.devargs.c_str(), rte_strerror(-rc));
      return nullptr;
    }
    if (!find_port(device, port->port_id_)) {
      remove_stale_device(o.devargs);
      error = strprintf("%s: device \"%s\" was probed but no ethdev port named \"%s\" appeared", lb,
                        o.devargs.c_str(), device.c_str());
      return nullptr;
    }
    port->probed_ = true;
  }
  // From here on the destructor undoes whatever succeeded.
  const uint16_t pid = port->port_id_;
  port->touched_ = true;

  rte_eth_dev_info info{};
  if (int rc = rte_eth_dev_info_get(pid, &info); rc != 0) {
    error = strprintf("%s: rte_eth_dev_info_get failed: %s", lb, rte_strerror(-rc));
    return nullptr;
  }
  const char* drv = info.driver_name != nullptr ? info.driver_name : "?";

  // --- queues ----------------------------------------------------------------
  if (o.fit_queues) {
    // Fewer queues than cores is a supported set-up: the stack steers the rest in software.
    const uint16_t most = std::max<uint16_t>(1, std::min(info.max_rx_queues, info.max_tx_queues));
    if (o.rx_queues > most || o.tx_queues > most) {
      TERN_LOG_INFO("%s: %s has at most %u queue pairs; using %u for %u asked", lb, drv, most, most,
                    std::max(o.rx_queues, o.tx_queues));
    }
    o.rx_queues = std::min(o.rx_queues, most);
    o.tx_queues = std::min(o.tx_queues, most);
  }
  if (o.rx_queues > info.max_rx_queues) {
    error = strprintf("%s: %s supports at most %u RX queues, %u asked; lower rx_queues", lb, drv,
                      info.max_rx_queues, o.rx_queues);
    return nullptr;
  }
  if (o.tx_queues > info.max_tx_queues) {
    error = strprintf("%s: %s supports at most %u TX queues, %u asked; lower tx_queues", lb, drv,
                      info.max_tx_queues, o.tx_queues);
    return nullptr;
  }
  // net_memif reports a 1518-byte frame limit and no MTU operation, yet its datapath carries frames
  // of any length (chained descriptors on TX, chained mbufs on RX): a jumbo MTU is kept in software.
  const bool memif = std::string_view(drv) == "net_memif";
  const uint32_t eth_overhead = RTE_ETHER_HDR_LEN + RTE_ETHER_CRC_LEN;
  const bool memif_jumbo =
      memif && o.mtu + eth_overhead > info.max_rx_pktlen && info.max_rx_pktlen > eth_overhead;
  const uint16_t dev_mtu = memif_jumbo ? static_cast<uint16_t>(info.max_rx_pktlen - eth_overhead) : o.mtu;
  if (memif && o.mtu > 9000) {
    error = strprintf("%s: MTU %u is above what tern carries over %s (9000); choose 9000 or less", lb, o.mtu,
                      drv);
    return nullptr;
  }
  if (dev_mtu < info.min_mtu || dev_mtu > info.max_mtu) {
    error = strprintf("%s: MTU %u is outside what %s accepts [%u, %u]; choose an MTU in that range", lb,
                      o.mtu, drv, info.min_mtu, info.max_mtu);
    return nullptr;
  }

  // --- offloads: only what the device reports --------------------------------
  rte_eth_conf conf{};
  conf.rxmode.mtu = dev_mtu;
  conf.rxmode.offloads = info.rx_offload_capa & kWantedRxOffloads;
  conf.txmode.offloads = info.tx_offload_capa & kWantedTxOffloads;
  if (o.lro && (info.rx_offload_capa & RTE_ETH_RX_OFFLOAD_TCP_LRO) != 0) {
    conf.rxmode.offloads |= RTE_ETH_RX_OFFLOAD_TCP_LRO;  // TCP input reads tso_segsz of merged frames
    conf.rxmode.max_lro_pkt_size = std::min<uint32_t>(info.max_lro_pkt_size, 65535 + RTE_ETHER_HDR_LEN);
  }
  // TSO needs the NIC to fill the IPv4 and TCP checksums of every segment.
  const uint64_t tso_needs = RTE_ETH_TX_OFFLOAD_IPV4_CKSUM | RTE_ETH_TX_OFFLOAD_TCP_CKSUM;
  if ((conf.txmode.offloads & tso_needs) != tso_needs) conf.txmode.offloads &= ~RTE_ETH_TX_OFFLOAD_TCP_TSO;

  // Frames longer than an RX buffer need scatter (chained mbufs) when the device offers it.
  uint32_t min_room = UINT32_MAX;
  for (rte_mempool* p : o.rx_pools) {
    uint32_t room = rte_pktmbuf_data_room_size(p);
    room = room > RTE_PKTMBUF_HEADROOM ? room - RTE_PKTMBUF_HEADROOM : 0;
    if (room < min_room) min_room = room;
  }
  const uint32_t max_frame = uint32_t{o.mtu} + RTE_ETHER_HDR_LEN + RTE_ETHER_CRC_LEN + 2 * RTE_VLAN_HLEN;
  if (max_frame > min_room && (info.rx_offload_capa & RTE_ETH_RX_OFFLOAD_SCATTER) != 0) {
    conf.rxmode.offloads |= RTE_ETH_RX_OFFLOAD_SCATTER;
  }

  // --- RSS ---------------------------------------------------------------------
  std::vector<uint8_t> rss_key;
  const uint64_t rss_hf = info.flow_type_rss_offloads & kWantedRssHf;
  bool rss = o.rx_queues > 1 && info.hash_key_size >= 16 && rss_hf != 0;
  if (rss) {
    rss_key.resize(info.hash_key_size);
    for (size_t i = 0; i < rss_key.size(); ++i) rss_key[i] = kSymmetricKey[i % 2];
    conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
    conf.rx_adv_conf.rss_conf.rss_key = rss_key.data();
    conf.rx_adv_conf.rss_conf.rss_key_len = info.hash_key_size;
    conf.rx_adv_conf.rss_conf.rss_hf = rss_hf;
    conf.rxmode.offloads |= info.rx_offload_capa & RTE_ETH_RX_OFFLOAD_RSS_HASH;
  }

  if (int rc = rte_eth_dev_configure(pid, o.rx_queues, o.tx_queues, &conf); rc != 0) {
    error = strprintf("%s: rte_eth_dev_configure(%u rx, %u tx queues) on %s failed: %s", lb, o.rx_queues,
                      o.tx_queues, drv, rte_strerror(-rc));
    return nullptr;
  }

  // --- MTU ---------------------------------------------------------------------
  // configure() applied rxmode.mtu; set_mtu also reaches devices that keep
  // their own (net_tap sets the kernel interface). -ENOTSUP: no setter, the
  // configured value stands.
  if (int rc = rte_eth_dev_set_mtu(pid, dev_mtu); rc != 0 && rc != -ENOTSUP) {
    error = strprintf("%s: %s refused MTU %u: %s; choose an MTU the device accepts [%u, %u]", lb, drv, o.mtu,
                      rte_strerror(-rc), info.min_mtu, info.max_mtu);
    return nullptr;
  }

  // --- queues --------------------------------------------------------------------
  uint16_t nb_rx = o.rx_desc, nb_tx = o.tx_desc;
  if (int rc = rte_eth_dev_adjust_nb_rx_tx_desc(pid, &nb_rx, &nb_tx); rc != 0) {
    error = strprintf("%s: cannot fit %u RX / %u TX descriptors to %s: %s", lb, o.rx_desc, o.tx_desc, drv,
                      rte_strerror(-rc));
    return nullptr;
  }
  const int sock = rte_eth_dev_socket_id(pid);
  const unsigned socket = sock < 0 ? static_cast<unsigned>(SOCKET_ID_ANY) : static_cast<unsigned>(sock);
  for (uint16_t q = 0; q < o.rx_queues; ++q) {
    rte_eth_rxconf rxconf = info.default_rxconf;
    rxconf.offloads = conf.rxmode.offloads;
    rte_mempool* pool = o.rx_pools.size() == 1 ? o.rx_pools[0] : o.rx_pools[q];
    if (int rc = rte_eth_rx_queue_setup(pid, q, nb_rx, socket, &rxconf, pool); rc != 0) {
      error = strprintf("%s: RX queue %u setup (%u descriptors, pool %s) failed: %s", lb, q, nb_rx,
                        pool->name, rte_strerror(-rc));
      return nullptr;
    }
  }
  for (uint16_t q = 0; q < o.tx_queues; ++q) {
    rte_eth_txconf txconf = info.default_txconf;
    txconf.offloads = conf.txmode.offloads;
    if (int rc = rte_eth_tx_queue_setup(pid, q, nb_tx, socket, &txconf); rc != 0) {
      error = strprintf("%s: TX queue %u setup (%u descriptors) failed: %s", lb, q, nb_tx, rte_strerror(-rc));
      return nullptr;
    }
  }

  // --- MAC, promiscuous, start -------------------------------------------------
  bool mac_by_software = false;
  if (o.mac) {
    rte_ether_addr addr{};
    for (size_t i = 0; i < 6; ++i) addr.addr_bytes[i] = (*o.mac)[i];
    const int rc = rte_eth_dev_default_mac_addr_set(pid, &addr);
    if (rc == -ENOTSUP && is_virtual(info.device)) {
      // Quirk: virtual devices without a MAC setter (net_pcap, net_ring,
      // net_null in 22.11) do not filter on the destination address, so the
      // requested address simply becomes the port's.
      mac_by_software = true;
      TERN_LOG_INFO("%s: %s cannot set its MAC; using the requested one (the device does not filter)", lb,
                    drv);
    } else if (rc != 0) {
      error = strprintf(
          "%s: %s refused MAC %02x:%02x:%02x:%02x:%02x:%02x: %s; leave mac unset to use the "
          "device's own",
          lb, drv, addr.addr_bytes[0], addr.addr_bytes[1], addr.addr_bytes[2], addr.addr_bytes[3],
          addr.addr_bytes[4], addr.addr_bytes[5], rte_strerror(-rc));
      return nullptr;
    }
  }
  if (o.promiscuous) {
    if (int rc = rte_eth_promiscuous_enable(pid); rc != 0) {
      error = strprintf("%s: %s cannot enable promiscuous mode: %s; set promiscuous = false", lb, drv,
                        rte_strerror(-rc));
      return nullptr;
    }
  }
  if (int rc = rte_eth_dev_start(pid); rc != 0) {
    error = strprintf("%s: rte_eth_dev_start on %s failed: %s", lb, drv, rte_strerror(-rc));
    return nullptr;
  }
  port->started_ = true;
  port->opened_ = true;
  if (std::strcmp(drv, "net_memif") == 0) {
    port->guard_ = BurstGuard::acquire(std::max(o.rx_queues, o.tx_queues));
    if (port->guard_ == nullptr) {
      TERN_LOG_WARN("%s: no burst guard left (16 memif ports at most): a peer's exit may crash this port",
                    lb);
    }
  }
  if (rss) rss = port->program_rss(info, o.rx_queues, lb);

  // --- capabilities -------------------------------------------------------------
  PortCaps& c = port->caps_;
  rte_ether_addr addr{};
  if (mac_by_software) {
    c.mac = *o.mac;
  } else if (rte_eth_macaddr_get(pid, &addr) == 0) {
    for (size_t i = 0; i < 6; ++i) c.mac[i] = addr.addr_bytes[i];
  }
  uint16_t mtu = o.mtu;
  if (rte_eth_dev_get_mtu(pid, &mtu) == 0) c.mtu = mtu;
  if (dev_mtu != o.mtu) c.mtu = o.mtu;  // the memif jumbo case above
  c.rx_queues = o.rx_queues;
  c.tx_queues = o.tx_queues;
  const uint64_t rx = conf.rxmode.offloads, tx = conf.txmode.offloads;
  c.rx_ipv4_csum = (rx & RTE_ETH_RX_OFFLOAD_IPV4_CKSUM) != 0;
  c.rx_l4_csum = (rx & RTE_ETH_RX_OFFLOAD_UDP_CKSUM) != 0 && (rx & RTE_ETH_RX_OFFLOAD_TCP_CKSUM) != 0;
  c.tx_ipv4_csum = (tx & RTE_ETH_TX_OFFLOAD_IPV4_CKSUM) != 0;
  c.tx_udp_csum = (tx & RTE_ETH_TX_OFFLOAD_UDP_CKSUM) != 0;
  c.tx_tcp_csum = (tx & RTE_ETH_TX_OFFLOAD_TCP_CKSUM) != 0;
  c.tso = (tx & RTE_ETH_TX_OFFLOAD_TCP_TSO) != 0;
  c.lro = (rx & RTE_ETH_RX_OFFLOAD_TCP_LRO) != 0;
  if (c.tso && std::string_view(drv) == "net_tap") {
    // net_tap cuts with rte_gso into at most 64 segments (MAX_GSO_MBUFS) and refuses a segment
    // whose whole frame, Ethernet header included, exceeds the MTU (tap_write_mbufs, 22.11).
    c.tso_max_segs = 64;
    c.tso_max_frame = c.mtu;
  }
  c.multi_seg_tx = (tx & RTE_ETH_TX_OFFLOAD_MULTI_SEGS) != 0;
  c.rss = rss;
  c.rss_key_size = rss ? info.hash_key_size : 0;
  c.reta_size = rss ? info.reta_size : 0;

  TERN_LOG_INFO(
      "%s: %s port %u (%s) mac %02x:%02x:%02x:%02x:%02x:%02x mtu %u, %u rx / %u tx queues, "
      "rx csum ip%s l4%s, tx csum ip%s udp%s tcp%s, tso%s, lro%s, multi-seg%s, rss%s (key %u, reta %u)",
      lb, device.c_str(), pid, drv, c.mac[0], c.mac[1], c.mac[2], c.mac[3], c.mac[4], c.mac[5], c.mtu,
      c.rx_queues, c.tx_queues, c.rx_ipv4_csum ? "+" : "-", c.rx_l4_csum ? "+" : "-",
      c.tx_ipv4_csum ? "+" : "-", c.tx_udp_csum ? "+" : "-", c.tx_tcp_csum ? "+" : "-", c.tso ? "+" : "-",
      c.lro ? "+" : "-", c.multi_seg_tx ? "+" : "-", c.rss ? "+" : "-", c.rss_key_size, c.reta_size);
  return port;
}

// The RETA spread evenly over the RX queues (entry i -> queue i % queues), then the key, the
// hash functions and the table read back: the stack steers by what the device holds (issue 10).
bool DpdkPort::program_rss(const rte_eth_dev_info& info, uint16_t rx_queues, const char* lb) {
  const uint16_t pid = port_id_;
  const uint16_t size = info.reta_size;
  if (size == 0 || size > 4096) {
    TERN_LOG_WARN("%s: RSS reports a redirection table of %u entries; steering in software", lb, size);
    return false;
  }
  const size_t groups = (size + RTE_ETH_RETA_GROUP_SIZE - 1) / RTE_ETH_RETA_GROUP_SIZE;
  std::vector<rte_eth_rss_reta_entry64> reta(groups);
  for (size_t i = 0; i < size; ++i) {
    reta[i / RTE_ETH_RETA_GROUP_SIZE].mask |= uint64_t{1} << (i % RTE_ETH_RETA_GROUP_SIZE);
    reta[i / RTE_ETH_RETA_GROUP_SIZE].reta[i % RTE_ETH_RETA_GROUP_SIZE] =
        static_cast<uint16_t>(i % rx_queues);
  }
  if (int rc = rte_eth_dev_rss_reta_update(pid, reta.data(), size); rc != 0) {
    // Not fatal: the device's own table is read back below and used as it is.
    TERN_LOG_INFO("%s: the device keeps its own RSS redirection table (update: %s)", lb, rte_strerror(-rc));
  }
  for (auto& g : reta) {
    g.mask = ~uint64_t{0};
    std::fill(std::begin(g.reta), std::end(g.reta), uint16_t{0});
  }
  std::vector<uint8_t> key(info.hash_key_size);
  rte_eth_rss_conf conf{};
  conf.rss_key = key.data();
  conf.rss_key_len = static_cast<uint8_t>(key.size());
  if (int rc = rte_eth_dev_rss_hash_conf_get(pid, &conf); rc != 0) {
    TERN_LOG_WARN("%s: cannot read the RSS key back (%s); steering in software", lb, rte_strerror(-rc));
    return false;
  }
  if (int rc = rte_eth_dev_rss_reta_query(pid, reta.data(), size); rc != 0) {
    TERN_LOG_WARN("%s: cannot read the RSS redirection table back (%s); steering in software", lb,
                  rte_strerror(-rc));
    return false;
  }
  const uint64_t l4 = RTE_ETH_RSS_NONFRAG_IPV4_TCP | RTE_ETH_RSS_NONFRAG_IPV4_UDP;
  if ((conf.rss_hf & (RTE_ETH_RSS_IPV4 | RTE_ETH_RSS_FRAG_IPV4 | RTE_ETH_RSS_NONFRAG_IPV4_OTHER)) == 0 &&
      (conf.rss_hf & l4) == 0) {
    TERN_LOG_WARN("%s: the device does not hash IPv4 (rss_hf %#" PRIx64 "); steering in software", lb,
                  conf.rss_hf);
    return false;
  }
  rss_.key = std::move(key);
  rss_.reta.resize(size);
  for (size_t i = 0; i < size; ++i) {
    rss_.reta[i] = reta[i / RTE_ETH_RETA_GROUP_SIZE].reta[i % RTE_ETH_RETA_GROUP_SIZE];
    if (rss_.reta[i] >= rx_queues) {
      TERN_LOG_WARN("%s: RSS table entry %zu names queue %u of %u; steering in software", lb, i, rss_.reta[i],
                    rx_queues);
      return false;
    }
  }
  rss_.l4 = (conf.rss_hf & l4) == l4;
  return true;
}

bool DpdkPort::rss_state(RssState& out) const {
  if (!caps_.rss || rss_.reta.empty()) return false;
  out = rss_;
  return true;
}

DpdkPort::~DpdkPort() {
  close_device();
  BurstGuard::release(guard_);  // after the device is gone: no burst can start any more
}

void DpdkPort::close_device() noexcept {
  // A failed open() closes and removes only what it probed itself.
  if (!touched_ || (!opened_ && !probed_)) return;
  rte_eth_dev_info info{};
  rte_device* dev = rte_eth_dev_info_get(port_id_, &info) == 0 ? info.device : nullptr;
  if (started_) {
    // Loopback devices (net_ring) keep transmitted frames in their RX rings;
    // free them rather than leave them stranded. Bounded: a live device
    // (net_tap) may keep receiving.
    rte_mbuf* burst[32];
    for (uint16_t q = 0; q < caps_.rx_queues; ++q) {
      for (int i = 0; i < 1024; ++i) {
        uint16_t n = rte_eth_rx_burst(port_id_, q, burst, 32);
        rte_pktmbuf_free_bulk(burst, n);
        if (n == 0) break;
      }
    }
    if (int rc = rte_eth_dev_stop(port_id_); rc != 0) {
      TERN_LOG_WARN("%s: rte_eth_dev_stop failed: %s", name_.c_str(), rte_strerror(-rc));
    }
    started_ = false;
  }
  if (int rc = rte_eth_dev_close(port_id_); rc != 0) {
    TERN_LOG_WARN("%s: rte_eth_dev_close failed: %s", name_.c_str(), rte_strerror(-rc));
  }
  if (probed_ && dev != nullptr) {
    if (int rc = rte_dev_remove(dev); rc != 0) {
      TERN_LOG_WARN("%s: rte_dev_remove(%s) failed: %s", name_.c_str(), device_.c_str(), rte_strerror(-rc));
    }
  }
  touched_ = opened_ = false;
}

LinkStatus DpdkPort::link() const {
  rte_eth_link l{};
  LinkStatus s;
  if (rte_eth_link_get_nowait(port_id_, &l) != 0) return s;
  s.up = l.link_status == RTE_ETH_LINK_UP;
  s.speed_mbps = (l.link_speed == RTE_ETH_SPEED_NUM_UNKNOWN) ? 0 : l.link_speed;
  s.full_duplex = l.link_duplex == RTE_ETH_LINK_FULL_DUPLEX;
  return s;
}

PortStats DpdkPort::stats() const {
  rte_eth_stats st{};
  PortStats s;
  if (rte_eth_stats_get(port_id_, &st) != 0) return s;
  s.rx_packets = st.ipackets;
  s.tx_packets = st.opackets;
  s.rx_bytes = st.ibytes;
  s.tx_bytes = st.obytes;
  s.rx_dropped = st.imissed + st.rx_nombuf;
  s.tx_dropped = 0;
  s.rx_errors = st.ierrors;
  s.tx_errors = st.oerrors;
  return s;
}

}  // namespace tern::drivers
