/**
 * @file
 * Out-of-order segment queue: data from TCP input beyond RCV.NXT waits here
 * until the gap fills, then moves to the receive queue.
 */
#include "tern/tcp/ooo.hpp"

#include <algorithm>
#include <cstring>

namespace tern::tcp {

using wire::SeqNum;

OooPool::OooPool(uint32_t capacity) : nodes_(capacity) {
  free_.reserve(capacity);
  for (auto& n : nodes_) free_.push_back(&n);
}

OooNode* OooPool::get() noexcept {
  if (free_.empty()) return nullptr;
  OooNode* n = free_.back();
  free_.pop_back();
  return n;
}

void OooPool::put(OooNode* n) noexcept {
  n->data.reset();
  n->next = nullptr;
  n->last = nullptr;
  n->mem = 0;
  n->fin = false;
  free_.push_back(n);
}

SeqNum OooQueue::highest_end() const noexcept {
  const OooNode* n = head_;
  while (n != nullptr && n->next != nullptr) n = n->next;
  return n == nullptr ? SeqNum{} : n->seq + n->len;
}

void OooQueue::remove_after(OooNode* prev, OooNode* n, OooPool& pool) noexcept {
  if (prev == nullptr) {
    head_ = n->next;
  } else {
    prev->next = n->next;
  }
  bytes_ -= n->len;
  --count_;
  charge(n, -static_cast<int64_t>(n->mem));
  pool.put(n);
}

void OooQueue::charge(OooNode* n, int64_t delta) noexcept {
  n->mem = static_cast<uint32_t>(n->mem + delta);
  mem_ += static_cast<uint64_t>(delta);
  if (acct_ != nullptr) {
    acct_->used += static_cast<uint64_t>(delta);
    acct_->ooo += static_cast<uint64_t>(delta);
  }
}

namespace {
// A buffer whose bytes we may write: direct, private, not external.
bool writable(const rte_mbuf* m) noexcept {
  return RTE_MBUF_DIRECT(m) && rte_mbuf_refcnt_read(m) == 1 && !RTE_MBUF_HAS_EXTBUF(m);
}
// Small single-segment data, cheaper copied than chained as one more buffer.
bool small(const Packet& d) noexcept { return d.segments() == 1 && d.length() <= SegQueue::kCoalesceMax; }
}  // namespace

OooResult OooQueue::insert(SeqNum seq, Packet data, bool fin, OooPool& pool, uint32_t max_nodes) noexcept {
  uint32_t len = data ? data.length() : 0;
  SeqNum end = seq + len;
  // The last held segment starting at or before seq.
  OooNode* prev = nullptr;
  for (OooNode* n = head_; n != nullptr && n->seq <= seq; n = n->next) prev = n;
  if (prev != nullptr) {
    SeqNum pend = prev->seq + prev->len;
    if (pend >= end) {
      if (fin && pend == end && !prev->fin) {  // a FIN right after held data
        prev->fin = true;
        return OooResult::queued;
      }
      return OooResult::duplicate;
    }
    if (pend > seq) {  // overlap with held data: held data wins
      uint32_t cut = static_cast<uint32_t>(pend - seq);
      data.trim_front(cut);
      seq = pend;
      len -= cut;
    }
  }
  // Held segments the new one covers completely go; a partial one trims the new tail.
  OooNode* n = prev == nullptr ? head_ : prev->next;
  while (n != nullptr && n->seq < end) {
    SeqNum nend = n->seq + n->len;
    if (nend <= end) {
      OooNode* next = n->next;
      fin = fin || n->fin;
      remove_after(prev, n, pool);
      n = next;
      continue;
    }
    uint32_t cut = static_cast<uint32_t>(end - n->seq);
    data.trim_back(cut);
    len -= cut;
    end = n->seq;
    fin = false;  // data follows
    break;
  }
  if (len == 0 && !fin) return OooResult::duplicate;
  OooNode* next = prev == nullptr ? head_ : prev->next;
  last_seq_ = seq;
  // Contiguous with held data: extend that node instead of taking a node, so a
  // connection holds one node per hole whatever the window (and the SACK walk stays short).
  if (prev != nullptr && !prev->fin && prev->seq + prev->len == seq && len > 0 && append_to(prev, data)) {
    prev->len += len;
    prev->fin = fin;
    bytes_ += len;
    if (next != nullptr && !prev->fin && prev->seq + prev->len == next->seq) merge_next(prev, pool);
    return OooResult::queued;
  }
  if (next != nullptr && !fin && seq + len == next->seq && len > 0 && prepend_to(next, data)) {
    next->seq = seq;
    next->len += len;
    bytes_ += len;
    return OooResult::queued;
  }
  if (count_ >= max_nodes) return OooResult::dropped;
  OooNode* node = pool.get();
  if (node == nullptr) return OooResult::dropped;
  node->seq = seq;
  node->len = len;
  node->fin = fin;
  node->last = data ? rte_pktmbuf_lastseg(data.mbuf()) : nullptr;
  uint64_t ts = data ? data.truesize() : 0;
  node->data = std::move(data);
  charge(node, static_cast<int64_t>(ts));
  if (prev == nullptr) {
    node->next = head_;
    head_ = node;
  } else {
    node->next = prev->next;
    prev->next = node;
  }
  bytes_ += len;
  ++count_;
  return OooResult::queued;
}

// prev's data now ends where its successor's starts: one node for both.
void OooQueue::merge_next(OooNode* prev, OooPool& pool) noexcept {
  OooNode* next = prev->next;
  rte_mbuf* nlast = next->last;
  if (next->data && !prev->data.chain(std::move(next->data))) return;
  if (nlast != nullptr) prev->last = nlast;
  prev->mem += next->mem;  // the buffers change node, not owner: the account is unchanged
  next->mem = 0;
  prev->len += next->len;
  prev->fin = next->fin;
  next->len = 0;  // its bytes are prev's now: remove_after() must not uncount them
  remove_after(prev, next, pool);
}

// Add data (already trimmed to start at n's end) after n's data.
bool OooQueue::append_to(OooNode* n, Packet& data) noexcept {
  if (!data) return true;
  rte_mbuf* t = n->last;
  if (t != nullptr && small(data) && writable(t) && rte_pktmbuf_tailroom(t) >= data.length()) {
    std::memcpy(rte_pktmbuf_mtod_offset(t, uint8_t*, t->data_len), data.data(), data.length());
    t->data_len = static_cast<uint16_t>(t->data_len + data.length());
    n->data.mbuf()->pkt_len += data.length();
    buf_stats().copies++;
    buf_stats().copied_bytes += data.length();
    data.reset();
    return true;
  }
  rte_mbuf* last = rte_pktmbuf_lastseg(data.mbuf());
  uint64_t ts = data.truesize();
  if (!n->data) {
    n->data = std::move(data);
  } else if (!n->data.chain(std::move(data))) {
    return false;
  }
  n->last = last;
  charge(n, static_cast<int64_t>(ts));
  return true;
}

// Add data (ending where n's starts) in front of n's data.
bool OooQueue::prepend_to(OooNode* n, Packet& data) noexcept {
  if (!data) return true;
  if (n->data && small(data) && writable(n->data.mbuf()) && n->data.headroom() >= data.length()) {
    uint8_t* dst = n->data.prepend(static_cast<uint16_t>(data.length()));
    std::memcpy(dst, data.data(), data.length());
    buf_stats().copies++;
    buf_stats().copied_bytes += data.length();
    data.reset();
    return true;
  }
  uint64_t ts = data.truesize();
  if (!n->data) {
    n->last = rte_pktmbuf_lastseg(data.mbuf());
  } else if (!data.chain(std::move(n->data))) {
    return false;
  }
  n->data = std::move(data);
  charge(n, static_cast<int64_t>(ts));
  return true;
}

SeqNum OooQueue::highest_start() const noexcept {
  const OooNode* n = head_;
  while (n != nullptr && n->next != nullptr) n = n->next;
  return n == nullptr ? SeqNum{} : n->seq;
}

uint64_t OooQueue::prune_top(uint64_t need, OooPool& pool, SeqNum floor) noexcept {
  uint64_t freed = 0;
  while (head_ != nullptr && freed < need) {
    OooNode* prev = nullptr;
    OooNode* n = head_;
    while (n->next != nullptr) {
      prev = n;
      n = n->next;
    }
    if (!(n->seq > floor)) break;
    freed += n->mem;
    remove_after(prev, n, pool);
  }
  return freed;
}

uint64_t OooQueue::compact(rte_mempool* mp) noexcept {
  uint64_t saved = 0;
  for (OooNode* n = head_; n != nullptr; n = n->next) {
    if (!n->data || n->data.segments() < 2) continue;
    uint64_t s = n->data.compact(mp);
    n->last = rte_pktmbuf_lastseg(n->data.mbuf());
    charge(n, -static_cast<int64_t>(s));
    saved += s;
  }
  return saved;
}

bool OooQueue::pop_ready(SeqNum rcv_nxt, Packet& out, bool& fin, OooPool& pool) noexcept {
  while (head_ != nullptr && head_->seq <= rcv_nxt) {
    OooNode* n = head_;
    SeqNum nend = n->seq + n->len;
    if (nend < rcv_nxt || (nend == rcv_nxt && !n->fin)) {  // entirely old
      remove_after(nullptr, n, pool);
      continue;
    }
    uint32_t cut = static_cast<uint32_t>(rcv_nxt - n->seq);
    out = std::move(n->data);
    if (cut > 0 && out) out.trim_front(cut);
    fin = n->fin;
    remove_after(nullptr, n, pool);
    return true;
  }
  return false;
}

size_t OooQueue::sack_blocks(std::span<wire::SackBlock> out) const noexcept {
  // Merge contiguous held segments into blocks (at most 32 considered).
  wire::SackBlock blocks[32];
  size_t nb = 0;
  for (const OooNode* n = head_; n != nullptr; n = n->next) {
    if (n->len == 0) continue;
    if (nb > 0 && blocks[nb - 1].right == n->seq) {
      blocks[nb - 1].right = n->seq + n->len;
    } else if (nb < 32) {
      blocks[nb++] = wire::SackBlock{n->seq, n->seq + n->len};
    }
  }
  size_t w = 0;
  size_t recent = nb;
  for (size_t i = 0; i < nb; ++i) {
    if (wire::seq_between(blocks[i].left, last_seq_, blocks[i].right)) recent = i;
  }
  if (recent < nb && w < out.size()) out[w++] = blocks[recent];
  for (size_t i = nb; i-- > 0 && w < out.size();) {
    if (i != recent) out[w++] = blocks[i];
  }
  return w;
}

void OooQueue::clear(OooPool& pool) noexcept {
  while (head_ != nullptr) remove_after(nullptr, head_, pool);
  bytes_ = 0;
  count_ = 0;
}

}  // namespace tern::tcp
