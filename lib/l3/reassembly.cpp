/**
 * @file
 * IPv4 reassembly. Fragments arrive from Ipv4::input(); a complete datagram
 * goes back to it. See reassembly.hpp for the overlap policy.
 */
#include "tern/l3/reassembly.hpp"

#include <algorithm>
#include <cstring>

#include "tern/base/byteorder.hpp"
#include "tern/base/checksum.hpp"

namespace tern::l3 {

Reassembler::Reassembler(const ReassemblyParams& params, L3Stats& stats) : p_(params), stats_(stats) {
  if (p_.max_datagrams == 0) p_.max_datagrams = 1;
  if (p_.max_fragments == 0) p_.max_fragments = 1;
  slots_.resize(p_.max_datagrams);
  nodes_.resize(p_.max_fragments);
  free_nodes_.reserve(p_.max_fragments);
  for (uint32_t i = p_.max_fragments; i-- > 0;) free_nodes_.push_back(i);
}

Reassembler::~Reassembler() {
  for (auto& s : slots_) {
    if (s.in_use) release(s, L3Drop::reassembly_timeout);
  }
}

uint64_t Reassembler::truesize(const Packet& p) {
  uint64_t n = 0;
  for (const rte_mbuf* m = p.mbuf(); m != nullptr; m = m->next) n += m->buf_len;
  return n;
}

uint32_t Reassembler::alloc_node() {
  if (free_nodes_.empty()) return kNil;
  uint32_t n = free_nodes_.back();
  free_nodes_.pop_back();
  return n;
}

void Reassembler::free_node(uint32_t n) {
  Node& node = nodes_[n];
  bytes_ -= truesize(node.payload);
  node.payload.reset();
  node.next = kNil;
  free_nodes_.push_back(n);
}

void Reassembler::free_fragments(Slot& s, L3Drop why) {
  uint32_t dropped = 0;
  for (uint32_t n = s.head; n != kNil;) {
    uint32_t next = nodes_[n].next;
    free_node(n);
    ++dropped;
    n = next;
  }
  stats_.drop(why, dropped);
  s.head = kNil;
  s.nfrags = 0;
}

void Reassembler::release(Slot& s, L3Drop why) {
  free_fragments(s, why);
  s = Slot{};
  --active_;
}

// RFC 5722 §4 in spirit: the whole datagram goes, and so do its fragments not
// yet received. The slot keeps its key and first_ns, so the fragments still in
// flight are recognised and refused until expire() frees it at the timeout it
// would have had. Nothing of it remains to quote: no ICMP time exceeded then.
void Reassembler::discard(Slot& s) {
  free_fragments(s, L3Drop::fragment_conflict);
  s.discarded = true;
  s.header_len = 0;
  s.have_last = false;
  s.total = 0;
}

namespace {
// A read position in an mbuf chain: compares without copying (Packet::read would copy across segments).
struct Cursor {
  const rte_mbuf* m;
  uint32_t off;
  Cursor(const Packet& p, uint32_t at) : m(p.mbuf()), off(at) { settle(); }
  void settle() {
    while (m != nullptr && off >= m->data_len) {
      off -= m->data_len;
      m = m->next;
    }
  }
  uint32_t run() const { return m->data_len - off; }
  const uint8_t* ptr() const { return rte_pktmbuf_mtod_offset(m, const uint8_t*, off); }
  void advance(uint32_t n) {
    off += n;
    settle();
  }
};

bool same_bytes(const Packet& a, uint32_t a_off, const Packet& b, uint32_t b_off, uint32_t len) {
  Cursor x(a, a_off), y(b, b_off);
  while (len > 0) {
    if (x.m == nullptr || y.m == nullptr) return false;
    const uint32_t n = std::min({len, x.run(), y.run()});
    if (std::memcmp(x.ptr(), y.ptr(), n) != 0) return false;
    x.advance(n);
    y.advance(n);
    len -= n;
  }
  return true;
}
}  // namespace

// True when [off, end) of the new fragment (@p payload) disagrees with a held byte.
bool Reassembler::conflicts(const Slot& s, const Packet& payload, uint32_t off, uint32_t end) const {
  for (uint32_t n = s.head; n != kNil; n = nodes_[n].next) {
    const Node& h = nodes_[n];
    if (h.off >= end) break;  // sorted by offset, no overlaps among held fragments
    if (h.end <= off) continue;
    const uint32_t lo = std::max(off, h.off), hi = std::min(end, h.end);
    if (!same_bytes(h.payload, lo - h.off, payload, lo - off, hi - lo)) return true;
  }
  return false;
}

void Reassembler::evict_oldest(const Slot* keep) {
  Slot* oldest = nullptr;
  for (auto& s : slots_) {
    if (s.in_use && &s != keep && (oldest == nullptr || s.first_ns < oldest->first_ns)) oldest = &s;
  }
  if (oldest != nullptr) {
    ++stats_.reassembly_evicted;
    release(*oldest, L3Drop::reassembly_memory);
  }
}

Reassembler::Slot* Reassembler::find_or_create(const wire::Ipv4View& ip, uint64_t now) {
  Slot* free_slot = nullptr;
  // RFC 791 §3.2: fragments belong together when source, destination,
  // protocol and identification are equal.
  for (auto& s : slots_) {
    if (s.in_use) {
      if (s.src == ip.src().v && s.dst == ip.dst().v && s.id == ip.id() && s.proto == ip.protocol())
        return &s;
    } else if (free_slot == nullptr) {
      free_slot = &s;
    }
  }
  if (free_slot == nullptr) {
    evict_oldest(nullptr);
    for (auto& s : slots_) {
      if (!s.in_use) {
        free_slot = &s;
        break;
      }
    }
  }
  Slot& s = *free_slot;
  s = Slot{};
  s.in_use = true;
  s.src = ip.src().v;
  s.dst = ip.dst().v;
  s.id = ip.id();
  s.proto = ip.protocol();
  s.first_ns = now;
  ++active_;
  return &s;
}

// Insert [off, end) keeping the list sorted and free of overlaps: held data wins.
Reassembler::Insert Reassembler::insert(Slot& s, Packet payload, uint32_t off, uint32_t end) {
  uint32_t prev = kNil;
  uint32_t cur = s.head;
  while (cur != kNil && nodes_[cur].end <= off) {
    prev = cur;
    cur = nodes_[cur].next;
  }
  // cur is the first held fragment ending after off.
  if (cur != kNil && nodes_[cur].off <= off) {
    if (nodes_[cur].end >= end) return Insert::duplicate;
    uint32_t cut = nodes_[cur].end - off;
    payload.trim_front(cut);
    off += cut;
    prev = cur;
    cur = nodes_[cur].next;
  }
  // Held fragments inside [off, end) are covered by the new one: replace them.
  while (cur != kNil && nodes_[cur].end <= end) {
    uint32_t next = nodes_[cur].next;
    free_node(cur);
    --s.nfrags;
    cur = next;
  }
  if (cur != kNil && nodes_[cur].off < end) {
    payload.trim_back(end - nodes_[cur].off);
    end = nodes_[cur].off;
  }
  if (off >= end) return Insert::duplicate;
  uint32_t n = alloc_node();
  if (n == kNil) {
    if (prev == kNil)
      s.head = cur;
    else
      nodes_[prev].next = cur;
    return Insert::no_room;
  }
  bytes_ += truesize(payload);
  nodes_[n].payload = std::move(payload);
  nodes_[n].off = off;
  nodes_[n].end = end;
  nodes_[n].next = cur;
  if (prev == kNil)
    s.head = n;
  else
    nodes_[prev].next = n;
  ++s.nfrags;
  return Insert::added;
}

uint32_t Reassembler::max_end(const Slot& s) const {
  uint32_t end = 0;
  for (uint32_t n = s.head; n != kNil; n = nodes_[n].next) end = nodes_[n].end;
  return end;
}

bool Reassembler::complete(const Slot& s) const {
  if (!s.have_last || s.header_len == 0 || s.header_len + s.total > 65535) return false;
  uint32_t expect = 0;
  for (uint32_t n = s.head; n != kNil; n = nodes_[n].next) {
    if (nodes_[n].off != expect) return false;
    expect = nodes_[n].end;
  }
  return expect == s.total;
}

Packet Reassembler::assemble(Slot& s) {
  Packet out;
  bool failed = false;
  for (uint32_t n = s.head; n != kNil;) {
    uint32_t next = nodes_[n].next;
    Packet piece = std::move(nodes_[n].payload);
    bytes_ -= truesize(piece);
    nodes_[n].next = kNil;
    free_nodes_.push_back(n);
    if (!out && !failed) {
      out = std::move(piece);
    } else if (!failed && !out.chain(std::move(piece))) {
      out.reset();  // too many segments: give up on this datagram, free the rest
      failed = true;
      stats_.drop(L3Drop::bad_fragment);
    }
    n = next;
  }
  s.head = kNil;
  if (out) {
    uint8_t* h = out.push_header(s.header_len, out.mbuf()->pool);
    if (h == nullptr) {
      out.reset();
      stats_.drop(L3Drop::no_mbuf);
    } else {
      std::memcpy(h, s.header, s.header_len);
      store_be16(h + 2, static_cast<uint16_t>(s.header_len + s.total));
      store_be16(h + 6, 0);  // no MF, offset 0
      store_be16(h + 10, 0);
      store_be16(h + 10, internet_checksum({h, s.header_len}));
      ++stats_.reassembled;
    }
  }
  s = Slot{};
  --active_;
  return out;
}

Packet Reassembler::take_first(Slot& s) {
  if (s.head == kNil || nodes_[s.head].off != 0 || s.header_len == 0) return {};
  Node& n = nodes_[s.head];
  Packet p = n.payload.share(n.payload.mbuf()->pool);
  if (!p) return {};
  // Indirect mbufs have no headroom of their own: push_header puts the header in front then.
  uint8_t* h = p.push_header(s.header_len, n.payload.mbuf()->pool);
  if (h == nullptr) return {};
  std::memcpy(h, s.header, s.header_len);
  return p;
}

Packet Reassembler::add(Packet&& frag, const wire::Ipv4View& ip, uint64_t now) {
  ++stats_.rx_fragments;
  const uint32_t hlen = ip.header_length();
  const uint32_t off = ip.fragment_offset();
  const uint32_t len = ip.total_length() - hlen;
  const uint32_t end = off + len;
  // RFC 791 §3.1: every fragment but the last carries a multiple of 8 bytes.
  if ((ip.more_fragments() && (len == 0 || len % 8 != 0)) || end > 65535 - hlen) {
    stats_.drop(L3Drop::bad_fragment);
    return {};
  }
  Slot* s = find_or_create(ip, now);
  if (s->discarded) {  // a datagram whose overlapping fragments disagreed: nothing of it is kept
    stats_.drop(L3Drop::fragment_conflict);
    return {};
  }
  if (!ip.more_fragments()) {
    if ((s->have_last && s->total != end) || (s->head != kNil && end < max_end(*s))) {
      release(*s, L3Drop::bad_fragment);  // contradicting last fragment
      stats_.drop(L3Drop::bad_fragment);
      return {};
    }
    s->have_last = true;
    s->total = end;
  } else if (s->have_last && end > s->total) {
    release(*s, L3Drop::bad_fragment);
    stats_.drop(L3Drop::bad_fragment);
    return {};
  }
  // RFC 791: the whole datagram, with the first fragment's header, must fit 65535 bytes.
  if ((s->header_len != 0 && s->header_len + end > 65535) ||
      (off == 0 && s->have_last && hlen + s->total > 65535)) {
    release(*s, L3Drop::bad_fragment);
    stats_.drop(L3Drop::bad_fragment);
    return {};
  }
  if (off == 0 && s->header_len == 0) {
    std::memcpy(s->header, frag.data(), hlen);
    s->header_len = static_cast<uint8_t>(hlen);
  }
  frag.trim_front(hlen);
  // Overlapping bytes must agree (RFC 5722 in spirit, see reassembly.hpp): else nothing of it is kept.
  if (conflicts(*s, frag, off, end)) {
    discard(*s);
    stats_.drop(L3Drop::fragment_conflict);
    return {};
  }
  // Either cap full: older datagrams make room, so a flood cannot block reassembly until the
  // timeout (the fragment cap as much as the byte cap).
  while ((bytes_ + truesize(frag) > p_.max_bytes || free_nodes_.empty()) && active_ > 1) {
    uint32_t before = active_;
    evict_oldest(s);
    if (active_ == before) break;
  }
  if (bytes_ + truesize(frag) > p_.max_bytes) {
    stats_.drop(L3Drop::reassembly_memory);
    if (s->head == kNil) release(*s, L3Drop::reassembly_memory);
    return {};
  }
  if (Insert r = insert(*s, std::move(frag), off, end); r != Insert::added) {
    stats_.drop(r == Insert::duplicate ? L3Drop::duplicate_fragment : L3Drop::reassembly_memory);
    if (s->head == kNil) release(*s, L3Drop::bad_fragment);
    return {};
  }
  if (!complete(*s)) return {};
  return assemble(*s);
}

}  // namespace tern::l3
