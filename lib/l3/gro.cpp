/**
 * @file
 * Software GRO: frames come from Core::receive() straight off the port's RX
 * burst; merged chains (and every frame left alone) go on to Interface::input()
 * and then IPv4 and TCP input, in their original order.
 */
#include "tern/l3/gro.hpp"

#include <algorithm>
#include <cstring>

#include "tern/base/byteorder.hpp"

namespace tern::l3 {

namespace {

constexpr uint32_t kEth = 14, kIp = 20;
constexpr uint8_t kFin = 0x01, kSyn = 0x02, kRst = 0x04, kPsh = 0x08, kAck = 0x10, kUrg = 0x20;
constexpr uint8_t kEce = 0x40, kCwr = 0x80;
constexpr int kFlows = 8;  // chains open at once in a burst; more flows are passed on unmerged

// A TCP/IPv4 frame as GRO sees it (headers in the first segment).
// (No member initializers: parse() sets every field, and a burst's chain table stays unwritten
// until a chain opens, so a burst without TCP data costs nothing here.)
struct Tcp4 {
  uint32_t saddr, daddr, ports;
  uint32_t seq, ack;
  uint16_t win;
  uint16_t ip_len;   // IPv4 total length
  uint32_t thl;      // TCP header bytes
  uint32_t payload;  // TCP payload bytes
  uint8_t flags;
  uint8_t tos;  // DSCP and ECN: a CE mark must survive the merge (RFC 3168), so only equals merge
  const uint8_t* opts;
};

constexpr uint16_t kMaxMbufs = 128;  // mbufs in one merged chain

// Parse an untagged Ethernet/IPv4/TCP frame. @return false for anything else (left alone).
bool parse(const rte_mbuf* m, Tcp4& t) noexcept {
  if (m->data_len < kEth + kIp + 20 || m->nb_segs > kMaxMbufs / 2) return false;
  const uint8_t* d = rte_pktmbuf_mtod(m, const uint8_t*);
  const uint8_t* ip = d + kEth;
  // Cheapest tests first: most frames that are not TCP data leave here.
  if (ip[9] != 6 || ip[0] != 0x45 || load_be16(d + 12) != 0x0800) return false;  // IPv4, no options, TCP
  if ((load_be16(ip + 6) & 0x3fff) != 0) return false;  // a fragment (MF or an offset)
  // Only a frame nobody else holds: a merge rewrites the head's headers and every member's
  // offsets and links. (A shared mbuf, e.g. a duplicate's or a sender's clone, is left alone.)
  if (!RTE_MBUF_DIRECT(m)) return false;
  for (const rte_mbuf* s = m; s != nullptr; s = s->next) {
    if (rte_mbuf_refcnt_read(s) != 1) return false;
  }
  t.ip_len = load_be16(ip + 2);
  if (t.ip_len < kIp + 20 || t.ip_len > m->pkt_len - kEth) return false;
  // Ethernet padding only in a one-segment frame (it is cut there).
  if (m->nb_segs > 1 && t.ip_len != m->pkt_len - kEth) return false;
  const uint8_t* tcp = ip + kIp;
  t.thl = (tcp[12] >> 4) * 4u;
  if (t.thl < 20 || kIp + t.thl > t.ip_len || kEth + kIp + t.thl > m->data_len) return false;
  t.tos = ip[1];
  t.saddr = load_be32(ip + 12);
  t.daddr = load_be32(ip + 16);
  t.ports = load_be32(tcp);
  t.seq = load_be32(tcp + 4);
  t.ack = load_be32(tcp + 8);
  t.flags = tcp[13];
  t.win = load_be16(tcp + 14);
  t.payload = t.ip_len - kIp - t.thl;
  t.opts = tcp + 20;
  return true;
}

bool mergeable(const Tcp4& t) noexcept {
  return t.payload > 0 && (t.flags & kAck) != 0 && (t.flags & (kFin | kSyn | kRst | kUrg | kEce | kCwr)) == 0;
}

// The segment's checksums, as the mode says (counted in @p cs).
bool verified(rte_mbuf* m, const Tcp4& t, ChecksumMode mode, ChecksumStats& cs) noexcept {
  if (mode == ChecksumMode::trusted) {
    ++cs.trusted_rx;
    return true;
  }
  const uint64_t f = m->ol_flags;
  if (mode == ChecksumMode::automatic) {
    const uint64_t l4 = f & RTE_MBUF_F_RX_L4_CKSUM_MASK;
    const uint64_t l3 = f & RTE_MBUF_F_RX_IP_CKSUM_MASK;
    if (l4 == RTE_MBUF_F_RX_L4_CKSUM_BAD || l3 == RTE_MBUF_F_RX_IP_CKSUM_BAD) return false;
    const bool l4_ok = l4 == RTE_MBUF_F_RX_L4_CKSUM_GOOD || l4 == RTE_MBUF_F_RX_L4_CKSUM_NONE;
    const bool l3_ok = l3 == RTE_MBUF_F_RX_IP_CKSUM_GOOD || l3 == RTE_MBUF_F_RX_IP_CKSUM_NONE;
    if (l4_ok && l3_ok) {
      ++cs.hw_verified;
      return true;
    }
  }
  const uint8_t* ip = rte_pktmbuf_mtod(m, const uint8_t*) + kEth;
  if (!checksum_valid20(ip)) return false;
  ++cs.sw_verified;
  ChecksumAccumulator acc;
  add_ipv4_pseudo_header(acc, t.saddr, t.daddr, 6, static_cast<uint16_t>(t.ip_len - kIp));
  uint32_t left = t.ip_len - kIp;  // the TCP segment, wherever its bytes are
  const uint32_t in_head = std::min<uint32_t>(left, m->data_len - kEth - kIp);
  acc.add(ip + kIp, in_head);
  left -= in_head;
  for (const rte_mbuf* s = m->next; s != nullptr && left > 0; s = s->next) {
    const uint32_t n = std::min<uint32_t>(left, s->data_len);
    acc.add(rte_pktmbuf_mtod(s, const uint8_t*), n);
    left -= n;
  }
  return left == 0 && acc.sum16() == 0xffff;
}

struct Chain {  // every field set when the chain opens (gro_burst)
  Tcp4 head;    // the first segment's header fields
  rte_mbuf* m;
  rte_mbuf* tail;
  uint32_t next_seq;
  uint32_t ip_len;  // merged IPv4 total length
  uint32_t segs;
  bool head_ok;      // the head's checksums were verified
  bool head_single;  // the head frame was one segment
  bool open;
};

bool same_flow(const Tcp4& a, const Tcp4& b) noexcept {
  return a.saddr == b.saddr && a.daddr == b.daddr && a.ports == b.ports;
}

bool joins(Chain& c, rte_mbuf* m, const Tcp4& t, ChecksumMode mode, ChecksumStats& cs) noexcept {
  if (!c.open || t.seq != c.next_seq || t.ack != c.head.ack || t.win != c.head.win || t.thl != c.head.thl ||
      t.tos != c.head.tos || std::memcmp(t.opts, c.head.opts, t.thl - 20) != 0 ||
      t.payload > c.head.payload || c.segs >= kGroMaxSegments || c.ip_len + t.payload > kGroMaxBytes ||
      c.m->nb_segs + m->nb_segs > kMaxMbufs) {
    return false;
  }
  if (!c.head_ok) {
    if (!verified(c.m, c.head, mode, cs)) {
      c.open = false;  // the stack drops it; nothing may join it
      return false;
    }
    c.head_ok = true;
  }
  return verified(m, t, mode, cs);
}

void append(Chain& c, rte_mbuf* m, const Tcp4& t) noexcept {
  const uint32_t hdr = kEth + kIp + t.thl;
  rte_mbuf* first = m;
  rte_mbuf* last = m;
  uint16_t segs = m->nb_segs;
  if (m->nb_segs == 1) {
    m->data_off = static_cast<uint16_t>(m->data_off + hdr);
    m->data_len = static_cast<uint16_t>(t.payload);  // also drops any Ethernet padding
  } else {
    while (last->next != nullptr) last = last->next;
    if (m->data_len == hdr) {  // a header-only head segment (as the pair driver delivers): freed
      first = m->next;
      m->next = nullptr;
      m->nb_segs = 1;
      rte_pktmbuf_free_seg(m);
      --segs;
    } else {
      m->data_off = static_cast<uint16_t>(m->data_off + hdr);
      m->data_len = static_cast<uint16_t>(m->data_len - hdr);
    }
  }
  c.tail->next = first;
  c.tail = last;
  c.m->nb_segs = static_cast<uint16_t>(c.m->nb_segs + segs);
  c.m->pkt_len += t.payload;
  c.ip_len += t.payload;
  c.next_seq += t.payload;
  ++c.segs;
  if ((t.flags & kPsh) != 0) {
    rte_pktmbuf_mtod(c.m, uint8_t*)[kEth + kIp + 13] |= kPsh;  // the chain carries the push
    c.open = false;
  }
  if (t.payload < c.head.payload) c.open = false;  // a short segment ends a run of full ones
}

void finish(Chain& c, GroStats& stats) noexcept {
  if (c.segs < 2) return;
  rte_mbuf* m = c.m;
  uint8_t* ip = rte_pktmbuf_mtod(m, uint8_t*) + kEth;
  if (c.head_single) {
    const uint16_t len = static_cast<uint16_t>(kEth + kIp + c.head.thl + c.head.payload);
    m->pkt_len -= m->data_len - len;  // the head's Ethernet padding (if any) goes
    m->data_len = len;
  }
  store_be16(ip + 2, static_cast<uint16_t>(c.ip_len));
  store_be16(ip + 10, 0);
  store_be16(ip + 10, internet_checksum({ip, kIp}));
  m->ol_flags = (m->ol_flags & ~(RTE_MBUF_F_RX_IP_CKSUM_MASK | RTE_MBUF_F_RX_L4_CKSUM_MASK)) |
                RTE_MBUF_F_RX_IP_CKSUM_GOOD | RTE_MBUF_F_RX_L4_CKSUM_GOOD | RTE_MBUF_F_RX_LRO;
  m->tso_segsz = c.head.payload;
  ++stats.chains;
  stats.merged += c.segs;
}

}  // namespace

uint16_t gro_burst(rte_mbuf** pkts, uint16_t n, ChecksumMode mode, GroStats& stats,
                   ChecksumStats& cs) noexcept {
  Chain chains[kFlows];
  int open = 0;
  uint16_t w = 0;
  for (uint16_t j = 0; j < n; ++j) {
    rte_mbuf* m = pkts[j];
    Tcp4 t;
    if (!parse(m, t)) {
      pkts[w++] = m;
      continue;
    }
    Chain* c = nullptr;
    for (int k = 0; k < open; ++k) {
      if (same_flow(chains[k].head, t)) c = &chains[k];
    }
    if (mergeable(t)) {
      if (c != nullptr && joins(*c, m, t, mode, cs)) {
        append(*c, m, t);
        continue;
      }
      if (c != nullptr) {
        c->open = false;
        finish(*c, stats);
        c->segs = 1;  // finished; reused below for the new head
      } else if (open < kFlows) {
        c = &chains[open++];
      }
      if (c != nullptr) {
        c->head = t;
        c->m = m;
        c->segs = 1;
        c->head_ok = false;
        c->open = true;
        c->head_single = m->nb_segs == 1;
        c->tail = rte_pktmbuf_lastseg(m);
        c->next_seq = t.seq + t.payload;
        c->ip_len = t.ip_len;
      }
      pkts[w++] = m;
      continue;
    }
    if (c != nullptr) c->open = false;  // another kind of segment of the flow: keep its order
    pkts[w++] = m;
  }
  for (int k = 0; k < open; ++k) finish(chains[k], stats);
  return w;
}

}  // namespace tern::l3
