#include "tern/buf/packet.hpp"

#include <rte_memory.h>

#include <algorithm>
#include <cstring>
#include <new>
#include <vector>



namespace tern {

BufStats& buf_stats() noexcept {
  static thread_local BufStats stats;
  return stats;
}

namespace {

void count_copy(size_t bytes) {
  BufStats& s = buf_stats();
  ++s.copies;
  s.copied_bytes += bytes;
}

// Move the packet-level metadata of a head mbuf onto the segment that
// becomes the new head when the old head is dropped.
void move_head_meta(const rte_mbuf* from, rte_mbuf* to) {
  to->port = from->port;
  to->ol_flags = (to->ol_flags & Packet::kAttachFlags) | (from->ol_flags & ~Packet::kAttachFlags);
  to->packet_type = from->packet_type;
  to->hash = from->hash;
  to->tx_offload = from->tx_offload;
  to->vlan_tci = from->vlan_tci;
  to->pkt_len = from->pkt_len - from->data_len;
  to->nb_segs = static_cast<uint16_t>(from->nb_segs - 1);
}

// Segment holding byte @p offset of the chain, with @p seg_off its offset inside.
const rte_mbuf* seek(const rte_mbuf* m, uint32_t offset, uint32_t& seg_off) {
  while (m != nullptr && offset >= m->data_len) {
    offset -= m->data_len;
    m = m->next;
  }
  seg_off = offset;
  return m;
}

}  // namespace

Packet Packet::alloc(rte_mempool* pool) noexcept {
  rte_mbuf* m = rte_pktmbuf_alloc(pool);
  if (m == nullptr) ++buf_stats().alloc_failures;
  return Packet(m);
}

Packet Packet::copy_from(rte_mempool* pool, std::span<const uint8_t> bytes) noexcept {
  Packet p = alloc(pool);
  if (!p) return p;
  size_t off = 0;
  while (off < bytes.size()) {
    rte_mbuf* last = rte_pktmbuf_lastseg(p.m_);
    uint16_t room = rte_pktmbuf_tailroom(last);
    if (room == 0) {
      room = static_cast<uint16_t>(rte_pktmbuf_data_room_size(pool));
    }
    uint16_t n = static_cast<uint16_t>(std::min<size_t>(room, bytes.size() - off));
    uint8_t* dst = p.append(n, pool);
    if (dst == nullptr) return Packet();
    std::memcpy(dst, bytes.data() + off, n);
    off += n;
  }
  count_copy(bytes.size());
  return p;
}

uint8_t* Packet::prepend(uint16_t n) noexcept {
  return reinterpret_cast<uint8_t*>(rte_pktmbuf_prepend(m_, n));
}

uint8_t* Packet::push_header(uint16_t n, rte_mempool* pool) noexcept {
  if (uint8_t* h = prepend(n); h != nullptr) return h;
  Packet head = alloc(pool);
  if (!head || head.append(n) == nullptr) return nullptr;
  head.copy_tx_offloads(*this);
  if (!head.chain(std::move(*this))) return nullptr;
  *this = std::move(head);
  return data();
}

bool Packet::trim_front(uint32_t n) noexcept {
  if (n > m_->pkt_len) return false;
  while (m_->next != nullptr && n >= m_->data_len) {
    rte_mbuf* old = m_;
    rte_mbuf* next = old->next;
    n -= old->data_len;
    move_head_meta(old, next);
    old->next = nullptr;
    old->nb_segs = 1;
    rte_pktmbuf_free_seg(old);
    m_ = next;
  }
  if (n > 0) {
    m_->data_off = static_cast<uint16_t>(m_->data_off + n);
    m_->data_len = static_cast<uint16_t>(m_->data_len - n);
    m_->pkt_len -= n;
  }
  return true;
}

bool Packet::trim_back(uint32_t n) noexcept {
  if (n > m_->pkt_len) return false;
  uint32_t new_len = m_->pkt_len - n;
  uint32_t before = 0;
  uint16_t segs = 1;
  rte_mbuf* s = m_;
  while (before + s->data_len < new_len) {
    before += s->data_len;
    s = s->next;
    ++segs;
  }
  s->data_len = static_cast<uint16_t>(new_len - before);
  if (s->next != nullptr) {
    rte_pktmbuf_free(s->next);
    s->next = nullptr;
  }
  m_->pkt_len = new_len;
  m_->nb_segs = segs;
  return true;
}

uint8_t* Packet::append(uint16_t n, rte_mempool* pool) noexcept {
  rte_mbuf* last = rte_pktmbuf_lastseg(m_);
  if (rte_pktmbuf_tailroom(last) >= n) {
    uint8_t* p = rte_pktmbuf_mtod_offset(last, uint8_t*, last->data_len);
    last->data_len = static_cast<uint16_t>(last->data_len + n);
    m_->pkt_len += n;
    return p;
  }
  if (pool == nullptr) return nullptr;
  rte_mbuf* seg = rte_pktmbuf_alloc(pool);
  if (seg == nullptr) {
    ++buf_stats().alloc_failures;
    return nullptr;
  }
  seg->data_off = 0;  // a continuation segment needs no headroom
  if (rte_pktmbuf_tailroom(seg) < n || m_->nb_segs == UINT16_MAX) {
    rte_pktmbuf_free(seg);
    return nullptr;
  }
  seg->data_len = n;
  last->next = seg;
  m_->nb_segs = static_cast<uint16_t>(m_->nb_segs + 1);
  m_->pkt_len += n;
  return rte_pktmbuf_mtod(seg, uint8_t*);
}

uint64_t chain_truesize(const rte_mbuf* m) noexcept {
  uint64_t n = 0;
  for (; m != nullptr; m = m->next) n += mbuf_truesize(m);
  return n;
}

namespace {
// Copy whole segments from *m on into the fresh mbuf n while they fit; frees them.
void fill_from(rte_mbuf* n, rte_mbuf*& m, uint64_t* saved) noexcept {
  uint16_t room = rte_pktmbuf_tailroom(n);
  uint8_t* dst = rte_pktmbuf_mtod(n, uint8_t*);
  uint32_t used = 0;
  while (m != nullptr && used + m->data_len <= room) {
    std::memcpy(dst + used, rte_pktmbuf_mtod(m, const uint8_t*), m->data_len);
    used += m->data_len;
    rte_mbuf* next = m->next;
    m->next = nullptr;
    *saved += mbuf_truesize(m);
    rte_pktmbuf_free_seg(m);
    m = next;
  }
  n->data_len = static_cast<uint16_t>(used);
  n->pkt_len = used;
  *saved -= mbuf_truesize(n);
  buf_stats().copies++;
  buf_stats().copied_bytes += used;
}
}  // namespace

rte_mbuf* compact_segments(rte_mbuf* head, rte_mempool* pool, rte_mbuf** tail, uint32_t* segs,
                           uint64_t* saved) noexcept {
  rte_mbuf* first = nullptr;
  rte_mbuf* last = nullptr;
  uint32_t count = 0;
  const uint32_t room = rte_pktmbuf_data_room_size(pool) - RTE_PKTMBUF_HEADROOM;
  rte_mbuf* m = head;
  bool dry = false;
  while (m != nullptr) {
    rte_mbuf* out = m;
    rte_mbuf* next = m->next;
    if (!dry && next != nullptr && uint32_t{m->data_len} + next->data_len <= room) {
      rte_mbuf* n = rte_pktmbuf_alloc(pool);
      if (n != nullptr) {
        fill_from(n, m, saved);  // advances m past what it copied
        out = n;
        next = m;
      } else {
        ++buf_stats().alloc_failures;
        dry = true;
      }
    }
    out->next = nullptr;
    if (last == nullptr) {
      first = out;
    } else {
      last->next = out;
    }
    last = out;
    ++count;
    m = next;
  }
  *tail = last;
  *segs = count;
  return first;
}

uint64_t Packet::compact(rte_mempool* pool) noexcept {
  if (m_ == nullptr || m_->nb_segs < 2) return 0;
  uint32_t len = m_->pkt_len;
  uint64_t ol = m_->ol_flags;
  rte_mbuf* tail = nullptr;
  uint32_t segs = 0;
  uint64_t saved = 0;
  m_ = compact_segments(m_, pool, &tail, &segs, &saved);
  m_->pkt_len = len;
  m_->nb_segs = static_cast<uint16_t>(segs);
  m_->ol_flags = (m_->ol_flags & kAttachFlags) | (ol & ~kAttachFlags);
  return saved;
}

bool Packet::chain(Packet&& tail) noexcept {
  if (!tail) return true;
  if (rte_pktmbuf_chain(m_, tail.m_) != 0) return false;
  tail.m_ = nullptr;
  return true;
}

size_t Packet::copy_out(uint32_t offset, std::span<uint8_t> out) const noexcept {
  uint32_t seg_off = 0;
  const rte_mbuf* s = seek(m_, offset, seg_off);
  size_t done = 0;
  while (s != nullptr && done < out.size()) {
    size_t n = std::min<size_t>(s->data_len - seg_off, out.size() - done);
    std::memcpy(out.data() + done, rte_pktmbuf_mtod_offset(s, const uint8_t*, seg_off), n);
    done += n;
    seg_off = 0;
    s = s->next;
  }
  count_copy(done);
  return done;
}

bool Packet::copy_in(uint32_t offset, std::span<const uint8_t> in) noexcept {
  if (uint64_t{offset} + in.size() > m_->pkt_len) return false;
  uint32_t seg_off = 0;
  rte_mbuf* s = const_cast<rte_mbuf*>(seek(m_, offset, seg_off));
  size_t done = 0;
  while (done < in.size()) {
    size_t n = std::min<size_t>(s->data_len - seg_off, in.size() - done);
    std::memcpy(rte_pktmbuf_mtod_offset(s, uint8_t*, seg_off), in.data() + done, n);
    done += n;
    seg_off = 0;
    s = s->next;
  }
  count_copy(done);
  return true;
}

const uint8_t* Packet::read(uint32_t offset, uint32_t len, uint8_t* scratch) const noexcept {
  if (uint64_t{offset} + len > m_->pkt_len) return nullptr;
  uint32_t seg_off = 0;
  const rte_mbuf* s = seek(m_, offset, seg_off);
  if (s != nullptr && seg_off + len <= s->data_len) {
    return rte_pktmbuf_mtod_offset(s, const uint8_t*, seg_off);
  }
  copy_out(offset, {scratch, len});
  return scratch;
}

uint8_t* Packet::pull_up(uint32_t len) noexcept {
  if (len > m_->pkt_len) return nullptr;
  if (len <= m_->data_len) return data();
  uint32_t need = len - m_->data_len;
  if (rte_pktmbuf_tailroom(m_) < need) return nullptr;
  uint8_t* dst = rte_pktmbuf_mtod_offset(m_, uint8_t*, m_->data_len);
  uint32_t moved = 0;
  while (moved < need) {
    rte_mbuf* s = m_->next;
    uint32_t n = std::min<uint32_t>(s->data_len, need - moved);
    std::memcpy(dst + moved, rte_pktmbuf_mtod(s, const uint8_t*), n);
    moved += n;
    s->data_off = static_cast<uint16_t>(s->data_off + n);
    s->data_len = static_cast<uint16_t>(s->data_len - n);
    if (s->data_len == 0) {
      m_->next = s->next;
      m_->nb_segs = static_cast<uint16_t>(m_->nb_segs - 1);
      s->next = nullptr;
      s->nb_segs = 1;
      rte_pktmbuf_free_seg(s);
    }
  }
  m_->data_len = static_cast<uint16_t>(m_->data_len + need);
  count_copy(need);
  return data();
}

bool Packet::linearize() noexcept {
  if (m_->nb_segs == 1) return true;
  uint32_t len = m_->pkt_len;
  if (rte_pktmbuf_linearize(m_) != 0) return false;
  ++buf_stats().linearizations;
  count_copy(len);
  return true;
}

Packet Packet::share(rte_mempool* clone_pool) const noexcept {
  rte_mbuf* c = rte_pktmbuf_clone(m_, clone_pool);
  if (c == nullptr) ++buf_stats().alloc_failures;
  return Packet(c);
}

RxCsum Packet::rx_l4_csum() const noexcept {
  switch (m_->ol_flags & RTE_MBUF_F_RX_L4_CKSUM_MASK) {
    case RTE_MBUF_F_RX_L4_CKSUM_GOOD:
    case RTE_MBUF_F_RX_L4_CKSUM_NONE:  // verified, field not filled (virtio)
      return RxCsum::good;
    case RTE_MBUF_F_RX_L4_CKSUM_BAD:
      return RxCsum::bad;
    default:
      return RxCsum::unknown;
  }
}

}  // namespace tern

namespace tern {

namespace {
// One external buffer's shared info and the application's callback.
struct ExternalBuffer {
  rte_mbuf_ext_shared_info shinfo{};
  Packet::ExternalFree done = nullptr;
  void* opaque = nullptr;
  void* addr = nullptr;
  size_t len = 0;
};

void external_freed(void* /*buf_addr*/, void* opaque) {
  auto* e = static_cast<ExternalBuffer*>(opaque);
  e->done(e->addr, e->len, e->opaque);
  delete e;
}
}  // namespace

Packet Packet::attach_external(rte_mempool* pool, void* addr, size_t len, ExternalFree done, void* opaque) noexcept {
  if (addr == nullptr || done == nullptr || len == 0 || len > (size_t{1} << 30)) return {};
  const size_t pieces = (len + kExternalPiece - 1) / kExternalPiece;
  if (pieces > RTE_MBUF_MAX_NB_SEGS) return {};
  auto* e = new (std::nothrow) ExternalBuffer;
  if (e == nullptr) return {};
  e->done = done;
  e->opaque = opaque;
  e->addr = addr;
  e->len = len;
  e->shinfo.free_cb = external_freed;
  e->shinfo.fcb_opaque = e;
  rte_mbuf_ext_refcnt_set(&e->shinfo, static_cast<uint16_t>(pieces));
  std::vector<rte_mbuf*> ms(pieces);
  if (rte_pktmbuf_alloc_bulk(pool, ms.data(), static_cast<unsigned>(pieces)) != 0) {
    ++buf_stats().alloc_failures;
    delete e;
    return {};
  }
  auto* base = static_cast<uint8_t*>(addr);
  for (size_t i = 0; i < pieces; ++i) {
    const size_t off = i * kExternalPiece;
    const uint16_t n = static_cast<uint16_t>(std::min<size_t>(kExternalPiece, len - off));
    rte_mbuf* m = ms[i];
    rte_pktmbuf_attach_extbuf(m, base + off, rte_mem_virt2iova(base + off), n, &e->shinfo);
    m->data_off = 0;
    m->data_len = n;
    if (i > 0) ms[i - 1]->next = m;
  }
  ms[0]->pkt_len = static_cast<uint32_t>(len);
  ms[0]->nb_segs = static_cast<uint16_t>(pieces);
  return Packet(ms[0]);
}

Packet Packet::split_segments(uint32_t limit) noexcept {
  if (m_ == nullptr) return {};
  uint32_t kept = m_->data_len;
  uint16_t segs = 1;
  rte_mbuf* last = m_;
  while (last->next != nullptr && kept < limit) {
    last = last->next;
    kept += last->data_len;
    ++segs;
  }
  rte_mbuf* rest = last->next;
  if (rest == nullptr) return {};
  last->next = nullptr;
  rest->pkt_len = m_->pkt_len - kept;
  rest->nb_segs = static_cast<uint16_t>(m_->nb_segs - segs);
  m_->pkt_len = kept;
  m_->nb_segs = segs;
  return Packet(rest);
}

}  // namespace tern
