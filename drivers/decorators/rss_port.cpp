/**
 * @file
 * RssPort (see rss_port.hpp): frames from the inner port's RX queue 0 are
 * hashed and queued per emulated queue; the core polling a queue takes them
 * from there. Transmit goes straight to the inner port's TX queue 0.
 */
#include "tern/drivers/rss_port.hpp"

#include <rte_byteorder.h>
#include <rte_errno.h>

#include <algorithm>
#include <cstdio>
#include <stdexcept>

#include "tern/wire/toeplitz.hpp"

namespace tern::drivers {

namespace {
constexpr uint16_t kEtherIpv4 = 0x0800;
constexpr uint8_t kProtoTcp = 6, kProtoUdp = 17;
}  // namespace

RssPort::RssPort(Port& inner, const RssOptions& opt) : inner_(inner), caps_(inner.caps()) {
  if (opt.queues == 0 || opt.queues > 64) throw std::invalid_argument("RssPort: queues must be 1..64");
  if (opt.reta_size == 0 || opt.reta_size > 512)
    throw std::invalid_argument("RssPort: reta_size must be 1..512");
  if (opt.ring_size < 2 || (opt.ring_size & (opt.ring_size - 1)) != 0) {
    throw std::invalid_argument("RssPort: ring_size must be a power of two");
  }
  caps_.rx_queues = caps_.tx_queues = opt.queues;
  caps_.rss = true;
  caps_.rss_key_size = static_cast<uint16_t>(key_.size());
  caps_.reta_size = opt.reta_size;
  std::copy(wire::kSymmetricRssKey.begin(), wire::kSymmetricRssKey.end(), key_.begin());
  reta_.resize(opt.reta_size);
  for (uint16_t i = 0; i < opt.reta_size; ++i) reta_[i] = static_cast<uint16_t>(i % opt.queues);
  for (uint16_t q = 0; q < opt.queues; ++q) {
    char name[RTE_RING_NAMESIZE];
    std::snprintf(name, sizeof name, "rss%p_%u", static_cast<void*>(this), q);
    // RING_F_EXACT_SZ: ring_size frames fit exactly. Producers are serialised by rx_busy_.
    rte_ring* r = rte_ring_create(name, opt.ring_size, SOCKET_ID_ANY, RING_F_SC_DEQ | RING_F_EXACT_SZ);
    if (r == nullptr) {
      for (rte_ring* done : rings_) rte_ring_free(done);
      throw std::runtime_error(std::string("RssPort: rte_ring_create: ") + rte_strerror(rte_errno));
    }
    rings_.push_back(r);
  }
}

RssPort::~RssPort() {
  for (rte_ring* r : rings_) {
    rte_mbuf* m = nullptr;
    while (rte_ring_dequeue(r, reinterpret_cast<void**>(&m)) == 0) rte_pktmbuf_free(m);
    rte_ring_free(r);
  }
}

bool RssPort::set_key(std::span<const uint8_t> key) {
  if (key.size() != key_.size()) return false;
  std::lock_guard<std::mutex> g(conf_mu_);
  std::copy(key.begin(), key.end(), key_.begin());
  return true;
}

bool RssPort::set_reta(std::span<const uint16_t> reta) {
  if (reta.size() != reta_.size()) return false;
  for (uint16_t q : reta) {
    if (q >= caps_.rx_queues) return false;
  }
  std::lock_guard<std::mutex> g(conf_mu_);
  std::copy(reta.begin(), reta.end(), reta_.begin());
  return true;
}

std::array<uint8_t, 40> RssPort::key() const {
  std::lock_guard<std::mutex> g(conf_mu_);
  return key_;
}

std::vector<uint16_t> RssPort::reta() const {
  std::lock_guard<std::mutex> g(conf_mu_);
  return reta_;
}

bool RssPort::rss_state(RssState& out) const {
  std::lock_guard<std::mutex> g(conf_mu_);
  out.key.assign(key_.begin(), key_.end());
  out.reta = reta_;
  out.l4 = true;
  return true;
}

RssStats RssPort::rss_stats() const {
  return RssStats{hashed_.load(std::memory_order_relaxed), unhashed_.load(std::memory_order_relaxed),
                  ring_full_.load(std::memory_order_relaxed)};
}

// Microsoft RSS: IPv4 frames hash source and destination address, and for TCP and UDP that are not
// fragments the ports too; everything else is not hashed. Reads the first segment only (a NIC
// parses headers from the start of the frame; the headers tern needs are always in it).
bool RssPort::hash(const rte_mbuf* m, uint32_t* out) const { return hash_with(key(), m, out); }

bool RssPort::hash_with(const std::array<uint8_t, 40>& key, const rte_mbuf* m, uint32_t* out) {
  const auto* p = rte_pktmbuf_mtod(m, const uint8_t*);
  const uint32_t len = m->data_len;
  if (len < 14 + 20 || ((p[12] << 8) | p[13]) != kEtherIpv4) return false;
  const uint8_t* ip = p + 14;
  const uint32_t ihl = (ip[0] & 0x0fu) * 4u;
  if ((ip[0] >> 4) != 4 || ihl < 20 || len < 14 + ihl) return false;
  const wire::Ipv4Addr src{(uint32_t{ip[12]} << 24) | (uint32_t{ip[13]} << 16) | (uint32_t{ip[14]} << 8) |
                           ip[15]};
  const wire::Ipv4Addr dst{(uint32_t{ip[16]} << 24) | (uint32_t{ip[17]} << 16) | (uint32_t{ip[18]} << 8) |
                           ip[19]};
  const bool fragment = ((ip[6] & 0x3fu) | ip[7]) != 0;  // MF set or an offset
  if (!fragment && (ip[9] == kProtoTcp || ip[9] == kProtoUdp) && len >= 14 + ihl + 4) {
    const uint8_t* l4 = ip + ihl;
    *out = wire::toeplitz_ipv4_l4(key, src, dst, static_cast<uint16_t>((l4[0] << 8) | l4[1]),
                                  static_cast<uint16_t>((l4[2] << 8) | l4[3]));
  } else {
    *out = wire::toeplitz_ipv4(key, src, dst);
  }
  return true;
}

// Pull what the inner port has and queue each frame for its emulated queue.
void RssPort::distribute() {
  std::array<uint8_t, 40> key;
  std::vector<uint16_t>& reta = reta_copy_;
  {
    std::lock_guard<std::mutex> g(conf_mu_);
    key = key_;
    reta = reta_;
  }
  rte_mbuf* burst[32];
  for (int round = 0; round < 4; ++round) {
    const uint16_t n = inner_.rx_burst(0, burst, 32);
    for (uint16_t i = 0; i < n; ++i) {
      rte_mbuf* m = burst[i];
      uint32_t h = 0;
      uint16_t q = 0;
      if (hash_with(key, m, &h)) {
        m->hash.rss = h;
        m->ol_flags |= RTE_MBUF_F_RX_RSS_HASH;
        q = reta[h % reta.size()];
        hashed_.fetch_add(1, std::memory_order_relaxed);
      } else {
        unhashed_.fetch_add(1, std::memory_order_relaxed);
      }
      if (rte_ring_enqueue(rings_[q], m) != 0) {
        ring_full_.fetch_add(1, std::memory_order_relaxed);
        rte_pktmbuf_free(m);
      }
    }
    if (n < 32) break;
  }
}

uint16_t RssPort::rx_burst(uint16_t queue, rte_mbuf** pkts, uint16_t n) {
  if (queue >= rings_.size() || n == 0) return 0;
  // A core never waits for another: if someone is distributing, take what is already queued.
  if (!rx_busy_.test_and_set(std::memory_order_acquire)) {
    distribute();
    rx_busy_.clear(std::memory_order_release);
  }
  return static_cast<uint16_t>(
      rte_ring_dequeue_burst(rings_[queue], reinterpret_cast<void**>(pkts), n, nullptr));
}

uint16_t RssPort::tx_burst(uint16_t queue, rte_mbuf** pkts, uint16_t n) {
  if (queue >= caps_.tx_queues) return 0;
  std::lock_guard<std::mutex> g(tx_mu_);
  return inner_.tx_burst(0, pkts, n);
}

}  // namespace tern::drivers
