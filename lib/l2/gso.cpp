/**
 * @file
 * Software GSO (issue 11, docs/offloads.md): a TCP super-segment from
 * lib/tcp (one Ethernet + IPv4 + TCP header in front of up to 64 KiB of
 * payload, RTE_MBUF_F_TX_TCP_SEG with tso_segsz set) reaches
 * Interface::transmit_frame() on a port without TSO; here it is cut into
 * frames of tso_segsz payload, each with its own copy of the headers
 * (IPv4 total length, ID and checksum; TCP sequence number, flags and
 * checksum), and the frames go to the TxQueue.
 *
 * No payload byte is copied: a piece made of whole payload segments takes
 * those mbufs themselves; a segment split between pieces is shared through
 * an indirect mbuf for each earlier piece (rte_pktmbuf_attach, which also
 * takes a reference on an external buffer), and the last piece keeps it.
 * The transport checksum is computed once per frame in software, or left
 * to the NIC when it offers checksum offload without TSO.
 */
#include <rte_mbuf.h>

#include <algorithm>
#include <cstring>

#include "tern/base/byteorder.hpp"
#include "tern/base/checksum.hpp"
#include "tern/l2/interface.hpp"
#include "tern/wire/ethernet.hpp"

namespace tern::l2 {

namespace {

constexpr uint8_t kFin = 0x01, kPsh = 0x08, kCwr = 0x80;
constexpr uint32_t kMaxHeaders = wire::kEthernetHeaderLen + 60 + 60;

// The not-yet-assigned payload of the super-segment: a list of mbufs whose
// data_off/data_len always describe the bytes still to hand out.
struct Source {
  rte_mbuf* head = nullptr;

  // Move @p n payload bytes into a fresh chain: whole mbufs are moved, a split one is
  // shared. @return the chain's head (its tail in @p tail) or null when out of mbufs.
  rte_mbuf* take(uint32_t n, rte_mempool* pool, rte_mbuf** tail, uint16_t* segs) {
    rte_mbuf* first = nullptr;
    rte_mbuf* last = nullptr;
    *segs = 0;
    while (n > 0 && head != nullptr) {
      rte_mbuf* s = head;
      rte_mbuf* piece;
      if (s->data_len <= n) {  // the whole mbuf: move it
        head = s->next;
        s->next = nullptr;
        piece = s;
      } else {  // part of it: an indirect mbuf over the first n bytes, the rest stays
        piece = rte_pktmbuf_alloc(pool);
        if (piece == nullptr) {
          if (first != nullptr) rte_pktmbuf_free(first);
          return nullptr;
        }
        rte_pktmbuf_attach(piece, s);  // copies data_off and data_len of s
        piece->data_len = static_cast<uint16_t>(n);
        s->data_off = static_cast<uint16_t>(s->data_off + n);
        s->data_len = static_cast<uint16_t>(s->data_len - n);
      }
      n -= piece->data_len;
      if (first == nullptr) {
        first = piece;
      } else {
        last->next = piece;
      }
      last = piece;
      ++*segs;
    }
    *tail = last;
    return first;
  }
  void free_all() {
    while (head != nullptr) {
      rte_mbuf* next = head->next;
      head->next = nullptr;
      rte_pktmbuf_free_seg(head);
      head = next;
    }
  }
};

}  // namespace

void Interface::transmit_super(Packet&& frame) {
  if (!caps_.tso) {
    segment_and_send(std::move(frame));
    return;
  }
  ++stats_.tso_frames;
  queue_frame(std::move(frame));
}

void Interface::segment_and_send(Packet&& frame) {
  ++stats_.gso_frames;
  rte_mbuf* m = frame.mbuf();
  const uint16_t mss = m->tso_segsz;
  // The headers are in the head segment: lib/tcp built them there (eth + IPv4 + TCP).
  const uint8_t* d = frame.data();
  const uint32_t l2 = wire::kEthernetHeaderLen;
  const uint32_t l3 = frame.head_length() > l2 ? (d[l2] & 0x0fu) * 4u : 0;
  const uint32_t l4 = frame.head_length() >= l2 + l3 + 20 ? (d[l2 + l3 + 12] >> 4) * 4u : 0;
  const uint32_t hdr = l2 + l3 + l4;
  if (mss == 0 || l3 < 20 || l4 < 20 || hdr > frame.head_length() || hdr > kMaxHeaders ||
      frame.length() <= hdr) {
    ++stats_.gso_failed;
    stats_.drop(L2Drop::no_mbuf);
    return;  // not a super-segment tern built: dropped (frame freed)
  }
  uint8_t tmpl[kMaxHeaders];
  std::memcpy(tmpl, d, hdr);
  const bool ip_csum_hw = caps_.tx_ipv4_csum;
  const bool tcp_csum_hw = caps_.tx_tcp_csum;
  const bool trusted = p_.checksum == ChecksumMode::trusted;
  const uint64_t tx_flags = (ip_csum_hw ? RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IP_CKSUM : 0) |
                            (tcp_csum_hw ? RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_TCP_CKSUM : 0);

  // Split the head: its header bytes become the template, payload bytes in it (if any) lead the source.
  Source src;
  src.head = m->next;
  m->next = nullptr;
  if (m->data_len > hdr) {
    rte_mbuf* rest = rte_pktmbuf_alloc(pool_);
    if (rest == nullptr) {
      src.free_all();
      ++stats_.gso_failed;
      stats_.drop(L2Drop::no_mbuf);
      return;
    }
    rte_pktmbuf_attach(rest, m);
    rest->data_off = static_cast<uint16_t>(rest->data_off + hdr);
    rest->data_len = static_cast<uint16_t>(m->data_len - hdr);
    rest->next = src.head;
    src.head = rest;
  }
  const uint32_t payload = frame.length() - hdr;
  frame.reset();  // the head mbuf (headers only now) is no longer needed

  const uint32_t ip = l2, tcp = l2 + l3;
  const uint16_t id0 = load_be16(tmpl + ip + 4);
  const uint32_t seq0 = load_be32(tmpl + tcp + 4);
  const uint8_t flags0 = tmpl[tcp + 13];
  const uint32_t saddr = load_be32(tmpl + ip + 12), daddr = load_be32(tmpl + ip + 16);
  uint32_t k = 0;
  for (uint32_t off = 0; off < payload; off += mss, ++k) {
    const uint32_t n = std::min<uint32_t>(mss, payload - off);
    const bool last = off + n == payload;
    rte_mbuf* h = rte_pktmbuf_alloc(pool_);
    rte_mbuf* tail = nullptr;
    uint16_t segs = 0;
    rte_mbuf* body = h != nullptr ? src.take(n, pool_, &tail, &segs) : nullptr;
    if (body == nullptr || h->nb_segs + segs > RTE_MBUF_MAX_NB_SEGS) {
      if (h != nullptr) rte_pktmbuf_free(h);
      if (body != nullptr) rte_pktmbuf_free(body);
      src.free_all();
      ++stats_.gso_failed;
      stats_.drop(L2Drop::no_mbuf, (payload - off + mss - 1) / mss);
      return;  // TCP retransmits what did not go out
    }
    uint8_t* o = rte_pktmbuf_mtod(h, uint8_t*);
    std::memcpy(o, tmpl, hdr);
    h->data_len = static_cast<uint16_t>(hdr);
    h->next = body;
    h->nb_segs = static_cast<uint16_t>(1 + segs);
    h->pkt_len = hdr + n;
    // IPv4: this frame's length, the next ID (as a NIC's TSO does), the header checksum.
    store_be16(o + ip + 2, static_cast<uint16_t>(l3 + l4 + n));
    store_be16(o + ip + 4, static_cast<uint16_t>(id0 + k));
    store_be16(o + ip + 10, 0);
    if (!ip_csum_hw) store_be16(o + ip + 10, internet_checksum({o + ip, l3}));
    // TCP: sequence number; FIN and PSH only on the last frame, CWR only on the first (RFC 3168 §6.1.2).
    store_be32(o + tcp + 4, seq0 + off);
    uint8_t f = flags0;
    if (!last) f = static_cast<uint8_t>(f & ~(kFin | kPsh));
    if (k != 0) f = static_cast<uint8_t>(f & ~kCwr);
    o[tcp + 13] = f;
    ChecksumAccumulator acc;
    add_ipv4_pseudo_header(acc, saddr, daddr, 6, static_cast<uint16_t>(l4 + n));
    store_be16(o + tcp + 16, 0);
    if (trusted) {
      store_be16(o + tcp + 16, acc.sum16());  // the pseudo-header sum, as a partial checksum leaves it
      ++csum_.trusted_tx;
    } else if (tcp_csum_hw) {
      store_be16(o + tcp + 16, acc.sum16());  // the NIC adds header and payload
      ++csum_.offloaded;
    } else {
      acc.add(o + tcp, l4);
      for (const rte_mbuf* s = body; s != nullptr; s = s->next) {
        acc.add(rte_pktmbuf_mtod(s, const uint8_t*), s->data_len);
      }
      store_be16(o + tcp + 16, acc.finish());
      ++csum_.sw_computed;
    }
    h->ol_flags = tx_flags;
    h->l2_len = l2;
    h->l3_len = static_cast<uint16_t>(l3);
    h->l4_len = static_cast<uint16_t>(l4);
    ++stats_.gso_segments;
    queue_frame(Packet(h));
  }
  src.free_all();  // nothing is left unless the IPv4 length lied
}

}  // namespace tern::l2
