/**
 * @file
 * Out-of-order segment queue: data from TCP input beyond RCV.NXT waits here
 * until the gap fills, then moves to the receive queue.
 */
#include "tern/tcp/ooo.hpp"

#include <algorithm>

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
  pool.put(n);
}

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
  // Contiguous with held data: extend that node's chain instead of taking a node, so a
  // connection holds one node per hole whatever the window (and the SACK walk stays short).
  if (prev != nullptr && !prev->fin && prev->seq + prev->len == seq && len > 0 && join(prev->data, data)) {
    prev->len += len;
    prev->fin = fin;
    bytes_ += len;
    if (next != nullptr && !prev->fin && prev->seq + prev->len == next->seq && join(prev->data, next->data)) {
      prev->len += next->len;
      prev->fin = next->fin;
      next->len = 0;
      remove_after(prev, next, pool);
    }
    return OooResult::queued;
  }
  if (next != nullptr && !fin && seq + len == next->seq && len > 0 && join(data, next->data)) {
    next->data = std::move(data);
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
  node->data = std::move(data);
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

bool OooQueue::join(Packet& front, Packet& back) noexcept {
  if (!back) return true;
  if (!front) {
    front = std::move(back);
    return true;
  }
  return front.chain(std::move(back));
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
